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


class DeadLetter(models.Model):
    """A buffered envelope that failed to store on its own with an error that is not an outage (a bug, a
    value the database refuses): kept here, raw, instead of holding back every entry behind it, until
    an operator re-feeds it (`manage.py requeue_dead_letters`). README, "Operations"."""

    payload = models.BinaryField()
    # Decoded from the payload when possible, for the operator: no foreign key, as the project may go.
    project_id = models.BigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500)  # "ValueError: message", truncated
    traceback = models.TextField(blank=True, default="")  # its last lines, to find the bug
    created = models.DateTimeField(auto_now_add=True, db_index=True)
