"""Login with throttling: repeated failures for one username or from one address lock it out for a while."""

from __future__ import annotations

import hashlib

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse

MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60


def _keys(request) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    digest = lambda value: hashlib.sha256(value.encode()).hexdigest()[:32]  # noqa: E731
    return [f"login-fail:user:{digest(username)}", f"login-fail:addr:{digest(address)}"]


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        keys = _keys(request)
        if any((cache.get(key) or 0) >= MAX_FAILURES for key in keys):
            response = HttpResponse(
                "Too many failed logins. Try again in 15 minutes.", status=429, content_type="text/plain"
            )
            response["Retry-After"] = str(LOCKOUT_SECONDS)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key in _keys(self.request):
            cache.add(key, 0, LOCKOUT_SECONDS)
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, LOCKOUT_SECONDS)
        return super().form_invalid(form)

    def form_valid(self, form):
        cache.delete(_keys(self.request)[0])
        return super().form_valid(form)
