"""What to check, for the stop and failure reasons ECS reports most often.

Matched on substrings of the stoppedReason, the stopCode and the container's reason, most specific
first. The wording follows AWS's "Amazon ECS stopped task error messages" troubleshooting page.
"""

from __future__ import annotations

# (substring, what to check). First match wins.
KNOWN_REASONS: tuple[tuple[str, str], ...] = (
    (
        "CannotPullContainerError",
        "the image could not be pulled: check that the image in the task definition exists in"
        " ECR (the stack's imageRef), that the task execution role may read it"
        " (ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer), and that"
        " the subnets reach ECR (a NAT gateway, a public IP, or VPC endpoints for ecr.api,"
        " ecr.dkr and s3)",
    ),
    (
        "ResourceInitializationError",
        "ECS could not prepare the task before starting it: usually the execution role cannot"
        " read a secret (Secrets Manager/SSM) or the log group is missing or unreachable; check"
        " the execution role's policy and that the subnets reach those endpoints",
    ),
    (
        "CannotStartContainerError",
        "the container runtime could not start the command: check that the command (or the"
        " image's entrypoint) exists in the image and is executable",
    ),
    (
        "CannotCreateContainerError",
        "the container could not be created: check the task definition's mounts, ulimits and"
        " Linux parameters",
    ),
    (
        "OutOfMemory",
        "the container used more memory than the task has: raise the memory setting in the"
        " stack config, or find the leak",
    ),
    (
        "failed ELB health checks",
        "the load balancer's health check did not pass: check the health check path and port,"
        " that the app listens on 0.0.0.0, and the security group from the load balancer",
    ),
    (
        "failed container health checks",
        "the container's own HEALTHCHECK failed: run it by hand in the image, and check its"
        " start period",
    ),
    (
        "network interface",
        "Fargate could not attach a network interface: check that the subnets have free IP"
        " addresses and the account's ENI quota",
    ),
    (
        "SpotInterruption",
        "FARGATE_SPOT capacity was reclaimed: run it again, or give one-off jobs FARGATE capacity",
    ),
    (
        "Capacity is unavailable",
        "Fargate has no capacity for this size in these subnets right now: try again, or use"
        " subnets in more availability zones",
    ),
    (
        "AccessDenied",
        "a permission is missing: the message names the action and the principal (you, the"
        " task role or the task execution role); RunTask also needs iam:PassRole on both roles",
    ),
    (
        "not authorized",
        "a permission is missing: the message names the action and the principal (you, the"
        " task role or the task execution role); RunTask also needs iam:PassRole on both roles",
    ),
    (
        "MISSING",
        "ECS could not find the cluster or task definition: check the stack and --region",
    ),
    # Last of the container reasons: OutOfMemory and failed health checks also end in an
    # essential container's exit, and their hints say more.
    (
        "EssentialContainerExited",
        "the app's container exited by itself: read its exit code (on this line) and the log lines"
        " it wrote just before (its log stream ends with the task id); exit 1 is usually the app"
        " failing at start (a missing setting or secret, a wrong command or port), 137 a kill"
        " (out of memory, or no exit within the stop timeout), 139 a crash",
    ),
    (
        "UserInitiated",
        "someone or something called StopTask on it (the console, the CLI, or a deployment)",
    ),
)

STUCK_PENDING_HINT = (
    "the task never reached RUNNING: it is usually still pulling a large image, or cannot reach"
    " ECR, Secrets Manager or CloudWatch Logs from its subnets (no NAT gateway, public IP or VPC"
    " endpoints); look at the task's events in the ECS console, and raise --start-timeout for a"
    " very large image"
)


def hint_for(*texts: str | None) -> str | None:
    """The first known reason found in any of the texts, or None."""
    haystack = " ".join(t for t in texts if t)
    for needle, hint in KNOWN_REASONS:
        if needle.lower() in haystack.lower():
            return hint
    return None
