from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from projects.services import create_project


class Command(BaseCommand):
    help = "Create ORG (if absent) and PROJECT in it; prints the project's DSN as the last line."

    def add_arguments(self, parser):
        parser.add_argument("org")
        parser.add_argument("project")
        parser.add_argument("--platform", default="")
        parser.add_argument("--owner", default=None, help="username made owner of ORG and member of the team")

    def handle(self, *args, org, project, platform, owner, **options):
        owner_user = None
        if owner:
            try:
                owner_user = get_user_model().objects.get(username=owner)
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"no user named {owner!r}") from exc
        proj, key = create_project(org, project, platform=platform, owner=owner_user)
        self.stdout.write(f"Project {proj.organization.slug}/{proj.slug} (id {proj.id})")
        self.stdout.write(key.dsn())
