from django.core.management.base import BaseCommand

from issues.retention import BATCH_SIZE, run_cleanup


class Command(BaseCommand):
    help = (
        "Delete events past their project's retention or beyond its cap per issue, old attachments and "
        "expired issues without events, in small batches, and print how many of each went."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per DELETE")
        parser.add_argument(
            "--budget-seconds", type=float, default=None, help="stop after this long (default: until done)"
        )

    def handle(self, *args, **options):
        result = run_cleanup(batch_size=options["batch_size"], budget_seconds=options["budget_seconds"])
        self.stdout.write(f"expired_events {result.expired_events}")
        self.stdout.write(f"trimmed_events {result.trimmed_events}")
        self.stdout.write(f"attachments {result.attachments}")
        self.stdout.write(f"issues {result.issues}")
        self.stdout.write(f"payload_dictionaries {result.dictionaries}")
        if not result.finished:
            self.stdout.write("unfinished: the budget ran out, run again to continue")
