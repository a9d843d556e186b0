from django.core.management.base import BaseCommand

from ingest.buffer import get_buffer
from ingest.dead_letters import count


class Command(BaseCommand):
    help = "Print how many envelopes wait for workers and how old the oldest one is."

    def handle(self, *args, **options):
        buffer = get_buffer()
        self.stdout.write(f"queue_depth {buffer.depth()}")
        self.stdout.write(f"queue_lag_seconds {buffer.oldest_age():.3f}")
        self.stdout.write(f"dead_letters {count()}")
