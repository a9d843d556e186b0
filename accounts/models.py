import hashlib
import secrets

from django.conf import settings
from django.db import models


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the Sentry-compatible API. Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=64, default="")
    created = models.DateTimeField(auto_now_add=True)

    @classmethod
    def issue(cls, user, label: str = "") -> tuple["ApiToken", str]:
        token = secrets.token_hex(32)
        return cls.objects.create(user=user, token_hash=hash_token(token), label=label), token
