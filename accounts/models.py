import hashlib
import secrets

from django.conf import settings
from django.db import models

# Sentry's token scopes. A token acts for its user and never beyond the user's memberships; scopes
# narrow it further (a CI token with only project:releases can upload source maps and nothing else).
SCOPES = (
    "org:read", "org:write", "org:admin", "org:ci",
    "project:read", "project:write", "project:admin", "project:releases",
    "team:read", "team:write", "team:admin",
    "member:read", "member:write", "member:admin",
    "event:read", "event:write", "event:admin",
)  # fmt: skip


def all_scopes() -> list[str]:
    return list(SCOPES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the Sentry-compatible API. Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=64, default="")
    created = models.DateTimeField(auto_now_add=True)
    scopes = models.JSONField(default=all_scopes)

    @classmethod
    def issue(cls, user, label: str = "", scopes: list[str] | None = None) -> tuple["ApiToken", str]:
        token = secrets.token_hex(32)
        found = cls.objects.create(
            user=user,
            token_hash=hash_token(token),
            label=label,
            scopes=all_scopes() if scopes is None else scopes,
        )
        return found, token

    def has_any_scope(self, wanted: set[str]) -> bool:
        return bool(wanted.intersection(self.scopes or ()))
