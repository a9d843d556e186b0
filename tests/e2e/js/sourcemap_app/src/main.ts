import * as Sentry from "@sentry/browser";

import { submitOrder } from "./checkout";

export function onCheckoutClicked(): void {
  submitOrder({ items: [40, 80], currency: "EUR" });
}

const params = new URLSearchParams(location.search);
Sentry.init({
  dsn: params.get("dsn") ?? undefined,
  release: params.get("release") ?? undefined,
  dist: params.get("dist") ?? undefined,
});
(window as unknown as { Sentry: typeof Sentry }).Sentry = Sentry;
(window as unknown as { shopApp: object }).shopApp = { onCheckoutClicked };
