"""The protocol layer is pure Python: these tests need no database and no Django."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Overrides the suite-wide autouse fixture of the same name, which imports
    # Django-backed modules; nothing here touches those caches.
    yield
