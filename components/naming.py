"""Physical names that stay within AWS's limits whatever project and stack names users choose.

Most resources are auto-named by Pulumi (logical name + 8 random characters), and their logical
names derive from short component names, never from the project or stack. The few resources with
an explicit name use these helpers, which fold in the project and stack and bound the length.
"""

from __future__ import annotations

import hashlib
import re

HASH_CHARS = 6  # enough to keep truncated names apart (16.7 million values)


def bounded(name: str, max_len: int, *, allowed: str = r"A-Za-z0-9_-", sep: str = "-") -> str:
    """`name` with characters outside `allowed` replaced by `sep`, runs of `sep` folded, and, when
    longer than `max_len`, cut with a short hash of the full name appended so it stays unique."""
    clean = re.sub(f"[^{allowed}]+", sep, name).strip(sep)
    clean = re.sub(f"{re.escape(sep)}+", sep, clean)
    if len(clean) <= max_len:
        return clean
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_CHARS]
    return clean[: max_len - HASH_CHARS - 1].rstrip(sep) + sep + digest


# CloudWatch log group names: letters, digits, _ - / . and up to 512 characters; 500 leaves room.
LOG_GROUP_NAME_MAX = 500
LOG_GROUP_CHARS = r"A-Za-z0-9_./-"
# The exec sessions' log group sits beside the services' (components.exec_sessions): no service
# may take this name (the config loader refuses it).
EXEC_SESSIONS_LOG_GROUP = "exec-sessions"


def stack_log_group_name(project: str, stack: str, name: str) -> str:
    """/ecs/<project>/<stack>/<name>: the log group of the stack's `name` (a service, or the exec
    sessions), under the stack's log prefix, which the stack's roles may write."""
    return "/ecs/" + bounded(
        f"{project}/{stack}/{name}", LOG_GROUP_NAME_MAX, allowed=LOG_GROUP_CHARS
    )


def exec_sessions_log_group_name(project: str, stack: str) -> str:
    return stack_log_group_name(project, stack, EXEC_SESSIONS_LOG_GROUP)
