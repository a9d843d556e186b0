// User feedback with the real @sentry/node. Usage: node node_feedback.js DSN
// An error, then captureFeedback() about it (associatedEventId), then feedback about no error;
// prints the error's event id and the standalone feedback's id, one per line.
"use strict";

const Sentry = require("@sentry/node");

const [dsn] = process.argv.slice(2);
Sentry.init({ dsn, release: "shop-node@1.0.0", environment: "e2e", debug: process.env.SENTRY_DEBUG === "1" });

async function main() {
  const errorId = Sentry.captureException(new Error("checkout page crashed"));
  await Sentry.flush(30000);
  Sentry.captureFeedback({
    message: 'The page froze after I clicked Pay. <script>alert("x")</script> password=hunter2',
    name: "Jane",
    email: "jane@example.com",
    url: "https://shop.example.com/checkout",
    associatedEventId: errorId,
  });
  const standaloneId = Sentry.captureFeedback({ message: "Love the new checkout", name: "Sam" });
  const flushed = await Sentry.flush(30000);
  console.log(errorId);
  console.log(standaloneId);
  process.exit(flushed ? 0 : 3);
}

main();
