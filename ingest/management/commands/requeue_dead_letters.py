from django.core.management.base import BaseCommand

from ingest.dead_letters import count, requeue


class Command(BaseCommand):
    help = "Put the envelopes kept as dead letters back into the ingest buffer (all, or the ids given)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="dead letter ids (default: all)")
        parser.add_argument("--list", action="store_true", help="only list them: id, time, project, error")

    def handle(self, *args, **options):
        if options["list"]:
            return self._list()
        done = requeue(options["ids"] or None)
        self.stdout.write(f"requeued {done} dead letters; {count()} left")

    def _list(self):
        from ingest.models import DeadLetter

        for letter in DeadLetter.objects.order_by("id").defer("payload", "traceback"):
            self.stdout.write(
                f"{letter.id}\t{letter.created:%Y-%m-%d %H:%M:%S}\t{letter.project_id}\t{letter.error}"
            )
