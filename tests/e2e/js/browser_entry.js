// Bundled once per test run by esbuild (tests/e2e/test_browser_sdk.py) into an IIFE that a page served
// from another origin than LightTrace loads: the real @sentry/browser, plus a little "shop" that fails.
import * as Sentry from "@sentry/browser";

function submitPayment(amount) {
  throw new RangeError(`payment of ${amount} exceeds the limit`);
}

function onPayClicked() {
  submitPayment(120);
}

function payLater(amount) {
  setTimeout(() => submitPayment(amount), 0);
}

window.Sentry = Sentry;
window.shop = { onPayClicked, payLater };
