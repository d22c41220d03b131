"""Issue 4's "done when": production's stateful resources survive a mistaken `pulumi destroy`.

Not a Security Hub control: the repository (images that running tasks pull), the log groups
(the app's logs and the flow logs), the access-log bucket and the file systems hold data that
cannot be recreated, so production marks them `protect` (Pulumi refuses to delete them until the
option is removed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .environment import prod_only
from .props import BUCKETS

Report = Callable[..., None]

STATEFUL = frozenset(
    {
        "aws:ecr/repository:Repository",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:efs/fileSystem:FileSystem",
        *BUCKETS,
    }
)


def protected(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type not in STATEFUL:
        return
    if not args.opts.protect:
        report_violation(
            "This production resource holds data that cannot be recreated but is not protected: "
            "`pulumi destroy` or a replacement would delete it. Create it with "
            "ResourceOptions(protect=True) (`pulumi config set deletionProtection true`)."
        )


POLICIES: list[Any] = [
    *prod_only(
        name="prod-stateful-resources-protected",
        control=None,
        description="Issue 4 (not a Security Hub control): production ECR repositories, "
        "CloudWatch log groups, S3 buckets and EFS file systems are protected from deletion "
        "(Pulumi `protect`).",
        validate=protected,
        severity=Severity.MEDIUM,
        remediation="ResourceOptions(protect=True) on the resource; `pulumi config set "
        "deletionProtection true`.",
    ),
]
