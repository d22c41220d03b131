"""The service's settings, read from the environment once and validated.

The environment variables are a contract with the infrastructure, which sets them on the
container: PORT, HEALTH_CHECK_PATH, GRACEFUL_TIMEOUT, WEB_CONCURRENCY, LOG_LEVEL and the optional
APP_VERSION. Both the Flask app and gunicorn's config file read them through `Settings.from_env`,
so a value means the same thing everywhere and a bad one is reported before anything starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

DEFAULT_PORT = 8000  # the port the image EXPOSEs and the target group forwards to
MAX_PORT = 65535

DEFAULT_HEALTH_CHECK_PATH = "/health"

# ECS stops a container by SIGTERM, then SIGKILL after the task's stopTimeout, which Fargate caps
# at 120 s (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html).
# The infra sets stopTimeout a few seconds above this, so it must stay below that cap.
DEFAULT_GRACEFUL_TIMEOUT_S = 10
MAX_GRACEFUL_TIMEOUT_S = 110

# Two workers keep serving while one restarts and fit a 0.25-1 vCPU task's memory; each worker
# also runs threads (see gunicorn.conf.py), so I/O-bound requests overlap within a worker.
DEFAULT_WEB_CONCURRENCY = 2
MAX_WEB_CONCURRENCY = 64

DEFAULT_LOG_LEVEL = "info"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

SERVICE_NAME = "webapp"

T = TypeVar("T")


class SettingsError(ValueError):
    """One or more environment variables are invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "invalid environment for the web app:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class Settings:
    """Validated settings; every field's default is what the container gets when unset.

    port: TCP port gunicorn binds on 0.0.0.0 (PORT, default 8000, the image's EXPOSE).
    health_check_path: path the ALB health check requests (HEALTH_CHECK_PATH, default /health);
        answered with a tiny JSON body and logged at debug only, as it is hit every few seconds.
        "/" is allowed: the index then answers the checks, and its own requests log at debug too.
    graceful_timeout_s: seconds gunicorn lets in-flight requests finish after SIGTERM
        (GRACEFUL_TIMEOUT, default 10; the infra sets ECS stopTimeout a few seconds above it).
    web_concurrency: gunicorn worker processes (WEB_CONCURRENCY, default 2, sized for a
        0.25-1 vCPU Fargate task).
    log_level: minimum level of every log line, access logs included (LOG_LEVEL, default info).
    app_version: version reported by `/` (APP_VERSION, optional; None when unset).
    """

    port: int = DEFAULT_PORT
    health_check_path: str = DEFAULT_HEALTH_CHECK_PATH
    graceful_timeout_s: int = DEFAULT_GRACEFUL_TIMEOUT_S
    web_concurrency: int = DEFAULT_WEB_CONCURRENCY
    log_level: str = DEFAULT_LOG_LEVEL
    app_version: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `environ` (default: os.environ); report all problems at once."""
        env = os.environ if environ is None else environ
        problems: list[str] = []

        def read(name: str, default: T, parse: Callable[[str], T], allowed: str) -> T:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return parse(raw)
            except ValueError:
                problems.append(f"{name}={raw!r} is not valid: expected {allowed}")
                return default

        settings = cls(
            port=read(
                "PORT",
                DEFAULT_PORT,
                _int_between(1, MAX_PORT),
                f"a whole number from 1 to {MAX_PORT} (default {DEFAULT_PORT})",
            ),
            health_check_path=read(
                "HEALTH_CHECK_PATH",
                DEFAULT_HEALTH_CHECK_PATH,
                _health_check_path,
                "a path starting with '/', without spaces, '?' or '#' "
                f"(default {DEFAULT_HEALTH_CHECK_PATH})",
            ),
            graceful_timeout_s=read(
                "GRACEFUL_TIMEOUT",
                DEFAULT_GRACEFUL_TIMEOUT_S,
                _int_between(1, MAX_GRACEFUL_TIMEOUT_S),
                f"whole seconds from 1 to {MAX_GRACEFUL_TIMEOUT_S} "
                f"(default {DEFAULT_GRACEFUL_TIMEOUT_S}; ECS stopTimeout is at most 120 s)",
            ),
            web_concurrency=read(
                "WEB_CONCURRENCY",
                DEFAULT_WEB_CONCURRENCY,
                _int_between(1, MAX_WEB_CONCURRENCY),
                f"a whole number of worker processes from 1 to {MAX_WEB_CONCURRENCY} "
                f"(default {DEFAULT_WEB_CONCURRENCY})",
            ),
            log_level=read(
                "LOG_LEVEL",
                DEFAULT_LOG_LEVEL,
                _log_level,
                f"one of {', '.join(LOG_LEVELS)} (default {DEFAULT_LOG_LEVEL})",
            ),
            app_version=env.get("APP_VERSION", "").strip() or None,
        )
        if problems:
            raise SettingsError(problems)
        return settings


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(raw)
        return value

    return parse


def _health_check_path(raw: str) -> str:
    if not raw.startswith("/") or any(c.isspace() or c in "?#" for c in raw):
        raise ValueError(raw)
    return raw


def _log_level(raw: str) -> str:
    level = raw.lower()
    if level not in LOG_LEVELS:
        raise ValueError(raw)
    return level
