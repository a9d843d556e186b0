"""Login throttling for every login form (the product's and the Django admin's), and the throttle of
the password reset form (at the end).

An attempt is counted *before* the password is checked, with one atomic increment per counter, so
40 parallel guesses cannot test more passwords than the limit allows. Two counters per attempt:

* per username: MAX_FAILURES_PER_USER failed logins lock that username for LOCKOUT_SECONDS;
* per address: MAX_FAILURES_PER_ADDRESS, much higher, so that one user's typos behind a shared proxy
  do not lock out colleagues, while an address that sprays many usernames is still stopped.

A login that succeeds gives its attempt back (the username counter is reset, the address one
decremented). Counters live in Django's cache: Redis in production (shared by every web process),
process memory in the embedded default (one web process).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 50
LOCKOUT_SECONDS = 15 * 60


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def counter_keys(username: str, address: str) -> tuple[str, str]:
    return (
        f"login-attempts:user:{_digest(username.strip().lower())}",
        f"login-attempts:addr:{_digest(address)}",
    )


def _count(key: str, window: int = LOCKOUT_SECONDS) -> int:
    cache.add(key, 0, window)  # the window starts with the first attempt
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def reserve_attempt(username: str, address: str) -> bool:
    """Counts one attempt; False when the username or the address has used up its attempts."""
    user_key, address_key = counter_keys(username, address)
    user_count = _count(user_key)
    address_count = _count(address_key)
    return user_count <= MAX_FAILURES_PER_USER and address_count <= MAX_FAILURES_PER_ADDRESS


def release_attempt(username: str, address: str) -> None:
    """The attempt succeeded: it does not count as a failure."""
    user_key, address_key = counter_keys(username, address)
    cache.delete(user_key)
    try:
        cache.decr(address_key)
    except ValueError:  # the window ended meanwhile
        pass


def forget_failures(username: str) -> None:
    """The password was just reset by mail: its owner is not locked out by earlier guesses."""
    cache.delete(counter_keys(username, "")[0])


# Password reset mails: each costs a mail sent to someone else's inbox, so an address may ask a few
# times an hour for one account and not much more for all accounts together. Counted whether or not
# the address belongs to a user, so the answers say nothing about which ones do.
MAX_RESETS_PER_EMAIL = 3
MAX_RESETS_PER_ADDRESS = 10
RESET_WINDOW_SECONDS = 60 * 60


def reserve_reset(email: str, address: str) -> bool:
    """Counts one reset request; False when the email or the address has used up its requests."""
    email_count = _count(f"password-reset:email:{_digest(email.strip().lower())}", RESET_WINDOW_SECONDS)
    address_count = _count(f"password-reset:addr:{_digest(address)}", RESET_WINDOW_SECONDS)
    return email_count <= MAX_RESETS_PER_EMAIL and address_count <= MAX_RESETS_PER_ADDRESS


def _locked_out() -> HttpResponse:
    response = HttpResponse(
        "Too many failed logins. Try again in 15 minutes.", status=429, content_type="text/plain"
    )
    response["Retry-After"] = str(LOCKOUT_SECONDS)
    return response


def throttled_login(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps a login view whose successful POST answers with a redirect (Django's LoginView and the
    admin's login both do; a failed one shows the form again)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        username = str(request.POST.get("username") or "")
        address = request.META.get("REMOTE_ADDR", "")
        if not reserve_attempt(username, address):
            return _locked_out()
        response = view(request, *args, **kwargs)
        if response.status_code in (301, 302, 303) and request.user.is_authenticated:
            release_attempt(username, address)
        return response

    return wrapper
