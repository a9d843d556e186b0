// A small Node application using the real @sentry/node. Usage: node node_app.js DSN SCENARIO [ARG]
//   uncaught   - throws from processOrder() inside a setTimeout; the process dies (the SDK flushes first)
//   rejection  - chargeCard() returns a rejected promise nobody awaits; the SDK reports, then we flush
"use strict";

const Sentry = require("@sentry/node");

const [dsn, scenario, arg] = process.argv.slice(2);
Sentry.init({
  dsn,
  release: "shop-node@1.0.0",
  environment: "e2e",
  shutdownTimeout: 30000,
  debug: process.env.SENTRY_DEBUG === "1",
});

function processOrder(orderId) {
  throw new TypeError(`order ${orderId} has no items`);
}

async function chargeCard(cardId) {
  return Promise.reject(new Error(`card ${cardId} was declined`));
}

if (scenario === "uncaught") {
  setTimeout(() => processOrder(arg || 17), 10);
} else if (scenario === "rejection") {
  chargeCard(arg || 4242);
  // Node's unhandledRejection fires once the microtask queue drains; the SDK only warns (mode "warn"),
  // so the process lives on: flush explicitly, then leave with success.
  setTimeout(async () => {
    const flushed = await Sentry.flush(30000);
    process.exit(flushed ? 0 : 3);
  }, 50);
} else {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
