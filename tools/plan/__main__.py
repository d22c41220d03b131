"""`python -m tools.plan`: see tools/plan/cli.py, or run it with --help."""

import gc
import sys

# A plan is one short run that imports pulumi-aws's thousands of generated classes, most of its
# time; the cycle collector would rescan them again and again (about a fifth of the run) to free
# nothing of note before the process exits.
gc.disable()

from tools.pipes import run_to_pipe  # noqa: E402
from tools.plan.cli import main  # noqa: E402

sys.exit(run_to_pipe(main))
