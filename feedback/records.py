"""A user report as the worker hands it to the store: checked, scrubbed and cut to size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PreparedReport:
    event_id: str  # 32 lowercase hex: the event the report speaks of
    name: str
    email: str
    comments: str
    date_added: datetime  # when the envelope was received: the same again on a redelivery
