"""`python -m tools.ops`: see tools/ops/cli.py, or run it with --help."""

import sys

from tools.ops.cli import main

sys.exit(main())
