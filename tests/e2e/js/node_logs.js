// Structured logs through the real @sentry/node (`enableLogs`). Usage: node node_logs.js DSN
//   one request-like trace: Sentry.logger.info/warn/error with attributes, and logger.fmt templates
"use strict";

const Sentry = require("@sentry/node");

const [dsn] = process.argv.slice(2);
Sentry.init({ dsn, release: "shop-node@2.0.0", environment: "e2e", enableLogs: true, shutdownTimeout: 30000 });

Sentry.setUser({ id: "node-7", email: "dora@example.com" });
Sentry.logger.info(Sentry.logger.fmt`Order ${1234} placed by ${"dora"}`, { "order.total": 19.99, express: true });
Sentry.logger.warn("Inventory low", { sku: "N-1", remaining: 2 });
Sentry.logger.error("Payment declined by node", { retry: 1, provider: "adyen" });

Sentry.flush(30000).then((flushed) => process.exit(flushed ? 0 : 3));
