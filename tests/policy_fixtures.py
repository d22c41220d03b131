"""Runs the policy pack's policies the way the Pulumi engine does, without the engine.

What the engine does, and so what this does:
- properties travel as a protobuf Struct (numbers become floats), are deserialized by pulumi-policy
  and wrapped in its unknown-checking proxies (`Mapping`s, not `dict`s);
- a resource policy sees one resource's inputs; a stack policy sees every resource's outputs, with
  parents and dependencies resolved to the other resources;
- each policy gets its config: the defaults of its config schema (the CLI fills them in), then any
  overrides;
- the pack's process has the stack name in PULUMI_STACK, and the stack's config (its policy
  waivers) as JSON in PULUMI_CONFIG;
- `report_violation` records a finding at the policy's enforcement level; reading an unknown value
  becomes an advisory "can't run during preview" finding; `not_applicable` is recorded as such.

`resources_from_run` turns a program run under tools/mocks/ into the same inputs.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from tools.mocks import UNKNOWN, ProgramRun

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "policy"
# The CLI runs policy/__main__.py with policy/ on sys.path; the tests import the policies likewise.
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))

from security_controls import POLICIES  # noqa: E402

PROJECT = "fargate-app"
STACK_ENV = "PULUMI_STACK"
PROJECT_ENV = "PULUMI_PROJECT"
CONFIG_ENV = "PULUMI_CONFIG"
MANDATORY, ADVISORY = "mandatory", "advisory"


@dataclass(frozen=True)
class Res:
    """One resource as a policy sees it. `props` are the inputs (resource policies) and, unless
    `outputs` is given, also the outputs (stack policies). `deps` and `prop_deps` name other
    resources (by `name`) this one was computed from."""

    type: str
    props: Mapping[str, Any] = field(default_factory=dict)
    name: str = "r"
    outputs: Mapping[str, Any] | None = None
    deps: Sequence[str] = ()
    prop_deps: Mapping[str, Sequence[str]] = field(default_factory=dict)
    protect: bool = False
    parent: str | None = None
    urn: str = ""

    @property
    def the_urn(self) -> str:
        if self.urn:
            return self.urn
        return f"urn:pulumi:test::{PROJECT}::{self.type}::{self.name}"


@dataclass(frozen=True)
class Finding:
    policy: str
    level: str
    urn: str
    message: str

    def __str__(self) -> str:
        return f"[{self.level}] {self.policy} on {self.urn or 'the stack'}: {self.message}"


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == MANDATORY]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ADVISORY]

    def by_policy(self, name: str) -> list[Finding]:
        return [f for f in self.findings if f.policy == name]

    def messages(self) -> list[str]:
        return [f.message for f in self.findings]

    def report(self) -> str:
        return "\n".join(f"  - {f}" for f in self.findings) or "  (none)"

    def extend(self, other: Outcome) -> None:
        self.findings.extend(other.findings)
        self.not_applicable.extend(other.not_applicable)


def policy_named(name: str) -> Policy:
    found = [p for p in POLICIES if p.name == name]
    assert len(found) == 1, f"the pack has {len(found)} policies named {name!r}"
    return found[0]


def _plain(value: Any) -> Any:
    # A preview's outputs may hold the SDK's Unknown objects; on the wire they are this sentinel.
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def wire(props: Mapping[str, Any]) -> Any:
    """Properties as a policy receives them: through protobuf, deserialized, proxied."""
    struct = struct_pb2.Struct()
    struct.update(_plain(dict(props)))
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def policy_config(policy: Policy, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The config the CLI hands a policy: its schema's defaults, then the user's values."""
    config: dict[str, Any] = {}
    if policy.config_schema is not None:
        for key, schema in policy.config_schema.properties.items():
            if "default" in schema:
                config[key] = schema["default"]
    config.update(overrides or {})
    return config


@contextmanager
def stack_env(stack: str | None, waivers: Mapping[str, str] | None = None) -> Iterator[None]:
    """The environment the CLI starts the pack in: the stack's name, the project, and the stack's
    config as JSON (a map setting's value is itself JSON text, as `constructConfig` writes it)."""
    config = {f"{PROJECT}:policyWaivers": json.dumps(dict(waivers))} if waivers else None
    values = {
        STACK_ENV: stack,
        PROJECT_ENV: PROJECT if stack is not None else None,
        CONFIG_ENV: json.dumps(config) if config else None,
    }
    previous = {k: os.environ.get(k) for k in values}

    def apply(settings: Mapping[str, str | None]) -> None:
        for key, value in settings.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    apply(values)
    try:
        yield
    finally:
        apply(previous)


def _options(res: Res) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=res.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=res.parent,
    )


def _validate(
    policy: Policy,
    args: Any,
    default_urn: str,
    stack: str | None,
    waivers: Mapping[str, str] | None = None,
) -> Outcome:
    outcome = Outcome()
    level = policy.enforcement_level.value if policy.enforcement_level else MANDATORY

    def report_violation(message: str, urn: str | None = None) -> None:
        assert isinstance(message, str) and message, f"{policy.name}: empty violation message"
        outcome.findings.append(Finding(policy.name, level, urn or default_urn, message))

    with stack_env(stack, waivers):
        try:
            result = policy.validate(args, report_violation)  # type: ignore[attr-defined]
            if isawaitable(result):
                asyncio.run(result)  # type: ignore[arg-type]
        except UnknownValueError as err:
            # The engine reports this as an advisory of its own, whatever the policy's level.
            outcome.findings.append(
                Finding(
                    policy.name, ADVISORY, default_urn, f"can't run during preview: {err.message}"
                )
            )
        except _NotApplicableError as err:
            outcome.not_applicable.append((policy.name, err.reason or ""))
    return outcome


def check_resource(
    policy: Policy | str,
    res: Res,
    *,
    stack: str | None = "prod",
    config: Mapping[str, Any] | None = None,
    waivers: Mapping[str, str] | None = None,
) -> Outcome:
    """One resource policy against one resource's inputs."""
    policy = policy_named(policy) if isinstance(policy, str) else policy
    assert isinstance(policy, ResourceValidationPolicy), f"{policy.name} is not a resource policy"
    args = ResourceValidationArgs(
        res.type,
        wire(res.props),
        res.the_urn,
        res.name,
        _options(res),
        None,
        policy_config(policy, config),
    )
    return _validate(policy, args, res.the_urn, stack, waivers)


def stack_resources(resources: Iterable[Res]) -> list[PolicyResource]:
    """The stack as AnalyzeStack hands it over: outputs, with parents and dependencies linked."""
    items = list(resources)
    built = {
        r.the_urn: PolicyResource(
            r.type,
            wire(r.outputs if r.outputs is not None else r.props),
            r.the_urn,
            r.name,
            _options(r),
            None,
            None,
            [],
            {},
        )
        for r in items
    }
    by_name = {r.name: built[r.the_urn] for r in items}

    def find(ref: str) -> PolicyResource | None:
        return built.get(ref) or by_name.get(ref)

    for r in items:
        resource = built[r.the_urn]
        resource.parent = find(r.parent) if r.parent else None
        resource.dependencies = [d for d in map(find, r.deps) if d is not None]
        resource.property_dependencies = {
            prop: [d for d in map(find, names) if d is not None]
            for prop, names in r.prop_deps.items()
        }
    return list(built.values())


def check_stack(
    policy: Policy | str,
    resources: Iterable[Res],
    *,
    stack: str | None = "prod",
    config: Mapping[str, Any] | None = None,
    waivers: Mapping[str, str] | None = None,
) -> Outcome:
    """One stack policy against the whole stack."""
    policy = policy_named(policy) if isinstance(policy, str) else policy
    assert isinstance(policy, StackValidationPolicy), f"{policy.name} is not a stack policy"
    args = StackValidationArgs(stack_resources(resources), policy_config(policy, config))
    return _validate(policy, args, "", stack, waivers)


def check(
    policy: Policy | str,
    resources: Iterable[Res],
    *,
    stack: str | None = "prod",
    config: Mapping[str, Any] | None = None,
    waivers: Mapping[str, str] | None = None,
) -> Outcome:
    """A policy of either kind: every resource, or the stack."""
    policy = policy_named(policy) if isinstance(policy, str) else policy
    items = list(resources)
    if isinstance(policy, StackValidationPolicy):
        return check_stack(policy, items, stack=stack, config=config, waivers=waivers)
    outcome = Outcome()
    for res in items:
        outcome.extend(check_resource(policy, res, stack=stack, config=config, waivers=waivers))
    return outcome


def evaluate(
    resources: Iterable[Res],
    *,
    stack: str | None,
    policies: Iterable[Policy] = POLICIES,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    waivers: Mapping[str, str] | None = None,
) -> Outcome:
    """The whole pack against a stack, as `pulumi preview --policy-pack policy` would run it
    (`waivers`: the stack's policyWaivers setting)."""
    items = list(resources)
    outcome = Outcome()
    for policy in policies:
        overrides = (config or {}).get(policy.name)
        outcome.extend(check(policy, items, stack=stack, config=overrides, waivers=waivers))
    return outcome


def resources_from_run(run: ProgramRun) -> list[Res]:
    """A program run under the mocks as the policies see it: inputs for resource policies, outputs
    (with the ID, as the AWS provider's state has it) for stack policies."""
    found = []
    for record in run.resources:
        outputs = dict(record.outputs)
        if record.custom and record.id:
            outputs.setdefault("id", record.id)
        found.append(
            Res(
                type=record.type,
                props=record.inputs,
                name=record.name,
                urn=record.urn,
                outputs=outputs if record.custom else record.inputs,
                deps=tuple(record.depends_on),
                protect=record.protect,
                parent=record.parent or None,
            )
        )
    return found
