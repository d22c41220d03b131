"""AWS WAF in front of the app (components/web_acl.py, `waf: true`).

What a user relies on: with `waf` on, every request meets AWS's managed Common, KnownBadInputs and
Amazon IP reputation rules and a per-IP rate limit of their choosing, where the traffic enters
(CloudFront, or the load balancer without it); every request WAF inspects is logged to a log group
WAF accepts, in the ACL's own region, kept as long as the stack's logs; WAF accepts the ACL and the
logging as written; without `waf` nothing of it exists.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.spec import CLOUDFRONT_REGION, WAF_RATE_WINDOW_S
from components.web_acl import LOG_GROUP_PREFIX, MANAGED_RULE_GROUPS
from tests.api_shapes import operation, problems, request
from tools.mocks import ProgramRun, RegisteredResource

ON_CLOUDFRONT = {"edge": "cloudfront", "waf": True}
ON_LOAD_BALANCER = {"edge": "none", "waf": True}
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CREATE_WEB_ACL = operation("wafv2", "CreateWebACL")
PUT_LOGGING = operation("wafv2", "PutLoggingConfiguration")
# WCUs an ACL gets without WAF's extra charge (AWS WAF Developer Guide, "Web ACL capacity units").
FREE_CAPACITY_WCUS = 1500


@pytest.fixture(params=["cloudfront", "load-balancer"])
def placed(request: pytest.FixtureRequest) -> dict[str, Any]:
    return ON_CLOUDFRONT if request.param == "cloudfront" else ON_LOAD_BALANCER


def waf_log_group(run: ProgramRun) -> RegisteredResource:
    [group] = [g for g in run.of_type(LOG_GROUP) if g.name == "waf-logs"]
    return group


def test_with_cloudfront_the_acl_is_cloudfront_s_in_us_east_1(run_stack) -> None:
    run = run_stack("dev", {**ON_CLOUDFRONT, "aws:region": "eu-west-1"})
    acl = run.one(WEB_ACL)
    assert (acl.inputs["scope"], acl.inputs["region"]) == ("CLOUDFRONT", CLOUDFRONT_REGION)
    assert acl.outputs["arn"].split(":")[3] == CLOUDFRONT_REGION
    assert run.one(DISTRIBUTION).inputs["webAclId"] == acl.outputs["arn"]
    assert not run.of_type(ASSOCIATION), "WAF associates no CloudFront distribution"


def test_without_cloudfront_the_acl_guards_the_load_balancer_in_its_region(run_stack) -> None:
    run = run_stack("dev", {**ON_LOAD_BALANCER, "aws:region": "eu-west-1"})
    acl = run.one(WEB_ACL)
    assert acl.inputs["scope"] == "REGIONAL" and not acl.inputs.get("region")
    assert acl.outputs["arn"].split(":")[3] == "eu-west-1"
    association = run.one(ASSOCIATION)
    assert association.inputs["resourceArn"] == run.one("aws:lb/loadBalancer:LoadBalancer").id
    assert association.inputs["webAclArn"] == acl.outputs["arn"]


def test_aws_managed_rule_groups_apply_as_aws_wrote_them(run_stack, placed) -> None:
    rules = run_stack("prod", placed).one(WEB_ACL).inputs["rules"]
    managed = {
        r["statement"]["managedRuleGroupStatement"]["name"]: r
        for r in rules
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert (
        set(managed)
        == {
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList",
        }
        == set(MANAGED_RULE_GROUPS.values())
    )
    for name, rule in managed.items():
        assert rule["statement"]["managedRuleGroupStatement"]["vendorName"] == "AWS", name
        assert rule["overrideAction"] == {"none": {}}, f"{name} must block, not only count"


@pytest.mark.parametrize("limit", [10, 2000, 50_000])
def test_one_ip_is_blocked_past_the_rate_limit(run_stack, limit: int) -> None:
    rules = run_stack("dev", {**ON_CLOUDFRONT, "wafRateLimit": limit}).one(WEB_ACL).inputs["rules"]
    [rate] = [r for r in rules if "rateBasedStatement" in r["statement"]]
    statement = rate["statement"]["rateBasedStatement"]
    assert (statement["limit"], statement["aggregateKeyType"]) == (limit, "IP")
    assert statement["evaluationWindowSec"] == WAF_RATE_WINDOW_S == 300
    assert rate["action"] == {"block": {}}


def test_requests_pass_unless_a_rule_blocks_them(run_stack, placed) -> None:
    acl = run_stack("dev", placed).one(WEB_ACL)
    assert acl.inputs["defaultAction"] == {"allow": {}}
    priorities = [r["priority"] for r in acl.inputs["rules"]]
    assert len(set(priorities)) == len(priorities), "WAF needs a priority per rule"


def test_the_acl_and_every_rule_publish_metrics_and_samples(run_stack, placed) -> None:
    acl = run_stack("dev", placed).one(WEB_ACL)
    for config in [
        acl.inputs["visibilityConfig"],
        *(r["visibilityConfig"] for r in acl.inputs["rules"]),
    ]:
        assert config["cloudwatchMetricsEnabled"] and config["sampledRequestsEnabled"], config


def test_the_rules_fit_the_acl_s_capacity_without_extra_charge(run_stack, placed) -> None:
    capacity = run_stack("dev", placed).one(WEB_ACL).outputs["capacity"]
    assert 0 < capacity <= FREE_CAPACITY_WCUS, f"{capacity} WCUs"


def test_every_request_is_logged_where_waf_can_write(run_stack, placed) -> None:
    run = run_stack("prod", placed)
    group, logging, acl = waf_log_group(run), run.one(LOGGING), run.one(WEB_ACL)
    assert group.inputs["name"].startswith(LOG_GROUP_PREFIX), "WAF writes only to aws-waf-logs-*"
    assert group.inputs.get("region") == acl.inputs.get("region"), "the ACL's own region"
    assert logging.inputs["resourceArn"] == acl.outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert not group.outputs["arn"].endswith(":*"), "WAF refuses a log group ARN ending in :*"


@pytest.mark.parametrize(("stack", "days"), [("dev", 7), ("prod", 90)])
def test_waf_logs_are_kept_as_long_as_the_stack_s_logs(run_stack, stack: str, days: int) -> None:
    group = waf_log_group(run_stack(stack, ON_CLOUDFRONT))
    assert group.inputs["retentionInDays"] == days


def test_prod_keeps_its_waf_logs_on_delete(run_stack) -> None:
    assert waf_log_group(run_stack("prod", ON_CLOUDFRONT)).protect


def test_waf_accepts_the_acl(run_stack, placed) -> None:
    acl = run_stack("prod", placed).one(WEB_ACL)
    shape = CREATE_WEB_ACL.input_shape
    api = request(acl.inputs, shape)
    assert not problems(api, shape), f"{acl.urn}: {problems(api, shape)}"


def test_waf_accepts_the_logging_configuration(run_stack, placed) -> None:
    logging = run_stack("prod", placed).one(LOGGING)
    shape = PUT_LOGGING.input_shape
    api = request({"loggingConfiguration": logging.inputs}, shape)
    assert not problems(api, shape), f"{logging.urn}: {problems(api, shape)}"


def test_without_waf_there_is_no_acl(dev) -> None:
    assert not [r.urn for r in dev.resources if r.type.startswith("aws:wafv2")]


def test_a_preview_plans_the_same_acl(run_stack, placed) -> None:
    run = run_stack("dev", placed, preview=True)
    assert run.error is None, run.error
    assert run.one(WEB_ACL).inputs["rules"] == run_stack("dev", placed).one(WEB_ACL).inputs["rules"]
