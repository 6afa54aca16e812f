"""Entry point of ``python -m risk`` (see :mod:`risk.cli`)."""

import sys

from risk.cli import main

sys.exit(main())
