"""Exit quietly when the reader of stdout goes away (`python -m tools.plan dev --json | head`).

Python ignores SIGPIPE and raises BrokenPipeError on the next write instead, and again when it
flushes stdout at exit: a traceback for what is a normal end of a pipeline. This is the recipe of
Python's documentation ("Note on SIGPIPE", library/signal.html): catch the error, point stdout at
os.devnull so the flush at exit succeeds, and exit 1 as Python does on EPIPE.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

EXIT_BROKEN_PIPE = 1  # what Python's documented recipe exits with on EPIPE


def run_to_pipe(main: Callable[[], int]) -> int:
    """`main()`'s exit code, or EXIT_BROKEN_PIPE, without a traceback, if stdout was closed."""
    try:
        code = main()
        # Flush inside the try: a closed pipe shows here, not at interpreter exit.
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code
