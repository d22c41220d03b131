"""gunicorn's threaded (gthread) worker, with two shutdown fixes for ECS.

1. Refuse new connections as soon as a stop begins. On SIGTERM the stock worker stops accepting
   but keeps its copy of the listening socket open until its in-flight requests finish.
   Meanwhile the kernel still completes new TCP handshakes into the socket's backlog; those
   clients wait out the whole drain and then get a reset. Closing the listener at once makes
   them fail fast with "connection refused", so they retry elsewhere right away.

2. Do not lose a SIGTERM that arrives while the worker is being forked. Until the worker installs
   its own handlers it still runs the master's, inherited across fork, which only queue the
   signal for the master's loop, one the worker never runs. The worker then serves on,
   unaware of the stop, until the master kills it at graceful_timeout. Such a signal is
   replayed once the worker's handlers are in place.

Both reach into gunicorn's internals (ThreadWorker.set_accept_enabled, the Arbiter's SIG_QUEUE),
which is why requirements.txt pins gunicorn exactly; tests/test_gunicorn.py checks both
behaviours on a real process, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import queue
import signal
from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class GracefulThreadWorker(ThreadWorker):
    """gthread worker that stops promptly and reliably on SIGTERM (see the module docstring)."""

    def init_signals(self) -> None:
        # A bound method of the master's Arbiter, whose SIG_QUEUE this process has a copy of.
        inherited_handler = signal.getsignal(signal.SIGTERM)
        super().init_signals()
        pending = getattr(getattr(inherited_handler, "__self__", None), "SIG_QUEUE", None)
        if pending is not None:
            self._replay_stop_signals(pending)

    def _replay_stop_signals(self, pending: Any) -> None:
        while True:
            try:
                sig = pending.get_nowait()
            except queue.Empty:
                return
            if sig == signal.SIGTERM:
                self.handle_exit(sig, None)
            elif sig in (signal.SIGINT, signal.SIGQUIT):
                self.handle_quit(sig, None)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        # While alive, accepting is only paused for a full connection table; keep the sockets.
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()  # idempotent; run() closes them again on exit
