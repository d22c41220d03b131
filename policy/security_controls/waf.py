"""AWS WAF controls: a web ACL has rules, logs what it inspects, and publishes metrics for each
rule, so that it protects something and an incident can be looked into."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity, StackValidationArgs

from .environment import everywhere
from .props import WEB_ACL, WEB_ACL_LOGGING, as_list, get, of_types, referring, truthy

Report = Callable[..., None]


# -- WAF.10 ---------------------------------------------------------------------------------------
def acl_has_rules(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != WEB_ACL:
        return
    if not as_list(get(args.props, "rules")) and not get(args.props, "ruleJson"):
        report_violation(
            "This web ACL has no rule: it lets every request through. Give it rules or rule "
            "groups (the program's WebAcl adds AWS's managed groups and a rate limit)."
        )


# -- WAF.11 ---------------------------------------------------------------------------------------
def acl_logging(args: StackValidationArgs, report_violation: Report) -> None:
    for acl in of_types(args.resources, WEB_ACL):
        if not referring(args.resources, WEB_ACL_LOGGING, "resourceArn", acl):
            report_violation(
                "This web ACL logs nothing. Add a WebAclLoggingConfiguration to a log group "
                "named aws-waf-logs-... in the ACL's region.",
                acl.urn,
            )


# -- WAF.12 ---------------------------------------------------------------------------------------
def _metrics_on(config: Any) -> bool:
    return isinstance(config, Mapping) and truthy(config.get("cloudwatchMetricsEnabled"))


def rule_metrics(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != WEB_ACL:
        return
    if not _metrics_on(get(args.props, "visibilityConfig")):
        report_violation("This web ACL publishes no CloudWatch metrics. Enable them.")
    for rule in as_list(get(args.props, "rules")):
        if not _metrics_on(rule.get("visibilityConfig")):
            report_violation(
                f"Rule {rule.get('name')!r} publishes no CloudWatch metrics, so what it blocks "
                "cannot be seen. Set visibility_config.cloudwatch_metrics_enabled."
            )


POLICIES: list[Any] = [
    *everywhere(
        name="waf-acl-has-rules",
        control="WAF.10",
        description="WAF.10: every AWS WAF web ACL has at least one rule or rule group.",
        validate=acl_has_rules,
        severity=Severity.MEDIUM,
        remediation="Give the web ACL rules (components/web_acl.py does).",
    ),
    *everywhere(
        name="waf-logging",
        control="WAF.11",
        description="WAF.11: every AWS WAF web ACL logs what it inspects.",
        validate=acl_logging,
        severity=Severity.LOW,
        remediation="A WebAclLoggingConfiguration to an aws-waf-logs-* log group (the program's "
        "WebAcl has one).",
        stack=True,
    ),
    *everywhere(
        name="waf-rule-metrics",
        control="WAF.12",
        description="WAF.12: an AWS WAF web ACL and each of its rules publish CloudWatch metrics.",
        validate=rule_metrics,
        severity=Severity.MEDIUM,
        remediation="visibility_config.cloudwatch_metrics_enabled true on the ACL and each rule.",
    ),
]
