"""`python -m tools.plan`: see tools/plan/cli.py, or run it with --help."""

import sys

from tools.plan.cli import main

sys.exit(main())
