"""The fargate-app security policy pack: `pulumi preview --policy-pack policy`.

The Pulumi CLI runs this file with policy/ as the working directory and on sys.path, so the
policies import as the top-level package `security_controls` (the tests do the same).
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from security_controls import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    # Every policy sets its own level; this only covers one added without.
    enforcement_level=EnforcementLevel.MANDATORY,
    description="AWS Security Hub Foundational Security Best Practices for fargate-app: ECS, ECR, "
    "ELB, VPC, IAM, KMS, SNS and SQS controls, mandatory in production; see policy/README.md.",
)
