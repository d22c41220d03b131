"""Pulumi mocks that answer like AWS, and a harness that runs a whole program under them.

Shared by the tests and the offline plan (`python -m tools.plan`): both run the real program and
look at every resource it registers. Answers look like AWS's (IDs such as `vpc-0f3a...`, ARNs,
ALB DNS names, ECR repository URLs, image digests; auto-named resources get Pulumi's
`<name>-<7 hex>` names) and are deterministic, so the same program gives the same plan.

In preview mode (`preview=True`) the mocks behave like `pulumi preview`: inputs are known, but
every value AWS computes (IDs, ARNs, DNS names, digests) is unknown.

By concern:
- resources.py    AWS's answer to each resource type (`@answers`): its ID and computed outputs
- invokes.py      AWS's answer to each data source (`@answers_invoke`)
- ids.py          the account, the default region, deterministic IDs in AWS's shapes
- regions.py      the AZs of each Region the offline runs know, with their source and date
- aws.py          AwsMocks, the engine's mocks: autonaming, preview, dispatch to the answers
- harness.py      run_program and what it records (ProgramRun, RegisteredResource, Unknown)
- stack_files.py  a stack's config as the Pulumi CLI hands it over (load_stack_config, Secure)

Import from here (`from tools.mocks import run_program`): the names below are the interface.
"""

from tools.mocks.aws import UNKNOWN, AwsMocks
from tools.mocks.harness import (
    ProgramRun,
    RecordingMonitor,
    RegisteredResource,
    Unknown,
    run_program,
)
from tools.mocks.ids import ACCOUNT_ID, CALLER_ROLE_ARN, DEFAULT_REGION
from tools.mocks.invokes import EXISTING_ROLES
from tools.mocks.regions import AZS_CHECKED, region_az_count
from tools.mocks.stack_files import (
    OFFLINE_SECRET,
    SECURE_FIELD,
    Secure,
    config_for_runtime,
    config_secret_keys,
    load_stack_config,
)

__all__ = [
    "ACCOUNT_ID",
    "AZS_CHECKED",
    "CALLER_ROLE_ARN",
    "DEFAULT_REGION",
    "EXISTING_ROLES",
    "OFFLINE_SECRET",
    "SECURE_FIELD",
    "UNKNOWN",
    "AwsMocks",
    "ProgramRun",
    "RecordingMonitor",
    "RegisteredResource",
    "Secure",
    "Unknown",
    "config_for_runtime",
    "config_secret_keys",
    "load_stack_config",
    "region_az_count",
    "run_program",
]
