"""Reading the app's CloudWatch log streams: follow one task's stream, or show the latest lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from tools.ops.aws import error_code

# GetLogEvents returns at most 10,000 events (1 MB) a page. Reading at most this many pages per
# poll keeps a chatty task from starving the status check; the rest is read on the next poll.
MAX_PAGES_PER_POLL = 10

# Log streams `status` scans for its latest lines: the streams that wrote most recently, since a
# crash-looping service leaves its last words in the newest stopped task's stream.
LOG_STREAMS_SCANNED = 3

# DescribeLogStreams cannot filter by prefix while ordering by LastEventTime, so one page of the
# most recently written streams is read and filtered here; 50 is the API's maximum page size.
LOG_STREAMS_PAGE = 50


@dataclass(frozen=True)
class LogEvent:
    timestamp_ms: int
    message: str
    stream: str = ""

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)

    def as_json(self) -> dict[str, Any]:
        return {"timestamp": iso(self.time), "stream": self.stream, "message": self.message}


def iso(moment: datetime | None) -> str | None:
    """UTC, to the second, with a Z: short enough for a terminal, unambiguous in a PR."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(raw: Iterable[dict[str, Any]], stream: str) -> list[LogEvent]:
    return [
        LogEvent(int(e.get("timestamp", 0)), str(e.get("message", "")).rstrip("\n"), stream)
        for e in raw
    ]


class LogFollower:
    """Reads a stream forward with nextForwardToken, returning only events not seen before.

    The stream does not exist until the container starts, so "not found" means "nothing yet".
    """

    def __init__(self, client: Any, group: str, stream: str) -> None:
        self._client = client
        self.group = group
        self.stream = stream
        self._token: str | None = None

    def poll(self) -> list[LogEvent]:
        found: list[LogEvent] = []
        for _ in range(MAX_PAGES_PER_POLL):
            request: dict[str, Any] = {
                "logGroupName": self.group,
                "logStreamName": self.stream,
                "startFromHead": True,
            }
            if self._token:
                request["nextToken"] = self._token
            try:
                resp = self._client.get_log_events(**request)
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    return found
                raise
            page = _events(resp.get("events", []), self.stream)
            found.extend(page)
            token = resp.get("nextForwardToken")
            # At the end of the stream CloudWatch hands back the token it was given.
            at_end = token == self._token or not page
            self._token = token
            if at_end:
                break
        return found


def latest_lines(
    client: Any, group: str, prefix: str, task_ids: Iterable[str], limit: int
) -> tuple[list[LogEvent], str | None]:
    """The last `limit` lines written by the given tasks, oldest first, and a note if none."""
    wanted = {f"{prefix}/{task_id}" for task_id in task_ids}
    if not wanted or limit <= 0:
        return [], None
    try:
        resp = client.describe_log_streams(
            logGroupName=group, orderBy="LastEventTime", descending=True, limit=LOG_STREAMS_PAGE
        )
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return [], f"log group {group} does not exist"
        raise
    streams = [s["logStreamName"] for s in resp.get("logStreams", [])]
    streams = [name for name in streams if name in wanted][:LOG_STREAMS_SCANNED]
    events: list[LogEvent] = []
    for stream in streams:
        page = client.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=False, limit=limit
        )
        events.extend(_events(page.get("events", []), stream))
    events.sort(key=lambda e: e.timestamp_ms)
    note = None if events else f"no recent log lines in {group} for the service's tasks"
    return events[-limit:], note
