"""The AWS Security Hub Foundational Security Best Practices controls that apply to fargate-app,
as Pulumi policies. `POLICIES` is the pack's content, in the order README.md's table lists them.
"""

from __future__ import annotations

from typing import Any

from . import cloudfront, ec2, ecr, ecs, efs, elb, encryption, iam, protection, waf

PACK_NAME = "fargate-app-security"

POLICIES: list[Any] = [
    *ecs.POLICIES,
    *ecr.POLICIES,
    *elb.POLICIES,
    *cloudfront.POLICIES,
    *waf.POLICIES,
    *ec2.POLICIES,
    *iam.POLICIES,
    *encryption.POLICIES,
    *efs.POLICIES,
    *protection.POLICIES,
]

__all__ = ["PACK_NAME", "POLICIES"]
