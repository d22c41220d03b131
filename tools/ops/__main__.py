"""`python -m tools.ops`: see tools/ops/cli.py, or run it with --help."""

import sys

from tools.ops.cli import main
from tools.pipes import run_to_pipe

sys.exit(run_to_pipe(main))
