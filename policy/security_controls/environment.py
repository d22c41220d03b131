"""Which stack is being checked, and whether it is a production stack.

How a policy knows: the Pulumi CLI starts a policy pack with the stack's name in `PULUMI_STACK`
(with `PULUMI_PROJECT`, `PULUMI_CONFIG` and `PULUMI_DRY_RUN`; pulumi/pulumi
sdk/go/common/resource/plugin/analyzer_plugin.go, `constructEnv`), and pulumi-policy configures
`pulumi.get_stack()` from the same variable before each check. A stack is production when its name
is in the policy's `prodStacks` setting (default: `prod`), so renaming or adding a production stack
is policy-pack config, not code:

    pulumi preview --policy-pack policy --policy-pack-config policy-config.json
    # policy-config.json: {"elb-deletion-protection": {"prodStacks": ["prod", "prod-eu"]}, ...}

Why not the resources themselves: the provider's default tags (`project`, `stack`) are not among
the inputs the program registers (the AWS provider applies them itself, into `tagsAll`, so whether
a policy sees them depends on the provider's version), and the provider's own inputs carry them only
as a JSON string; stack policies see outputs, resource policies inputs. The stack name is the one
signal every policy sees the same way, in `preview` and `up`. A pack started without
`PULUMI_STACK` (outside the CLI) treats the stack as production, so a missing name fails closed.

Controls that cost money (access logs, flow logs, Container Insights) come as two policies: the
mandatory one checks production stacks; its `-nonprod` twin reports the same finding as advisory
everywhere else. Controls that production needs but other stacks deliberately skip (no public IP,
deletion protection, `protect`) check production stacks only.

Waivers: a stack that must give up a mandatory control names it in its own config, with the reason
(`policyWaivers: {ecs-container-non-root-user: "the vendor image runs as root"}`; the program's
config loader checks the names). The CLI hands the pack the stack's config as JSON in
`PULUMI_CONFIG` (`<project>:policyWaivers` holds the map, itself as JSON text; pulumi/pulumi
sdk/go/common/resource/plugin/analyzer_plugin.go, `constructConfig`). Every mandatory policy has a
`-waived` twin: while the control is waived, the mandatory policy is not applicable and the twin
reports the same findings as advisory, with the reason, so the waiver stays visible in every
preview. A pack started without `PULUMI_CONFIG` waives nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

PROD_STACKS_KEY = "prodStacks"
DEFAULT_PROD_STACKS: tuple[str, ...] = ("prod",)
STACK_ENV = "PULUMI_STACK"  # set by the Pulumi CLI for the policy pack's process
PROJECT_ENV = "PULUMI_PROJECT"
CONFIG_ENV = "PULUMI_CONFIG"  # the stack's config: {"<namespace>:<key>": "<value as text>"}
NONPROD_SUFFIX = "-nonprod"
WAIVED_SUFFIX = "-waived"
# The program's stack setting that names waived policies (stack_config's `policyWaivers`; a test
# keeps the two names, and the policy names the config accepts, in step).
WAIVERS_SETTING = "policyWaivers"

FRAMEWORK_NAME = "AWS Foundational Security Best Practices"
FRAMEWORK_VERSION = "1.0.0"
CONTROLS_URL = (
    "https://docs.aws.amazon.com/securityhub/latest/userguide/{service}-controls.html#{anchor}"
)

PROD_CONFIG_SCHEMA = PolicyConfigSchema(
    properties={
        PROD_STACKS_KEY: {
            "type": "array",
            "items": {"type": "string"},
            "default": list(DEFAULT_PROD_STACKS),
            "description": "Names of the production stacks, which this control applies to.",
        }
    }
)

Validate = Callable[[Any, Callable[..., None]], None]


def current_stack() -> str | None:
    """The stack the CLI is previewing or updating; None outside the CLI."""
    return os.environ.get(STACK_ENV) or None


def prod_stacks(config: Mapping[str, Any]) -> tuple[str, ...]:
    if PROD_STACKS_KEY in config and config[PROD_STACKS_KEY] is not None:
        return tuple(str(s) for s in config[PROD_STACKS_KEY])
    return DEFAULT_PROD_STACKS


def is_prod(args: Any) -> bool:
    stack = current_stack()
    return stack is None or stack in prod_stacks(args.get_config())


def waivers() -> dict[str, str]:
    """The stack's waived policies, policy name -> reason; empty outside the CLI or when the
    setting is absent or unreadable (the program refuses a malformed one before the pack runs)."""
    try:
        config = json.loads(os.environ.get(CONFIG_ENV) or "{}")
    except json.JSONDecodeError:
        return {}
    project = os.environ.get(PROJECT_ENV, "")
    raw = config.get(f"{project}:{WAIVERS_SETTING}") if isinstance(config, dict) else None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _waivable(name: str, validate: Validate) -> tuple[Validate, Validate]:
    """The mandatory check, standing aside while `name` is waived, and its advisory `-waived`
    twin, which runs the same check only then."""

    def unless_waived(args: Any, report_violation: Callable[..., None]) -> None:
        if name in waivers():
            args.not_applicable(
                f"waived by the stack's {WAIVERS_SETTING} ({waivers()[name]}); "
                f"see {name}{WAIVED_SUFFIX}"
            )
        validate(args, report_violation)

    def when_waived(args: Any, report_violation: Callable[..., None]) -> None:
        reason = waivers().get(name)
        if reason is None:
            args.not_applicable(f"{name} is not waived; it is enforced")

        def report(message: str, *rest: Any, **kwargs: Any) -> None:
            report_violation(f"{message} (waived: {reason})", *rest, **kwargs)

        validate(args, report)

    return unless_waived, when_waived


def _mandatory(
    cls: type, *, name: str, description: str, validate: Validate, **kwargs: Any
) -> list[Any]:
    """A mandatory policy and its advisory `-waived` twin (see the module's docstring)."""
    enforced, waived = _waivable(name, validate)
    return [
        cls(
            name=name,
            description=description,
            validate=enforced,
            enforcement_level=EnforcementLevel.MANDATORY,
            **kwargs,
        ),
        cls(
            name=name + WAIVED_SUFFIX,
            description=description + f" Advisory while the stack waives it ({WAIVERS_SETTING}).",
            validate=waived,
            enforcement_level=EnforcementLevel.ADVISORY,
            **kwargs,
        ),
    ]


def _not_prod_reason(args: Any) -> str:
    return (
        f"stack {current_stack()!r} is not a production stack "
        f"({PROD_STACKS_KEY}: {', '.join(prod_stacks(args.get_config()))})"
    )


def control_url(control: str) -> str:
    """Security Hub's page for a control, e.g. ECS.4."""
    service = control.split(".")[0].lower()
    return CONTROLS_URL.format(service=service, anchor=control.lower().replace(".", "-"))


def _metadata(control: str | None, severity: Severity, remediation: str) -> dict[str, Any]:
    """Severity, remediation and, for a Security Hub control ("ECS.4", "ECS.2/ECS.16"), the
    framework reference and the control's documentation."""
    metadata: dict[str, Any] = {"severity": severity, "remediation_steps": remediation}
    if control is None:
        return {**metadata, "tags": ["fargate-app"]}
    first = control.split("/")[0]
    return {
        **metadata,
        "framework": PolicyComplianceFramework(
            name=FRAMEWORK_NAME, version=FRAMEWORK_VERSION, reference=control
        ),
        "url": control_url(first),
        "tags": ["security-hub", first.split(".")[0].lower()],
    }


def _policy_class(stack: bool) -> type:
    return StackValidationPolicy if stack else ResourceValidationPolicy


def everywhere(
    *,
    name: str,
    control: str | None,
    description: str,
    validate: Validate,
    severity: Severity,
    remediation: str,
    stack: bool = False,
) -> list[Any]:
    """A mandatory policy for every stack (and its `-waived` twin)."""
    return _mandatory(
        _policy_class(stack),
        name=name,
        description=description,
        validate=validate,
        **_metadata(control, severity, remediation),
    )


def prod_only(
    *,
    name: str,
    control: str | None,
    description: str,
    validate: Validate,
    severity: Severity,
    remediation: str,
    stack: bool = False,
) -> list[Any]:
    """A mandatory policy for production stacks, not applicable to the others."""

    def in_prod(args: Any, report_violation: Callable[..., None]) -> None:
        if not is_prod(args):
            args.not_applicable(_not_prod_reason(args))
        validate(args, report_violation)

    return _mandatory(
        _policy_class(stack),
        name=name,
        description=description,
        validate=in_prod,
        config_schema=PROD_CONFIG_SCHEMA,
        **_metadata(control, severity, remediation),
    )


def prod_mandatory_else_advisory(
    *,
    name: str,
    control: str | None,
    description: str,
    validate: Validate,
    severity: Severity,
    remediation: str,
    stack: bool = False,
) -> list[Any]:
    """The same check twice: mandatory in production stacks, advisory (`<name>-nonprod`) in the
    others, for controls whose cost a development stack may reasonably skip."""

    def in_prod(args: Any, report_violation: Callable[..., None]) -> None:
        if not is_prod(args):
            args.not_applicable(_not_prod_reason(args) + f"; see {name}{NONPROD_SUFFIX}")
        validate(args, report_violation)

    def outside_prod(args: Any, report_violation: Callable[..., None]) -> None:
        if is_prod(args):
            args.not_applicable(f"stack {current_stack()!r} is a production stack; see {name}")
        validate(args, report_violation)

    cls = _policy_class(stack)
    metadata = _metadata(control, severity, remediation)
    return [
        *_mandatory(
            cls,
            name=name,
            description=description,
            validate=in_prod,
            config_schema=PROD_CONFIG_SCHEMA,
            **metadata,
        ),
        cls(
            name=name + NONPROD_SUFFIX,
            description=description + " Advisory outside production stacks (it costs money).",
            validate=outside_prod,
            enforcement_level=EnforcementLevel.ADVISORY,
            config_schema=PROD_CONFIG_SCHEMA,
            **metadata,
        ),
    ]
