"""Moving a deployed stack from `edge: none` to `edge: cloudfront` (docs/edge.md).

What an operator relies on, from the plan of the switch (the program run with both settings,
compared by URN and by the inputs that make pulumi-aws replace a resource; tools/replacements.py):
`pulumi up` replaces the load balancer with its security group, listeners and the service's rule,
deletes the internet-facing ingress rules and creates the edge; the network, the target groups,
the task definition and the service's tasks stay as they are; the old rule goes before the new one
(a target group serves one load balancer at a time); prod's replaced load balancer is
deletion-protected; blueGreen and canary stacks need syncTrafficRouting for that one `pulumi up`;
a domain's records move to the distribution in place; and the url changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tools.mocks import ProgramRun
from tools.replacements import REPLACED_WHEN, Changes, changes

BEFORE = {"edge": "none", "waf": False}  # a stack deployed before issue 17
DOMAIN = {"domainName": "app.example.com", "hostedZone": "example.com"}
REPLACED = {"web-alb", "web-sg", "web-http", "app-lb-to-tasks", "app-route"}
EDGE = {"edge-origin", "edge-from-cloudfront", "edge-cdn"}
WAF = {"waf-acl", "waf-logging", "waf-logs"}


def switch(run_stack, stack: str, extra: dict[str, Any] | None = None) -> Changes:
    extra = extra or {}
    before: ProgramRun = run_stack(stack, {**BEFORE, **extra})
    after: ProgramRun = run_stack(stack, extra)  # the committed stack: edge cloudfront
    return changes(before, after)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_switch_replaces_the_load_balancer_and_what_hangs_on_it(run_stack, stack) -> None:
    found = switch(run_stack, stack)
    assert found.names("replaced") == REPLACED, (
        "the internal load balancer is a new one (scheme cannot change); its group's description, "
        "its listener and the service's rule follow it"
    )
    assert found.names("deleted") == {"web-http-ipv4", "web-http-ipv6"}, "nothing from the world"
    assert found.names("updated") == {"app-from-lb"}, "the tasks admit the new group, in place"
    assert not found.unclassified, f"REPLACED_WHEN has no row for {found.unclassified}"


def test_dev_gains_the_edge_and_prod_the_edge_and_its_web_acl(run_stack) -> None:
    assert switch(run_stack, "dev").names("created") == EDGE
    assert switch(run_stack, "prod").names("created") == EDGE | WAF


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_network_and_the_running_app_stay_as_they_are(run_stack, stack) -> None:
    found = switch(run_stack, stack)
    touched = found.replaced | found.updated | found.deleted
    kept = {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:lb/targetGroup:TargetGroup"}
    kept |= {"aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition"}
    moved = [urn for urn in touched if urn.split("::")[2].rsplit("$", 1)[-1] in kept]
    assert not moved, f"the switch must not touch {moved}: the tasks keep serving"


def test_the_old_rule_goes_before_the_new_one(run_stack) -> None:
    rule = run_stack("dev").named("app-route")
    assert rule.delete_before_replace, (
        "a target group serves one load balancer at a time: a new rule on the new listener, "
        "with the old one still in place, would be refused"
    )


def test_prod_s_replaced_load_balancer_is_deletion_protected(run_stack) -> None:
    before = run_stack("prod", BEFORE).named("web-alb")
    assert before.inputs["enableDeletionProtection"] is True, "docs/edge.md: turn it off first"
    assert "web-alb" in switch(run_stack, "prod").names("replaced")


@pytest.mark.parametrize("strategy", ["blueGreen", "canary"])
def test_traffic_shifting_stacks_need_sync_traffic_routing_for_the_switch(
    run_stack, strategy: str
) -> None:
    left = switch(run_stack, "dev", {"deploymentStrategy": strategy})
    assert left.names("stale") == {"app-svc"}, (
        "ECS owns the service's load balancer settings, so without syncTrafficRouting the "
        "service keeps naming the deleted rule"
    )
    synced = switch(run_stack, "dev", {"deploymentStrategy": strategy, "syncTrafficRouting": True})
    assert not synced.stale and "app-svc" in synced.names("updated")


def test_a_domain_moves_to_the_distribution_in_place(run_stack) -> None:
    found = switch(run_stack, "prod", DOMAIN)
    assert {"domain-a", "domain-aaaa"} <= found.names("updated"), "alias records retarget in place"
    kept = {"domain-cert", "domain-validation", "domain-validated"}
    assert not kept & (found.names("replaced") | found.names("deleted")), "the certificate stays"
    assert found.names("replaced") == REPLACED | {"web-https"}


def test_the_url_changes_to_the_distribution_s(run_stack) -> None:
    before, after = run_stack("dev", BEFORE), run_stack("dev")
    assert before.outputs["url"].startswith("http://") and ".elb." in before.outputs["url"]
    assert (
        after.outputs["url"]
        == f"https://{after.one('aws:cloudfront/distribution:Distribution').outputs['domainName']}"
    )


def test_the_replacement_table_names_only_real_inputs(run_stack) -> None:
    """A misspelt input in REPLACED_WHEN would never differ, and hide a replacement."""
    run = run_stack("prod", {**BEFORE, **DOMAIN})
    for type_, keys in REPLACED_WHEN.items():
        for r in run.of_type(type_):
            # `name`: Pulumi names these resources itself (autonaming), so it is no input.
            missing = [k for k in keys if k not in r.inputs and k != "name"]
            assert not missing, f"{r.urn} registers no {missing}"
