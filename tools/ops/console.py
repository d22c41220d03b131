"""Where the commands write, and the clock they wait on (both injectable for tests)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    """Waiting and elapsed time go through here so tests never sleep for real."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = _utcnow


@dataclass
class Console:
    """stdout carries the result (the task's log lines, the status report, or the JSON document);
    stderr carries progress and messages, so `--json` output and pipes stay clean."""

    json_mode: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def say(self, message: str) -> None:
        print(f"ops: {message}", file=self.err, flush=True)

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def document(self, doc: dict[str, Any]) -> None:
        json.dump(doc, self.out, indent=2, sort_keys=False, default=str)
        self.out.write("\n")
        self.out.flush()


def duration(seconds: float) -> str:
    """`1m05s` style: readable in progress lines without a clock library."""
    seconds = max(0, int(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
