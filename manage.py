#!/usr/bin/env python
"""``python manage.py CMD`` in a checkout; an installed LightTrace has ``lighttrace CMD`` (config/manage.py)."""

from config.manage import main

if __name__ == "__main__":
    main()
