"""The `apprise` action: one URL reaches the long tail of services (Telegram, Pushover, PagerDuty,
Opsgenie, ntfy, Gotify, a JSON endpoint) through the apprise library, under the webhook safety rules.

apprise makes its own HTTP calls (requests), so the rules are kept around it, not inside it:

* Only the services in rules.APPRISE_SCHEMES. Those with a fixed vendor host (Telegram, Pushover,
  PagerDuty, Opsgenie, ntfy.sh) always; self-hosted targets (json://, a ntfy or Gotify host of your
  own) only with ALERT_APPRISE_SELF_HOSTED=true, because apprise reads their answers whole (no
  response size cap, unlike alerts/safe_http.py).
* Every TCP connection opened while apprise sends for us is checked when it is opened: urllib3's
  create_connection is wrapped (once, and a no-op outside a send) to resolve the host, refuse it
  unless every address is public (safe_http.checked_address: ALERT_WEBHOOK_ALLOW_PRIVATE allows
  private ones) and connect to the checked address. A redirect's target or a DNS answer that changes
  after validation therefore cannot reach a private or metadata address; redirects are off anyway.
* Connect and read timeouts as for webhooks.
* Event content goes in as plain text (body_format TEXT): apprise escapes it for each service's
  format (HTML for Telegram, Markdown where asked for).

apprise is imported here only, when a notification is sent: the web process never loads it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings

from . import rules, safe_http

_local = threading.local()
_installed = threading.Lock()
_GUARD_FLAG = "_lighttrace_guarded"


def send(url: str, title: str, body: str) -> None:
    """Sends one notification; DeliveryError (UnsafeDestination for a refused address) if not sent."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise safe_http.DeliveryError("apprise cannot use this URL")
    check_target(plugin)
    plugin.redirects = False
    plugin.socket_connect_timeout = safe_http.CONNECT_TIMEOUT
    plugin.socket_read_timeout = safe_http.READ_TIMEOUT
    _install_guard()
    _local.active, _local.refused = True, None
    try:
        with apprise.LogCapture(level=logging.WARNING) as logs:
            sent = plugin.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
    finally:
        _local.active = False
    if _local.refused:
        raise safe_http.UnsafeDestination(_local.refused)
    if not sent:
        raise safe_http.DeliveryError(f"apprise: {_last_line(logs.getvalue())}"[:300])


def check_target(plugin: Any) -> None:
    """Refuses services outside the allow-list, and self-hosted targets unless they are allowed."""
    scheme = str(getattr(plugin, "protocol", "") or "")
    secure = str(getattr(plugin, "secure_protocol", "") or "")
    if not ({scheme, secure} & set(rules.APPRISE_SCHEMES)):
        raise safe_http.UnsafeDestination(f"refused: apprise service {scheme or secure!r} is not offered")
    if is_self_hosted(plugin) and not settings.ALERTS["APPRISE_SELF_HOSTED"]:
        raise safe_http.UnsafeDestination(
            "refused: a self-hosted apprise target; set ALERT_APPRISE_SELF_HOSTED=true to allow"
        )


def is_self_hosted(plugin: Any) -> bool:
    """True when the URL names the host to call (json://, ntfy://HOST/topic, gotify://HOST/...)."""
    scheme = {str(getattr(plugin, "protocol", "")), str(getattr(plugin, "secure_protocol", ""))}
    if scheme & {"ntfy", "ntfys"}:
        return getattr(plugin, "mode", "") != "cloud"
    return bool(scheme & set(rules.APPRISE_SELF_HOSTED))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "not delivered"


def _install_guard() -> None:
    """Wraps urllib3's create_connection once per process; the wrapper checks only during send()."""
    from urllib3.util import connection

    with _installed:
        if getattr(connection.create_connection, _GUARD_FLAG, False):
            return
        original = connection.create_connection

        def guarded(address, *args, **kwargs):
            if not getattr(_local, "active", False):
                return original(address, *args, **kwargs)
            host, port = address
            try:
                checked = safe_http.checked_address(host, int(port))
            except safe_http.UnsafeDestination as exc:
                _local.refused = str(exc)
                raise OSError(str(exc)) from exc
            return original((checked, port), *args, **kwargs)

        setattr(guarded, _GUARD_FLAG, True)
        connection.create_connection = guarded
