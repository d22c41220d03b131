"""The policy pack's CloudFront and WAF controls (policy/security_controls/cloudfront.py, waf.py).

What a reviewer relies on: each control fails a stack that breaks it, naming the resource, and
passes the committed stacks; the CloudFront.9 exception (HTTP to a load balancer with no
certificate, through a VPC origin) holds only while the load balancer has no HTTPS listener; a
preview, which knows no ARNs yet, does not fail the controls that link resources.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from tests.policy_fixtures import MANDATORY, Outcome, Res, check, resources_from_run
from tools.mocks import ProgramRun

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
VPC_ORIGIN = "aws:cloudfront/vpcOrigin:VpcOrigin"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
DOMAIN = {"domainName": "app.example.com", "hostedZone": "example.com"}
EDGE_POLICIES = (
    "cloudfront-viewers-https",
    "cloudfront-tls-to-origin",
    "cloudfront-origin-tls-modern",
    "waf-in-prod",
    "waf-acl-has-rules",
    "waf-logging",
    "waf-rule-metrics",
)


def resources(run: ProgramRun) -> list[Res]:
    assert run.error is None, run.error
    return resources_from_run(run)


def tamper(found: list[Res], type_: str, change: Callable[[dict[str, Any]], None]) -> list[Res]:
    """The stack with `change` applied to the inputs and outputs of every resource of `type_`."""
    out = []
    for res in found:
        if res.type == type_:
            props, outputs = copy.deepcopy(dict(res.props)), copy.deepcopy(dict(res.outputs or {}))
            change(props)
            change(outputs)
            res = replace(res, props=props, outputs=outputs)
        out.append(res)
    return out


def fails_on(outcome: Outcome, type_: str) -> None:
    assert outcome.mandatory, f"expected a mandatory finding:\n{outcome.report()}"
    assert all(f"${type_}::" in f.urn or f"::{type_}::" in f.urn for f in outcome.mandatory), (
        outcome.report()
    )


# --- the committed stacks pass --------------------------------------------------------------------


@pytest.mark.parametrize("policy", EDGE_POLICIES)
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_committed_stacks_meet_the_edge_controls(run_stack, stack: str, policy: str) -> None:
    outcome = check(policy, resources(run_stack(stack)), stack=stack)
    assert not outcome.findings, outcome.report()


@pytest.mark.parametrize("policy", EDGE_POLICIES)
def test_a_first_preview_of_prod_meets_them_too(prod_preview, policy: str) -> None:
    outcome = check(policy, resources(prod_preview), stack="prod")
    assert not outcome.mandatory, outcome.report()


@pytest.mark.parametrize("policy", EDGE_POLICIES)
def test_prod_with_a_domain_and_cached_paths_meets_them(run_stack, policy: str) -> None:
    run = run_stack("prod", {**DOMAIN, "cachedPaths": ["/static/*"]})
    assert not check(policy, resources(run), stack="prod").findings


# --- CloudFront.3 ---------------------------------------------------------------------------------


def test_cloudfront_3_a_behavior_serving_plain_http_fails(run_stack) -> None:
    def allow_all(props: dict[str, Any]) -> None:
        props["orderedCacheBehaviors"][0]["viewerProtocolPolicy"] = "allow-all"

    run = run_stack("dev", {"cachedPaths": ["/static/*"]})
    outcome = check("cloudfront-viewers-https", tamper(resources(run), DISTRIBUTION, allow_all))
    fails_on(outcome, DISTRIBUTION)
    assert "/static/*" in outcome.mandatory[0].message


# --- CloudFront.9 ---------------------------------------------------------------------------------


def http_only(props: dict[str, Any]) -> None:
    props["vpcOriginEndpointConfig"]["originProtocolPolicy"] = "http-only"


def test_cloudfront_9_http_to_a_load_balancer_with_a_certificate_fails(run_stack) -> None:
    found = tamper(resources(run_stack("prod", DOMAIN)), VPC_ORIGIN, http_only)
    fails_on(check("cloudfront-tls-to-origin", found), VPC_ORIGIN)


def test_cloudfront_9_http_to_a_load_balancer_without_a_certificate_is_the_exception(
    dev: ProgramRun,
) -> None:
    origin = dev.one(VPC_ORIGIN).inputs["vpcOriginEndpointConfig"]
    assert origin["originProtocolPolicy"] == "http-only", "the exception is what dev relies on"
    assert not check("cloudfront-tls-to-origin", resources(dev)).findings


def test_cloudfront_9_a_custom_origin_over_http_fails() -> None:
    distribution = Res(
        DISTRIBUTION,
        {
            "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https"},
            "origins": [
                {
                    "originId": "web",
                    "domainName": "web.example.com",
                    "customOriginConfig": {"originProtocolPolicy": "http-only"},
                }
            ],
        },
        name="cdn",
    )
    fails_on(check("cloudfront-tls-to-origin", [distribution]), DISTRIBUTION)


# --- CloudFront.10 --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["SSLv3", "TLSv1", "TLSv1.1"])
def test_cloudfront_10_a_deprecated_protocol_towards_the_origin_fails(
    run_stack, protocol: str
) -> None:
    def deprecated(props: dict[str, Any]) -> None:
        props["vpcOriginEndpointConfig"]["originSslProtocols"]["items"] = [protocol, "TLSv1.2"]

    found = tamper(resources(run_stack("prod", DOMAIN)), VPC_ORIGIN, deprecated)
    outcome = check("cloudfront-origin-tls-modern", found)
    fails_on(outcome, VPC_ORIGIN)
    assert protocol in outcome.mandatory[0].message


# --- CloudFront.6 and the internet-facing load balancer ------------------------------------------


@pytest.mark.parametrize("edge", ["cloudfront", "none"])
def test_waf_in_prod_a_production_stack_without_a_web_acl_fails(run_stack, edge: str) -> None:
    found = resources(run_stack("prod", {"edge": edge, "waf": False}))
    outcome = check("waf-in-prod", found, stack="prod")
    assert len(outcome.mandatory) == 1, outcome.report()
    entry = DISTRIBUTION if edge == "cloudfront" else "aws:lb/loadBalancer:LoadBalancer"
    fails_on(outcome, entry)


def test_waf_in_prod_is_not_applied_to_dev(dev: ProgramRun) -> None:
    outcome = check("waf-in-prod", resources(dev), stack="dev")
    assert not outcome.findings and outcome.not_applicable, outcome.report()


@pytest.mark.parametrize("edge", ["cloudfront", "none"])
def test_waf_in_prod_a_web_acl_where_traffic_enters_passes(run_stack, edge: str) -> None:
    found = resources(run_stack("prod", {"edge": edge, "waf": True}))
    assert not check("waf-in-prod", found, stack="prod").findings


# --- WAF.10, WAF.11, WAF.12 -----------------------------------------------------------------------


def test_waf_10_a_web_acl_without_rules_fails(prod: ProgramRun) -> None:
    def no_rules(props: dict[str, Any]) -> None:
        props["rules"] = []

    fails_on(check("waf-acl-has-rules", tamper(resources(prod), WEB_ACL, no_rules)), WEB_ACL)


def test_waf_11_a_web_acl_that_logs_nothing_fails(prod: ProgramRun) -> None:
    found = [r for r in resources(prod) if r.type != WEB_ACL_LOGGING]
    fails_on(check("waf-logging", found), WEB_ACL)


def test_waf_12_a_rule_without_metrics_fails(prod: ProgramRun) -> None:
    def dark(props: dict[str, Any]) -> None:
        props["rules"][1]["visibilityConfig"]["cloudwatchMetricsEnabled"] = False

    outcome = check("waf-rule-metrics", tamper(resources(prod), WEB_ACL, dark))
    fails_on(outcome, WEB_ACL)
    assert prod.one(WEB_ACL).inputs["rules"][1]["name"] in outcome.mandatory[0].message


def test_each_edge_control_is_mandatory_and_waivable() -> None:
    from stack_config import WAIVABLE_POLICIES
    from tests.policy_fixtures import policy_named

    for name in EDGE_POLICIES:
        assert policy_named(name).enforcement_level.value == MANDATORY, name
        assert name in WAIVABLE_POLICIES, f"{name} cannot be waived in policyWaivers"
