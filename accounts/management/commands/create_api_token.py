from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import SCOPES, ApiToken


class Command(BaseCommand):
    help = "Print a new API token for USER (created as a superuser if absent) as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--scopes",
            default="",
            help="comma-separated Sentry scopes, e.g. project:releases,org:read (default: all of them)",
        )

    def handle(self, *args, username, scopes="", **options):
        wanted = [s.strip() for s in scopes.split(",") if s.strip()] or None
        unknown = sorted(set(wanted or ()) - set(SCOPES))
        if unknown:
            raise CommandError(f"unknown scopes: {', '.join(unknown)} (known: {', '.join(SCOPES)})")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_superuser(username=username, email="", password=None)
            self.stdout.write(f"Created superuser {username} (no password; set one with changepassword)")
        _, token = ApiToken.issue(user, label="cli", scopes=wanted)
        self.stdout.write(token)
