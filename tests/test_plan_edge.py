"""The plan of a stack with CloudFront and WAF (tools/plan: cost, deploy model, tree).

What a reviewer relies on: CloudFront adds nothing to the idle cost and its traffic charges are
named; moving behind CloudFront drops exactly the load balancer's public addresses; WAF is priced
per web ACL and per rule from what the program registers; the origin response timeout shows in
the plan; the distribution's first creation is modelled apart from the app's rollout, which is
what it was without CloudFront and does not wait for the edge.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.test_plan import PROJECT, fake
from tools.mocks import ProgramRun
from tools.plan import cost, deploy, render
from tools.plan.model import plan_of
from tools.plan.refs import Index

NONE = {"edge": "none"}
CLOUDFRONT = {"edge": "cloudfront"}
WAF = {"waf": True}
STACKS = ("dev", "prod")


@pytest.fixture
def plan(run_stack: Callable[..., ProgramRun]) -> Callable[..., dict[str, Any]]:
    def build(stack: str, **overrides: Any) -> dict[str, Any]:
        return plan_of(run_stack(stack, overrides), PROJECT)

    return build


def items(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["item"]: i for i in plan["cost"]["items"]}


@pytest.mark.parametrize("stack", STACKS)
def test_cloudfront_costs_nothing_idle_and_drops_the_load_balancer_s_addresses(
    plan, stack: str
) -> None:
    before, after = plan(stack, **NONE), plan(stack, **CLOUDFRONT)
    addresses = items(before)["Public IPv4: load balancer"]["monthly"]
    assert "Public IPv4: load balancer" not in items(after), "an internal one has no public IP"
    assert after["cost"]["total"] == pytest.approx(before["cost"]["total"] - addresses)
    assert any("CloudFront requests" in e for e in after["cost"]["excluded"]), (
        "CloudFront's per-request and transfer charges must be named"
    )


@pytest.mark.parametrize("edge", [NONE, CLOUDFRONT], ids=["load-balancer", "cloudfront"])
def test_waf_is_priced_per_web_acl_and_per_rule(plan, run_stack, edge: dict[str, Any]) -> None:
    run = run_stack("dev", {**edge, **WAF})
    rules = len(run.one("aws:wafv2/webAcl:WebAcl").inputs["rules"])
    found = items(plan("dev", **edge, **WAF))
    assert found["AWS WAF web ACL"]["monthly"] == float(cost.WAF_ACL_MONTH.usd)
    assert found["AWS WAF web ACL rules"]["quantity"] == rules
    assert found["AWS WAF web ACL rules"]["monthly"] == float(rules * cost.WAF_RULE_MONTH.usd)
    excluded = plan("dev", **edge, **WAF)["cost"]["excluded"]
    assert any("WAF requests" in e for e in excluded), "WAF's per-request charge must be named"


def test_waf_prices_carry_their_source() -> None:
    for price in (cost.WAF_ACL_MONTH, cost.WAF_RULE_MONTH):
        assert price.source == "https://aws.amazon.com/waf/pricing/" and price.per == "month"


@pytest.mark.parametrize("timeout", [30, 45])
def test_the_plan_shows_the_origin_response_timeout(plan, timeout: int) -> None:
    text = render.render(plan("dev", **CLOUDFRONT, originResponseTimeout=timeout))
    assert f"origin response timeout: {timeout} s" in text


def test_the_plan_shows_what_is_cached_and_what_reaches_the_app(plan) -> None:
    text = render.render(plan("dev", **CLOUDFRONT, cachedPaths=["/static/*"]))
    assert "default: CachingDisabled, forwards AllViewerAndCloudFrontHeaders-2022-06" in text
    assert "path /static/*: CachingOptimized, forwards HostHeaderOnly" in text
    assert "scheme: internal" in text


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_s_rollout_is_what_it_was_and_does_not_wait_for_the_edge(plan, stack: str) -> None:
    before, after = plan(stack, **NONE)["deploy"], plan(stack, **CLOUDFRONT)["deploy"]
    assert after["services"] == before["services"], "CloudFront must not slow the app's rollout"
    assert before["edge"] is None
    assert after["edge"]["app_rollout_waits"] is False, after["edge"]["waiting_services"]


def test_the_edge_s_first_creation_is_modelled_apart(plan) -> None:
    edge = plan("dev", **CLOUDFRONT)["deploy"]["edge"]
    steps = {s["step"]: s["seconds"] for s in edge["steps"]}
    assert steps["origin"] == deploy.VPC_ORIGIN_DEPLOY_MAX_S == 900, "AWS: up to 15 minutes"
    assert edge["total"] == sum(steps.values())
    text = render.render(plan("dev", **CLOUDFRONT))
    assert "First creation of the CloudFront edge" in text
    assert "the app's rollout does not wait for it" in text


def test_a_service_that_waited_for_the_edge_would_be_named() -> None:
    """The check above can fail: a service depending on the distribution is found."""
    distribution = fake("aws:cloudfront/distribution:Distribution", "cdn", {})
    service = fake("aws:ecs/service:Service", "app", {})
    service.depends_on = [distribution.urn]
    index = Index([distribution, service])
    edge = deploy.edge_first_creation(index)
    assert edge is not None and edge["app_rollout_waits"] and edge["waiting_services"] == ["app"]


def test_an_internal_load_balancer_is_priced_without_public_addresses() -> None:
    lb = fake("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": True, "subnets": ["a", "b"]})
    lines = cost.estimate(Index([lb]), "us-east-1")["items"]
    assert [i["item"] for i in lines] == ["Application Load Balancer"], "no public IPv4 line"
