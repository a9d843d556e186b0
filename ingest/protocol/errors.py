"""Exceptions raised by the pure protocol layer.

The HTTP endpoint maps every :class:`ProtocolError` to a response with status
``exc.status`` and body ``{"detail": exc.reason}``. SDKs never retry a 4xx, so
the reason is for humans reading logs / client reports, not for machines.
"""

from __future__ import annotations


class ProtocolError(Exception):
    status: int = 400

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, status={self.status})"


class BadRequest(ProtocolError):
    status = 400


class AuthError(ProtocolError):
    status = 401


class PayloadTooLarge(ProtocolError):
    status = 413


class UnsupportedEncoding(ProtocolError):
    status = 415
