"""Entry point: `python -m strand_jax ...` (see cli.py)."""

import sys

from .cli import main

sys.exit(main())
