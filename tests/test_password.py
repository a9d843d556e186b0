"""Password change for a logged-in user, and password reset by mail through a real SMTP server
(aiosmtpd): the mail arrives, its link works once, the reset form is throttled, and without outgoing
mail the page says so instead of pretending."""

from __future__ import annotations

import email
import re
import socket
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from tests.factories import clear_cache_of_this_run

pytestmark = pytest.mark.django_db
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
NEW_PASSWORD = "violet-harbour-42-kettle"


class Inbox:
    """aiosmtpd handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    clear_cache_of_this_run()  # reset throttle counters of earlier tests
    try:
        with override_settings(
            EMAIL_BACKEND=SMTP_BACKEND, EMAIL_HOST="127.0.0.1", EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="",
            DEFAULT_FROM_EMAIL="lighttrace@example.test",
        ):  # fmt: skip
            yield inbox
    finally:
        controller.stop()


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", "alice@example.test", "old-password-alice")


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_password_reset_by_mail_end_to_end(client, smtp, alice):
    for _ in range(5):  # someone guessed: alice is locked out, and resetting her password lifts that
        Client().post("/login/", {"username": "alice", "password": "guess"})
    assert (
        Client().post("/login/", {"username": "alice", "password": "old-password-alice"}).status_code == 429
    )
    login_page = client.get("/login/").content.decode()
    assert 'href="/account/password/reset/"' in login_page
    response = client.post("/account/password/reset/", {"email": "alice@example.test"})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    assert "Check your mail" in client.get(response["Location"]).content.decode()

    ((sender, recipients, message),) = smtp.messages
    assert (sender, recipients) == ("lighttrace@example.test", ["alice@example.test"])
    assert message["Subject"] == "Reset your LightTrace password"
    body = _body(message)
    assert '"alice"' in body
    (link,) = re.findall(r"https?://\S+", body)
    # Built from LIGHTTRACE_URL, not from the request's Host header.
    assert link.startswith(settings.LIGHTTRACE_URL.rstrip("/") + "/account/password/reset/")
    path = link[len(settings.LIGHTTRACE_URL.rstrip("/")) :]

    # Django moves the token into the session and out of the address bar (no Referer leak).
    redirected = client.get(path)
    assert redirected.status_code == 302 and "set-password" in redirected["Location"]
    form_page = client.get(redirected["Location"]).content.decode()
    assert "Choose a new password" in form_page
    weak = client.post(redirected["Location"], {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and "too common" in weak.content.decode()
    done = client.post(redirected["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/account/password/reset/done/"

    assert Client().post("/login/", {"username": "alice", "password": NEW_PASSWORD}).status_code == 302
    assert (
        Client().post("/login/", {"username": "alice", "password": "old-password-alice"}).status_code == 200
    )
    # The link works once.
    reused = Client().get(path, follow=True).content.decode()
    assert "reset-invalid" in reused


def test_unknown_address_looks_the_same_and_sends_nothing(client, smtp, alice):
    response = client.post("/account/password/reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    assert smtp.messages == []


def test_the_reset_form_is_throttled_per_email_and_per_address(smtp, alice):
    client = Client(REMOTE_ADDR="10.14.0.1")
    answers = [
        client.post("/account/password/reset/", {"email": "alice@example.test"}).status_code for _ in range(4)
    ]
    assert answers == [302, 302, 302, 429]
    assert len(smtp.messages) == 3
    # Another address asking for other accounts: 10 requests an hour, whatever the accounts.
    sprayer = Client(REMOTE_ADDR="10.14.0.2")
    answers = [
        sprayer.post("/account/password/reset/", {"email": f"u{n}@example.test"}).status_code
        for n in range(11)
    ]
    assert answers == [302] * 10 + [429]


def test_without_outgoing_mail_the_page_says_so(client, alice):
    clear_cache_of_this_run()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        page = client.get("/account/password/reset/")
        assert page.status_code == 200 and "reset-unavailable" in page.content.decode()
        assert "<form" not in page.content.decode().split("<main>", 1)[1]
        refused = client.post("/account/password/reset/", {"email": "alice@example.test"})
        assert refused.status_code == 503 and "not configured outgoing mail" in refused.content.decode()


def test_a_mail_server_that_refuses_connections_is_logged_and_reveals_nothing(client, alice, caplog):
    clear_cache_of_this_run()
    with override_settings(EMAIL_BACKEND=SMTP_BACKEND, EMAIL_HOST="127.0.0.1", EMAIL_PORT=_free_port()):
        response = client.post("/account/password/reset/", {"email": "alice@example.test"})
    # The same answer as for an address without an account: otherwise a broken mail server would
    # tell who has one. The operator sees the failure in the log.
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    assert "Failed to send password reset email" in caplog.text


def test_password_change_checks_the_old_password_and_the_validators(alice):
    client, other_session = Client(), Client()
    client.force_login(alice)
    other_session.force_login(alice)
    home = client.get("/").content.decode()
    assert 'href="/account/"' in home  # the header's way to one's account, which links here
    assert 'href="/account/password/"' in client.get("/account/").content.decode()
    url = "/account/password/"
    wrong_old = client.post(
        url, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert wrong_old.status_code == 200 and "incorrect" in wrong_old.content.decode()
    similar = client.post(
        url, {"old_password": "old-password-alice", "new_password1": "alice", "new_password2": "alice"}
    )
    assert similar.status_code == 200 and "too short" in similar.content.decode()
    changed = client.post(
        url,
        {"old_password": "old-password-alice", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302 and changed["Location"] == "/account/password/changed/"
    assert client.get("/account/password/changed/").status_code == 200  # this session stays logged in
    assert other_session.get("/").status_code == 302  # the others are logged out
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_password_pages_need_login_and_csrf(alice):
    assert Client().get("/account/password/").status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    data = {
        "old_password": "old-password-alice",
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    assert strict.post("/account/password/", data).status_code == 403
    assert (
        Client(enforce_csrf_checks=True).post("/account/password/reset/", {"email": "a@b.c"}).status_code
        == 403
    )
