"""Web ACL: AWS WAF in front of the app, with AWS's managed rules and a per-IP rate limit, logged.

Scope CLOUDFRONT (the distribution names the ACL; components.edge) or REGIONAL (associated with the
load balancer). A CLOUDFRONT ACL, and the log group it writes to, live in us-east-1 whatever the
stack's region: pulumi-aws 7 takes the region per resource, so no second provider is needed.

The rules, in the order WAF evaluates them (lowest priority first):
- AWS's Amazon IP reputation list: addresses Amazon's threat intelligence has seen attack.
- a rate limit per client IP over WAF's 5-minute window: a flood is blocked before the costlier
  content rules look at it.
- AWS's known bad inputs (Log4j-style exploits, bad paths) and the core rule set (OWASP-style
  SQL injection, XSS, oversized bodies and headers). The core set blocks request bodies over 8 KB
  (SizeRestrictions_BODY): an app that takes uploads larger than that needs that rule counted
  rather than blocked.
Capacity: 25 + 2 + 200 + 700 = 927 WCUs, within the 1,500 an ACL gets without extra charge (AWS
WAF Developer Guide, "AWS Managed Rules rule groups list" and "Web ACL capacity units").

Logs: every request WAF inspects, to a CloudWatch log group whose name starts with `aws-waf-logs-`
(WAF delivers only to such names) in the ACL's own region, kept as long as the stack's other logs.
WAF writes the log group's resource policy itself when it first delivers (AWS WAF Developer
Guide, "Sending web ACL traffic logs to an Amazon CloudWatch Logs log group").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import bounded
from components.spec import (
    CLOUDFRONT_REGION,
    DEFAULT_LOG_RETENTION_DAYS,
    DEFAULT_WAF_RATE_LIMIT,
    LOG_RETENTION_DAYS,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
    WAF_RATE_WINDOW_S,
    check_args,
)

SCOPES = ("CLOUDFRONT", "REGIONAL")
AWS_VENDOR = "AWS"
# AWS's managed rule groups, by the rule name the ACL gives each and the group's own name.
MANAGED_RULE_GROUPS = {
    "aws-ip-reputation": "AWSManagedRulesAmazonIpReputationList",
    "aws-known-bad-inputs": "AWSManagedRulesKnownBadInputsRuleSet",
    "aws-common": "AWSManagedRulesCommonRuleSet",
}
RATE_RULE = "rate-limit-per-ip"
# The order WAF evaluates them in (see the module docstring).
RULE_ORDER = ("aws-ip-reputation", RATE_RULE, "aws-known-bad-inputs", "aws-common")
LOG_GROUP_PREFIX = "aws-waf-logs-"  # WAF delivers only to log groups named so
LOG_GROUP_NAME_MAX = 512
ACL_NAME_MAX = 128  # WAF's EntityName: 1 to 128 of letters, digits, _ and -
METRIC_NAME_MAX = 255  # WAF's MetricName


@dataclass(frozen=True, kw_only=True)
class WebAclArgs:
    """Settings of the web ACL.

    scope: CLOUDFRONT (in us-east-1; the distribution names the ACL) or REGIONAL (in the stack's
        region, associated with associate_with). Required.
    associate_with: REGIONAL: the ARN of the load balancer to protect. Required for REGIONAL, none
        for CLOUDFRONT. Default None.
    rate_limit: requests one client IP may send in WAF's 5-minute window before it is blocked.
        Default 2000: about 7 a second sustained, far above a person and far below a flood.
    log_retention_days: how long CloudWatch keeps the request logs. Default 30.
    protect: protect the log group from deletion. Default False.
    """

    scope: str
    associate_with: pulumi.Input[str] | None = None
    rate_limit: int = DEFAULT_WAF_RATE_LIMIT
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    protect: bool = False

    @property
    def region(self) -> str | None:
        """Where the ACL and its log group live: us-east-1 for CloudFront, else the provider's."""
        return CLOUDFRONT_REGION if self.scope == "CLOUDFRONT" else None

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = []
        if self.scope not in SCOPES:
            found.append(f"scope {self.scope!r}: expected {' or '.join(SCOPES)}")
        elif self.scope == "REGIONAL" and self.associate_with is None:
            found.append("associate_with: a REGIONAL ACL protects nothing without a load balancer")
        elif self.scope == "CLOUDFRONT" and self.associate_with is not None:
            found.append(
                "associate_with: a CloudFront distribution names its ACL itself (web_acl_id); "
                "WAF associates only regional resources"
            )
        if not WAF_RATE_LIMIT_MIN <= self.rate_limit <= WAF_RATE_LIMIT_MAX:
            found.append(
                f"rate_limit {self.rate_limit}: WAF takes {WAF_RATE_LIMIT_MIN} to "
                f"{WAF_RATE_LIMIT_MAX}"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            found.append(
                f"log_retention_days {self.log_retention_days}: CloudWatch allows "
                + ", ".join(map(str, LOG_RETENTION_DAYS))
            )
        return found


def visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    """CloudWatch metrics and sampled requests for the ACL and each rule (Security Hub WAF.12)."""
    return {
        "cloudwatch_metrics_enabled": True,
        "metric_name": bounded(metric, METRIC_NAME_MAX),
        "sampled_requests_enabled": True,
    }


def rules(prefix: str, rate_limit: int) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """The ACL's rules in RULE_ORDER: AWS's groups as they are (override none), the rate limit
    blocking."""
    found: list[aws.wafv2.WebAclRuleArgsDict] = []
    for priority, rule in enumerate(RULE_ORDER):
        if rule == RATE_RULE:
            found.append(
                {
                    "name": rule,
                    "priority": priority,
                    "action": {"block": {}},
                    "statement": {
                        "rate_based_statement": {
                            "limit": rate_limit,
                            "aggregate_key_type": "IP",
                            "evaluation_window_sec": WAF_RATE_WINDOW_S,
                        }
                    },
                    "visibility_config": visibility(f"{prefix}-{rule}"),
                }
            )
        else:
            found.append(
                {
                    "name": rule,
                    "priority": priority,
                    "override_action": {"none": {}},
                    "statement": {
                        "managed_rule_group_statement": {
                            "vendor_name": AWS_VENDOR,
                            "name": MANAGED_RULE_GROUPS[rule],
                        }
                    },
                    "visibility_config": visibility(f"{prefix}-{rule}"),
                }
            )
    return found


class WebAcl(pulumi.ComponentResource):
    """Web ACL, its log group and logging configuration, and (REGIONAL) its association.

    Outputs:
        arn: the ACL (a distribution's web_acl_id).
        log_group_name: where WAF logs each request it inspects.
    """

    def __init__(
        self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"WebAcl {name!r}", args.problems())
        super().__init__("fargate-app:waf:WebAcl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, stack = pulumi.get_project(), pulumi.get_stack()
        prefix = bounded(f"{project}-{stack}-{name}", ACL_NAME_MAX)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=LOG_GROUP_PREFIX
            + bounded(
                f"{project}-{stack}", LOG_GROUP_NAME_MAX - len(LOG_GROUP_PREFIX), allowed=r"\w.-"
            ),
            retention_in_days=args.log_retention_days,
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name=prefix,
            description=f"{project} {stack}: AWS managed rules and a per-IP rate limit",
            scope=args.scope,
            default_action={"allow": {}},
            rules=rules(prefix, args.rate_limit),
            visibility_config=visibility(prefix),
            region=args.region,
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            region=args.region,
            opts=child,
        )
        if args.associate_with is not None:
            aws.wafv2.WebAclAssociation(
                f"{name}-association",
                resource_arn=args.associate_with,
                web_acl_arn=acl.arn,
                region=args.region,
                opts=child,
            )

        self.arn: pulumi.Output[str] = acl.arn
        self.log_group_name: pulumi.Output[str] = log_group.name
        self.register_outputs({"arn": self.arn, "log_group_name": self.log_group_name})
