"""``python -m sklearn_recae``: see :mod:`sklearn_recae.cli`."""

import sys

from .cli import main

sys.exit(main())
