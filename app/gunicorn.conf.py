"""gunicorn settings for the web service on ECS Fargate behind an ALB.

Started as `gunicorn --config gunicorn.conf.py` (the image's CMD). The environment contract
(PORT, HEALTH_CHECK_PATH, GRACEFUL_TIMEOUT, WEB_CONCURRENCY, LOG_LEVEL) is read and validated by
webapp.settings; a bad value stops gunicorn before it binds, naming the variable and what is
allowed. Anything else can still be overridden through GUNICORN_CMD_ARGS (e.g. "--threads 8").
"""

import os
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
# gunicorn reads this file before it applies its `pythonpath` setting, so make `webapp`
# importable here whatever the working directory is.
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from webapp.gunicorn_logger import GunicornJsonLogger  # noqa: E402
from webapp.settings import Settings, SettingsError  # noqa: E402

# The ALB closes connections idle for 60 s (its default idle timeout). gunicorn must keep them
# open longer: if gunicorn closed first, the ALB could send a request on a connection that is
# just being closed and answer the client with a 502.
ALB_IDLE_TIMEOUT_S = 60
KEEPALIVE_S = ALB_IDLE_TIMEOUT_S + 5

# Threads per worker: requests waiting on I/O overlap without one more process's memory.
THREADS_PER_WORKER = 4

# /dev/shm is memory-backed, so the workers' heartbeat file never waits on a disk; /tmp is the
# writable volume the task definition mounts, for a runtime without /dev/shm. The root
# filesystem is read-only, so nothing else may be written.
HEARTBEAT_DIR = "/dev/shm" if os.access("/dev/shm", os.W_OK) else "/tmp"

try:
    settings = Settings.from_env()
except SettingsError as error:
    # SystemExit passes through gunicorn's loader: the message, no traceback, exit status 1.
    sys.exit(f"gunicorn.conf.py: {error}")

wsgi_app = "webapp.wsgi:app"
proc_name = "webapp"
bind = [f"0.0.0.0:{settings.port}"]
workers = settings.web_concurrency
# gthread keeps connections alive (sync closes after every response), so the ALB reuses them;
# this subclass also refuses new connections as soon as a stop begins and never misses the
# SIGTERM that begins it (see webapp/gunicorn_worker.py).
worker_class = "webapp.gunicorn_worker.GracefulThreadWorker"
threads = THREADS_PER_WORKER
keepalive = KEEPALIVE_S
# On SIGTERM gunicorn stops accepting, lets in-flight requests finish for up to this long, then
# kills what is left. Idle kept-alive connections are closed within about 2 s, so an idle
# server exits promptly even though keepalive is longer than the ALB's idle timeout.
graceful_timeout = settings.graceful_timeout_s
worker_tmp_dir = HEARTBEAT_DIR

loglevel = settings.log_level
logger_class = GunicornJsonLogger

# The control socket would be written under $HOME, which is read-only in the container, and
# nothing in ECS uses it.
control_socket_disable = True
pidfile = None


def when_ready(server):
    server.log.info(
        "gunicorn ready",
        extra={
            "bind": server.cfg.bind,
            "workers": server.cfg.workers,
            "threads": server.cfg.threads,
            "keepalive_s": server.cfg.keepalive,
            "graceful_timeout_s": server.cfg.graceful_timeout,
            "health_check_path": settings.health_check_path,
        },
    )
