"""CloudFront controls: viewers use HTTPS, CloudFront uses TLS towards an origin that can take it
(and never a deprecated protocol), and production's entry point has a web ACL.

CloudFront.9's exception, as ELB.1's: an internal load balancer reached through a VPC origin that
has no certificate cannot be reached over TLS (no certificate can cover `*.cloudfront.net` or its
internal name), and its traffic stays on AWS's private path from CloudFront to the VPC. Once the
load balancer has an HTTPS listener, CloudFront must use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from .environment import everywhere, prod_only
from .props import (
    DISTRIBUTION,
    LISTENERS,
    LOAD_BALANCERS,
    UNKNOWN,
    VPC_ORIGIN,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
    as_list,
    get,
    of_types,
    peek,
    referring,
    refers_to,
    truthy,
)

Report = Callable[..., None]

ALLOW_ALL = "allow-all"
# SSL/TLS versions Security Hub's CloudFront.10 counts as deprecated towards an origin.
DEPRECATED_ORIGIN_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1")


def _behaviors(props: Any) -> list[tuple[str, Mapping[str, Any]]]:
    """(path pattern, behavior): the default behavior (`*`), then the ordered ones."""
    found = [("*", get(props, "defaultCacheBehavior", default={}))]
    for b in as_list(get(props, "orderedCacheBehaviors")):
        found.append((str(b.get("pathPattern")), b))
    return found


# -- CloudFront.3 ---------------------------------------------------------------------------------
def viewers_use_https(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type != DISTRIBUTION:
        return
    for path, behavior in _behaviors(args.props):
        if behavior.get("viewerProtocolPolicy") == ALLOW_ALL:
            report_violation(
                f"The cache behavior for {path} serves viewers over plain HTTP (allow-all). Set "
                "its viewer_protocol_policy to redirect-to-https or https-only."
            )


# -- CloudFront.9 ---------------------------------------------------------------------------------
def _has_https_listener(resources: list[PolicyResource], lb: PolicyResource) -> bool:
    return any(
        peek(listener.props, "protocol") == "HTTPS"
        or isinstance(peek(listener.props, "certificateArn"), str)
        for listener in referring(resources, LISTENERS, "loadBalancerArn", lb)
    )


def _vpc_origin_problem(resources: list[PolicyResource], origin: PolicyResource) -> str | None:
    config = peek(origin.props, "vpcOriginEndpointConfig") or {}
    policy = config.get("originProtocolPolicy") if isinstance(config, Mapping) else None
    if policy == "https-only" or policy is UNKNOWN:
        return None
    targets = [
        lb
        for lb in of_types(resources, LOAD_BALANCERS)
        if refers_to(origin, ("vpcOriginEndpointConfig", "arn"), lb)
    ]
    if targets and not any(_has_https_listener(resources, lb) for lb in targets):
        return None  # the exception: no certificate to reach it with (see the module docstring)
    return (
        f"This VPC origin reaches a load balancer with an HTTPS listener over {policy}. Set its "
        "origin_protocol_policy to https-only, so CloudFront uses the load balancer's certificate."
    )


def tls_to_origin(args: StackValidationArgs, report_violation: Report) -> None:
    origins = of_types(args.resources, VPC_ORIGIN)
    for distribution in of_types(args.resources, DISTRIBUTION):
        any_allow_all = any(
            b.get("viewerProtocolPolicy") == ALLOW_ALL for _, b in _behaviors(distribution.props)
        )
        for n, origin in enumerate(as_list(peek(distribution.props, "origins"))):
            custom = origin.get("customOriginConfig") if isinstance(origin, Mapping) else None
            policy = custom.get("originProtocolPolicy") if isinstance(custom, Mapping) else None
            if policy == "http-only" or (policy == "match-viewer" and any_allow_all):
                report_violation(
                    f"Origin {origin.get('originId')!r} is reached over plain HTTP ({policy}). "
                    "Set its origin_protocol_policy to https-only.",
                    distribution.urn,
                )
            for vpc_origin in origins:
                if refers_to(
                    distribution, ("origins", n, "vpcOriginConfig", "vpcOriginId"), vpc_origin
                ):
                    problem = _vpc_origin_problem(args.resources, vpc_origin)
                    if problem:
                        report_violation(problem, vpc_origin.urn)


# -- CloudFront.10 --------------------------------------------------------------------------------
def no_deprecated_origin_tls(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type == VPC_ORIGIN:
        lists = [get(args.props, "vpcOriginEndpointConfig", "originSslProtocols", "items")]
    elif args.resource_type == DISTRIBUTION:
        lists = [
            get(o, "customOriginConfig", "originSslProtocols")
            for o in as_list(get(args.props, "origins"))
        ]
    else:
        return
    used = sorted(
        {str(p) for items in lists for p in as_list(items)} & set(DEPRECATED_ORIGIN_PROTOCOLS)
    )
    if used:
        report_violation(
            f"CloudFront may reach the origin over {', '.join(used)}, which are deprecated. "
            "Allow TLSv1.2 only."
        )


# -- CloudFront.6, and the internet-facing load balancer without CloudFront ----------------------
def _acl_known_or_coming(resources: list[PolicyResource], r: PolicyResource, prop: str) -> bool:
    value = peek(r.props, prop)
    if isinstance(value, str):
        return bool(value)
    if value is UNKNOWN:
        return any(refers_to(r, prop, acl) for acl in of_types(resources, WEB_ACL))
    return False


def waf_in_prod(args: StackValidationArgs, report_violation: Report) -> None:
    for distribution in of_types(args.resources, DISTRIBUTION):
        if not _acl_known_or_coming(args.resources, distribution, "webAclId"):
            report_violation(
                "This production CloudFront distribution has no AWS WAF web ACL. "
                "`pulumi config set waf true`.",
                distribution.urn,
            )
    fronted = {
        lb.urn
        for origin in of_types(args.resources, VPC_ORIGIN)
        for lb in of_types(args.resources, LOAD_BALANCERS)
        if refers_to(origin, ("vpcOriginEndpointConfig", "arn"), lb)
    }
    for lb in of_types(args.resources, LOAD_BALANCERS):
        internal = truthy(peek(lb.props, "internal"))
        application = peek(lb.props, "loadBalancerType") in (None, "application")
        if internal or not application or lb.urn in fronted:
            continue
        if not referring(args.resources, WEB_ACL_ASSOCIATION, "resourceArn", lb):
            report_violation(
                "This production load balancer faces the internet with no AWS WAF web ACL. "
                "`pulumi config set waf true` (or put CloudFront in front: edge cloudfront).",
                lb.urn,
            )


POLICIES: list[Any] = [
    *everywhere(
        name="cloudfront-viewers-https",
        control="CloudFront.3",
        description="CloudFront.3: every cache behavior of a CloudFront distribution sends "
        "viewers to HTTPS (no allow-all viewer protocol policy).",
        validate=viewers_use_https,
        severity=Severity.MEDIUM,
        remediation="viewer_protocol_policy redirect-to-https (or https-only) on every behavior.",
    ),
    *everywhere(
        name="cloudfront-tls-to-origin",
        control="CloudFront.9",
        description="CloudFront.9: CloudFront reaches its origins over TLS: no custom origin "
        "over http-only (or match-viewer with allow-all viewers), and no VPC origin over HTTP "
        "to a load balancer that has an HTTPS listener.",
        validate=tls_to_origin,
        severity=Severity.MEDIUM,
        remediation="origin_protocol_policy https-only on the custom origin or VPC origin (with "
        "domainName, the program does this itself).",
        stack=True,
    ),
    *everywhere(
        name="cloudfront-origin-tls-modern",
        control="CloudFront.10",
        description="CloudFront.10: CloudFront offers origins no deprecated SSL/TLS version "
        "(SSLv3, TLSv1, TLSv1.1), on custom and VPC origins.",
        validate=no_deprecated_origin_tls,
        severity=Severity.MEDIUM,
        remediation="origin_ssl_protocols TLSv1.2 only.",
    ),
    *prod_only(
        name="waf-in-prod",
        control="CloudFront.6",
        description="CloudFront.6: in production, every CloudFront distribution has an AWS WAF "
        "web ACL, and so (issue 17) does every internet-facing application load balancer that "
        "no distribution fronts.",
        validate=waf_in_prod,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set waf true`.",
        stack=True,
    ),
]
