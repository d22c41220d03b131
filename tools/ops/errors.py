"""Exit codes of `python -m tools.ops` and the error type that becomes a one-line message.

A container may exit with any code from 0 to 255, so no code of the tool's own can be told apart
from every container's. The tool's codes follow the conventions scripts already know: 2 for a bad
invocation (argparse's own code), 124 for a timeout (GNU `timeout`), 125 when the container never
ran (`docker run`), 130 for Ctrl-C (128 + SIGINT), 137 for a container that was killed (128 +
SIGKILL, what a shell reports for a killed command and Docker for an out-of-memory kill). When the
tool ends the run itself it also says why on stderr, so a human never has to guess which kind of
125 they got.

125 and 137 are kept apart because a script must treat them differently: after 125 the command
never started, so running it again is safe; after 137 it ran for a while and may have done part of
its work (half a migration), so a retry is only safe for an idempotent command.
"""

EXIT_OK = 0
# `status`: the service is not healthy (see tools/ops/status.py for the exact rules).
EXIT_UNHEALTHY = 1
# Bad arguments, unreadable stack outputs, unknown cluster or service, no credentials or region.
EXIT_USAGE = 2
# `run`: the task was still running when --timeout ran out; the tool stopped it.
EXIT_TIMEOUT = 124
# `run`: the task never ran the command: RunTask refused it, ECS stopped it before the container
# started (image pull, secrets, permissions, capacity), or it stayed PENDING past --start-timeout.
EXIT_DID_NOT_START = 125
# `run`: interrupted with Ctrl-C; the tool stopped the task.
EXIT_INTERRUPTED = 130
# `run`: the container started but ECS reports no exit code for it: it was killed from outside
# (out of memory, FARGATE_SPOT capacity reclaimed, the task stopped by someone else) before it
# could exit. When ECS does report a code (often 137 itself after an OOM kill) that code is used.
EXIT_KILLED = 137

EXIT_CODES_HELP = """\
exit codes:
  run      the container's own exit code when it ran (0-255); otherwise
           124  still running at --timeout (the task is stopped)
           125  the task never ran the command (the stopped reason and what to check are printed)
           130  interrupted with Ctrl-C (the task is stopped)
           137  the command ran but was killed with no exit code (out of memory, Spot
                reclaimed, stopped from outside); it may have done part of its work
  status   0 healthy, 1 not healthy (each problem is listed)
  both     2 bad arguments, bad stack outputs, unknown cluster/service, no AWS credentials/region
"""


class OpsError(Exception):
    """A problem the user can fix; printed as one line without a stack trace."""
