"""Account pages under /account/ (password pages live in accounts/urls.py, next to them)."""

from django.urls import path

from . import pages

urlpatterns = [
    path("", pages.account, name="account"),
    path("tokens/", pages.tokens, name="account-tokens"),
    path("tokens/<int:token_id>/revoke/", pages.token_revoke, name="account-token-revoke"),
]
