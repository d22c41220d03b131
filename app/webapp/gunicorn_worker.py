"""gunicorn's threaded worker, changed to refuse new connections as soon as it starts stopping.

On SIGTERM the stock gthread worker stops accepting but keeps its copy of the listening socket
open until its in-flight requests finish. Meanwhile the kernel still completes new TCP
handshakes into the socket's backlog; those clients wait out the whole drain and then get a
reset. Closing the listener at once makes them fail fast with "connection refused", so a
client (or the ALB, while the target drains) retries elsewhere right away.
"""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class DrainingThreadWorker(ThreadWorker):
    """gthread worker that closes its listening sockets when it stops accepting for shutdown."""

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        # While alive, accepting is only paused for a full connection table; keep the sockets.
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()  # idempotent; run() closes them again on exit
