from django.db import models


class BufferedEnvelope(models.Model):
    """An accepted envelope waiting for a worker, when no Redis server is configured (embedded default).

    The row is deleted once its events are stored; SQLite's secure_delete overwrites the freed pages,
    so no unscrubbed payload stays recoverable under DATA_DIR.
    """

    payload = models.BinaryField()
    claimed_at = models.FloatField(null=True, blank=True, db_index=True)
    # host-pid-thread of the worker holding the claim: it retries its own claims first, and a worker
    # on the same host takes over at once the claims of a process that no longer exists.
    claimed_by = models.CharField(max_length=200, blank=True, default="")


class QuotaCounter(models.Model):
    """A quota or rate-limit counter, when no Redis server is configured."""

    key = models.CharField(max_length=200, unique=True)
    value = models.BigIntegerField(default=0)
    expires_at = models.FloatField(db_index=True)
