from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Print a new API token for USER (created as a superuser if absent) as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_superuser(username=username, email="", password=None)
            self.stdout.write(f"Created superuser {username} (no password; set one with changepassword)")
        _, token = ApiToken.issue(user, label="cli")
        self.stdout.write(token)
