"""First start on a fresh machine: an admin user, an organization and a project, created once."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from projects.models import Project
from projects.services import create_project


class Command(BaseCommand):
    help = "Create the first admin, organization and project (once); print login URL, credentials and DSN."

    def handle(self, *args, **options):
        User = get_user_model()
        credentials_file = settings.DATA_DIR / "initial-admin.txt"
        admin = User.objects.filter(is_superuser=True).order_by("id").first()
        if admin is None:
            username = os.environ.get("LIGHTTRACE_ADMIN_USER", "admin")
            password = os.environ.get("LIGHTTRACE_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            admin = User.objects.create_superuser(username=username, email="", password=password)
            # Printed this once; the owner-only file keeps it for whoever missed the output.
            credentials_file.write_text(f"{username}\n{password}\n")
            credentials_file.chmod(0o600)
            created = (username, password)
        else:
            created = None
        if not Project.objects.exists():
            create_project("default", "default", platform="python", owner=admin)
        project = Project.objects.order_by("id").first()
        key = project.keys.filter(is_active=True).order_by("id").first()
        self.stdout.write(f"LightTrace is at {settings.LIGHTTRACE_URL}/login/")
        if created is not None:
            username, password = created
            self.stdout.write(f"Admin user: {username}  password: {password}  (also in {credentials_file})")
        elif credentials_file.exists():
            self.stdout.write(
                f"Admin user: {admin.get_username()} (generated password in {credentials_file}; "
                "delete that file once you have changed it)"
            )
        else:
            self.stdout.write(f"Admin user: {admin.get_username()} (password set earlier)")
        if key is not None:
            self.stdout.write(f"DSN of {project.organization.slug}/{project.slug}: {key.dsn()}")
