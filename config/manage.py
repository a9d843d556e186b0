"""Django's command line for an installed LightTrace: ``lighttrace CMD`` or ``python -m config.manage CMD``.

In a checkout, ``python manage.py CMD`` (the operator interface the README documents) calls this too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv if argv is not None else sys.argv)


if __name__ == "__main__":
    main()
