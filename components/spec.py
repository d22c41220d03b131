"""Values the stack config and the components share, free of Pulumi.

Importing this module loads no pulumi module, so the config contract (stack_config) can build these
values and check against these facts without the SDK, and a test or tool can use them alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- the subnet plan (components.network) ---------------------------------------------------------
ALB_MIN_SUBNET_PREFIX = 27  # an ALB needs subnets of at least /27 with 8 free addresses
MAX_SUBNET_NEW_BITS = 4  # 16 slots: 6 public + 6 private, and 4 spare for a later tier


def subnet_new_bits(vpc_prefix: int) -> int:
    """Bits added to the VPC prefix for every subnet: as many slots as fit at the ALB's minimum."""
    return min(MAX_SUBNET_NEW_BITS, ALB_MIN_SUBNET_PREFIX - vpc_prefix)


# --- the image (components.image) -----------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ImageRef:
    """A prebuilt ECR image reference, split into its parts (exactly one of tag and digest)."""

    uri: str
    account: str
    region: str
    repository: str
    tag: str | None = None
    digest: str | None = None


# --- scheduled jobs (components.scheduled_tasks) --------------------------------------------------
# Names: letters, digits, - and _ fit every name derived from them (task family, schedule, role,
# queue, log stream prefix). The length bound keeps the longest auto-named child, the role
# "<component>-<name>-role" plus Pulumi's 8-character suffix, within IAM's 64 characters for a
# component name of up to 18 characters.
TASK_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
TASK_NAME_MAX = 32


@dataclass(frozen=True)
class ScheduledTask:
    """One job, as the stack config's `scheduledTasks` describes it (validated there).

    name: the job's key in `scheduledTasks`; names its resources.
    schedule: an EventBridge Scheduler expression: cron(...), rate(...) or at(...).
    command: the container's command, replacing the image's CMD (no shell runs it).
    cpu, memory: the task's size. Default 256/512, Fargate's smallest; the config defaults them
        to the service's size.
    timezone: IANA time zone the expression is evaluated in. Default UTC, Scheduler's own.
    enabled: False keeps the schedule but pauses it (state DISABLED). Default True.
    """

    name: str
    schedule: str
    command: tuple[str, ...]
    cpu: int = 256
    memory: int = 512
    timezone: str = "UTC"
    enabled: bool = True
