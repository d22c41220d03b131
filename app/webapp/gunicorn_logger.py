"""gunicorn's logger class for this service: its error and access logs as JSON lines on stdout.

gunicorn.conf.py sets `logger_class` to `GunicornJsonLogger`, which then owns all of gunicorn's
log output: gunicorn's own `errorlog`, `accesslog`, `logconfig*` and `syslog` settings are ignored.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gunicorn import glogging

from webapp.logs import configure_logging
from webapp.settings import Settings


class GunicornJsonLogger(glogging.Logger):
    """Routes gunicorn.error and gunicorn.access through the root logger's JSON handler.

    Access log lines carry method, path, status and duration_ms as separate fields. Requests to
    the health check path are logged at DEBUG: the ALB checks every few seconds from each of its
    nodes, and those lines would drown the useful ones at INFO.
    """

    def setup(self, cfg: Any) -> None:
        self.cfg = cfg
        self.loglevel = self.LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO)
        self.health_check_path = Settings.from_env().health_check_path
        configure_logging(self.loglevel)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True
            # LOG_LEVEL filters access lines too: "warning" means no per-request lines at all.
            log.setLevel(self.loglevel)

    @property
    def access_log_enabled(self) -> bool:
        # Lets gunicorn skip gathering access fields when no access line can be written.
        return self.access_log.isEnabledFor(logging.INFO)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        path = environ.get("PATH_INFO", "")
        level = logging.DEBUG if path == self.health_check_path else logging.INFO
        if not self.access_log.isEnabledFor(level):
            return
        method = environ.get("REQUEST_METHOD", "")
        status = getattr(resp, "status_code", None)
        fields = {
            "method": method,
            "path": path,
            "query": environ.get("QUERY_STRING") or None,
            "status": status,
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "bytes_sent": getattr(resp, "sent", None),
            "protocol": environ.get("SERVER_PROTOCOL"),
            "remote_addr": environ.get("REMOTE_ADDR"),
            # Behind the ALB, REMOTE_ADDR is the load balancer node; the client is in these.
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "trace_id": environ.get("HTTP_X_AMZN_TRACE_ID"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.log(
                level,
                "%s %s %s",
                method,
                path,
                status,
                extra={key: value for key, value in fields.items() if value is not None},
            )
        except Exception:
            self.error_log.exception("could not write an access log line")
