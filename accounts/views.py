"""Login pages (Django's own, throttled: accounts/throttle.py), password change for a logged-in
user, and password reset by mail (Django's views with our templates, throttled, and honest when
this installation has no outgoing mail)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from .throttle import forget_failures, reserve_reset, throttled_login

login = throttled_login(auth_views.LoginView.as_view())
admin_login = throttled_login(admin.site.login)
# Backends that do not deliver: a reset link "sent" with them would reach no one.
_UNDELIVERED = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


def mail_configured() -> bool:
    return settings.EMAIL_BACKEND not in _UNDELIVERED


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password-change-done")


class PasswordResetView(auth_views.PasswordResetView):
    """Links are built from LIGHTTRACE_URL, never from the request's Host header."""

    success_url = reverse_lazy("password-reset-sent")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def dispatch(self, request, *args, **kwargs):
        if not mail_configured():
            status = 503 if request.method == "POST" else 200
            return render(request, "registration/password_reset_unavailable.html", status=status)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        email = str(request.POST.get("email") or "")
        if not reserve_reset(email, request.META.get("REMOTE_ADDR", "")):
            return HttpResponse(
                "Too many password reset requests. Try again in an hour.",
                status=429,
                content_type="text/plain",
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # A mail that cannot be sent (server down) is logged by Django's form and the answer stays
        # "check your mail": saying otherwise only for existing accounts would tell who has one.
        self.extra_email_context = {"base_url": settings.LIGHTTRACE_URL.rstrip("/")}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        forget_failures(form.user.get_username())
        return response
