"""What the app's tasks may connect to (components/service.py's security group, components/spec.py's
EgressRule, stack_config's taskEgress).

What a user relies on: a task opens HTTPS to anywhere (image pulls, logs, secrets, exec and the
app's own HTTPS calls) and nothing else unless the stack says so; DNS needs no rule; a setting adds
what the app needs beyond that, each entry checked before anything is created; narrowing the old
all-traffic rule happens in place, under the same URN; and EC2 accepts every rule the program
writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.service import LB_EGRESS_SUFFIX
from components.spec import HTTPS_EGRESS, SG_RULE_DESCRIPTION, EgressRule, egress_problems
from stack_config import ConfigError, load_config
from tools.mocks import ProgramRun, RegisteredResource

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "prod")
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
POSTGRES = {"postgres": {"port": 5432, "cidr": "10.20.0.0/16", "description": "Orders database"}}


def task_group_egress(run: ProgramRun) -> list[RegisteredResource]:
    """The egress rules of the group the ECS service's tasks run in (by ID once deployed; in a
    preview, where IDs are unknown, the service component's rules but the load balancer's way to
    its tasks, which the component adds to the load balancer's group)."""
    [component] = [r for r in run.of_type("fargate-app:service:FargateService") if r.name == "app"]
    rules = [r for r in run.children(component) if r.type == EGRESS]
    if run.preview:
        return [r for r in rules if not r.name.endswith(f"-{LB_EGRESS_SUFFIX}")]
    [service] = [r for r in run.children(component) if r.type == "aws:ecs/service:Service"]
    [group_id] = service.inputs["networkConfiguration"]["securityGroups"]
    return [r for r in rules if r.inputs["securityGroupId"] == group_id]


def admitted(rules: list[RegisteredResource]) -> set[tuple[Any, ...]]:
    return {
        (
            r.inputs["ipProtocol"],
            r.inputs.get("fromPort"),
            r.inputs.get("toPort"),
            r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"),
        )
        for r in rules
    }


def load(**settings: Any) -> Any:
    return load_config({"aws:region": "us-east-1", **settings}, stack="test")


def egress_problem(**entries: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(taskEgress=entries)
    return "\n".join(caught.value.problems)


# --- the default ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_tasks_may_open_https_to_anywhere_and_nothing_else(run_stack, stack: str) -> None:
    rules = task_group_egress(run_stack(stack))
    assert admitted(rules) == {("tcp", 443, 443, "0.0.0.0/0")}, (
        f"{stack}'s tasks may reach {admitted(rules)}; want HTTPS only"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_the_https_rule_is_the_old_all_traffic_rule_narrowed_in_place(run_stack, stack) -> None:
    """Same logical name and parent as the all-traffic rule it replaces, so `pulumi up` modifies
    that rule (ModifySecurityGroupRules) rather than creating one and deleting the other."""
    [rule] = task_group_egress(run_stack(stack))
    urns = (ROOT / "tests" / "snapshots" / f"{stack}.urns").read_text().split()
    assert rule.urn in urns, f"{rule.urn} is not the URN the stack has deployed"


def test_preview_shows_what_the_tasks_may_reach(run_stack) -> None:
    rules = task_group_egress(run_stack("prod", preview=True))
    assert admitted(rules) == {("tcp", 443, 443, "0.0.0.0/0")}


def test_no_rule_is_needed_for_dns() -> None:
    """Security groups do not filter the Amazon-provided resolver (spec.EgressRule says where
    AWS documents it): the program opens no port 53."""
    assert all(rule.port != 53 for rule in load().egress_rules)


# --- taskEgress ---------------------------------------------------------------------------------


def test_a_task_egress_entry_becomes_a_rule_of_the_tasks_group(run_stack) -> None:
    rules = task_group_egress(run_stack("dev", {"taskEgress": POSTGRES}))
    assert admitted(rules) == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 5432, 5432, "10.20.0.0/16")}
    [postgres] = [r for r in rules if r.inputs["fromPort"] == 5432]
    assert postgres.name == "app-egress-postgres" and postgres.inputs["description"] == (
        "Orders database"
    )


def test_an_ipv6_destination_and_a_udp_port_range_are_written_as_ec2_takes_them(
    run_stack,
) -> None:
    entries = {"stun": {"port": "3478-3479", "protocol": "udp", "cidr": "2001:db8::/32"}}
    [stun] = [
        r
        for r in task_group_egress(run_stack("dev", {"taskEgress": entries}))
        if r.name.endswith("stun")
    ]
    assert (stun.inputs["ipProtocol"], stun.inputs["fromPort"], stun.inputs["toPort"]) == (
        "udp",
        3478,
        3479,
    )
    assert stun.inputs["cidrIpv6"] == "2001:db8::/32" and "cidrIpv4" not in stun.inputs


def test_the_setting_loads_as_rules_after_https() -> None:
    cfg = load(taskEgress=POSTGRES)
    assert cfg.egress_rules == (
        HTTPS_EGRESS,
        EgressRule(name="postgres", port=5432, cidr="10.20.0.0/16", description="Orders database"),
    )


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ({"cidr": "10.0.0.0/8"}, "taskEgress.db.port: not set"),
        ({"port": 5432}, "taskEgress.db.cidr: not set"),
        ({"port": 70000, "cidr": "10.0.0.0/8"}, "ports are 1 to 65535"),
        ({"port": "9-1", "cidr": "10.0.0.0/8"}, "first no higher than its last"),
        ({"port": 5432, "cidr": "10.0.0.1/8"}, "expected an IPv4 or IPv6 CIDR"),
        ({"port": 5432, "cidr": "10.0.0.0/8", "protocol": "icmp"}, "expected tcp or udp"),
        ({"port": 5432, "cidr": "10.0.0.0/8", "protocl": "udp"}, "did you mean `protocol`?"),
        ({"port": 5432, "cidr": "10.0.0.0/8", "description": "Bob's db"}, "description"),
    ],
    ids=[
        "no-port",
        "no-cidr",
        "port-too-high",
        "backwards-range",
        "host-bits-set",
        "icmp",
        "misspelt-field",
        "apostrophe",
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(entry: dict[str, Any], says: str) -> None:
    assert says in egress_problem(db=entry)


def test_an_entry_that_repeats_the_https_rule_is_refused() -> None:
    problem = egress_problem(web={"port": 443, "cidr": "0.0.0.0/0"})
    assert "taskEgress.web: admits tcp 443 to 0.0.0.0/0, as https does already" in problem


def test_a_bad_entry_name_is_refused() -> None:
    assert "names are 1 to 32 lower-case letters" in egress_problem(
        **{"Orders_DB": {"port": 5432, "cidr": "10.0.0.0/8"}}
    )


# --- the component ------------------------------------------------------------------------------


def test_the_component_refuses_rules_ec2_would_refuse() -> None:
    rules = (
        HTTPS_EGRESS,
        EgressRule(name="https", port=8443),
        EgressRule(name="all", port=0, to_port=65535, protocol="-1"),
    )
    found = "\n".join(egress_problems(rules))
    assert "https: the name is used twice" in found
    assert "protocol '-1'" in found and "ports 0-65535" in found


# --- every rule the program writes ---------------------------------------------------------------


def test_every_security_group_rule_description_is_one_ec2_accepts(run_stack) -> None:
    variants = [
        run_stack("prod"),
        run_stack("dev", {"vpcEndpoints": True, "natGateways": "none", "taskEgress": POSTGRES}),
        run_stack(
            "dev",
            {
                "edge": "none",
                "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            },
        ),
    ]
    for run in variants:
        for rule in [*run.of_type(EGRESS), *run.of_type(INGRESS)]:
            description = rule.inputs.get("description", "")
            assert SG_RULE_DESCRIPTION.match(description), (
                f"{rule.urn}: EC2 refuses the description {description!r}"
            )
