"""Login pages: Django's own, throttled (accounts/throttle.py)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views

from .throttle import throttled_login

login = throttled_login(auth_views.LoginView.as_view())
admin_login = throttled_login(admin.site.login)
