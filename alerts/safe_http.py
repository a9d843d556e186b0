"""POSTs to webhook URLs, which are untrusted (anyone who can edit a rule chooses them).

* The host is resolved at send time and every address it resolves to must be public: loopback,
  private, link-local (cloud metadata, 169.254.169.254), shared, reserved, multicast and
  IPv4-mapped forms of them are refused, unless ALERT_WEBHOOK_ALLOW_PRIVATE is set (tests use it to
  reach a receiver on 127.0.0.1). The connection goes to the address that was checked, so a DNS
  answer that changes in between (rebinding) cannot redirect it.
* Redirects are never followed (a 3xx is a failed delivery that says so).
* Connect and read timeouts; at most MAX_RESPONSE_BYTES of the answer are read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_RESPONSE_BYTES = 64 * 1024
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0


class DeliveryError(Exception):
    """A delivery that failed; the message is shown in the alert history."""


class UnsafeDestination(DeliveryError):
    pass


@dataclass
class Reply:
    status: int
    body: bytes


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def checked_address(host: str, port: int) -> str:
    """The first address of `host` if every address it resolves to may be reached."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DeliveryError(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise DeliveryError(f"{host} has no address")
    if not settings.ALERTS["WEBHOOK_ALLOW_PRIVATE"]:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise UnsafeDestination(
                f"refused: {host} resolves to a non-public address ({refused[0]}); "
                "set ALERT_WEBHOOK_ALLOW_PRIVATE=true to allow"
            )
    return addresses[0]


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand, speaking TLS with the URL's host name if asked."""

    def __init__(self, address: str, host: str, port: int, tls: bool) -> None:
        super().__init__(host, port, timeout=READ_TIMEOUT)
        self._address, self._tls = address, tls

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), timeout=CONNECT_TIMEOUT)
        sock.settimeout(READ_TIMEOUT)
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def post(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError("only http and https URLs can be called")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    address = checked_address(parts.hostname, port)
    conn = _PinnedConnection(address, parts.hostname, port, tls)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        data = response.read(MAX_RESPONSE_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from exc
    finally:
        conn.close()
    if 300 <= response.status < 400:
        raise DeliveryError(f"HTTP {response.status}: redirects are not followed")
    if response.status >= 400:
        raise DeliveryError(f"HTTP {response.status}")
    return Reply(response.status, data)
