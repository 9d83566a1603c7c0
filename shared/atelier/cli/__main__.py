"""`python -m atelier.cli`: the `atelier` command."""

import sys

from atelier.cli import main

sys.exit(main())
