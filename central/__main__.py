"""``python -m central``: see `central.cli`."""

import sys

from central.cli import main

sys.exit(main())
