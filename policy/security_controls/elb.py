"""ELB controls: HTTP redirects to HTTPS (and production serves HTTPS), malformed headers are
dropped, access logs go to an encrypted, private bucket that ELB can write to and that expires
them, and production load balancers cannot be deleted by accident.

ELB.1's exception: a load balancer that only CloudFront reaches, through a VPC origin, serves no
client directly; CloudFront terminates TLS at the edge and may reach it over plain HTTP inside
AWS's network. It is recognised by its shape: an internal load balancer (no public address) that
an `aws:cloudfront/vpcOrigin:VpcOrigin` names as its endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs, Severity, StackValidationArgs

from .environment import everywhere, prod_mandatory_else_advisory, prod_only
from .props import (
    BUCKET_ENCRYPTION,
    BUCKET_LIFECYCLE,
    BUCKET_POLICY,
    BUCKET_PUBLIC_ACCESS_BLOCK,
    BUCKETS,
    LISTENER_RULES,
    LISTENERS,
    LOAD_BALANCERS,
    UNKNOWN,
    VPC_ORIGIN,
    as_list,
    get,
    is_application_lb,
    is_list,
    json_document,
    of_types,
    peek,
    referring,
    refers_to,
    truthy,
)

Report = Callable[..., None]

# The account ELB writes access logs from, by region (regions that opened before August 2022).
# Source: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
}
# Regions that opened later deliver as this service principal instead (same page).
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"
ACCOUNT_IN_PRINCIPAL = re.compile(r"^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?$")
PUT_OBJECT_ACTIONS = ("s3:PutObject", "s3:*", "*")
# ALB access logs can only be written to buckets encrypted with S3-managed keys (SSE-S3); a bucket
# whose default encryption is SSE-KMS silently receives no logs.
ACCESS_LOG_SSE = "AES256"
PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _application_lbs(resources: list[PolicyResource]) -> list[PolicyResource]:
    return [
        lb
        for lb in of_types(resources, LOAD_BALANCERS)
        if peek(lb.props, "loadBalancerType") in (None, "application")
    ]


# -- ELB.1 ----------------------------------------------------------------------------------------
def _is_https(listener: PolicyResource) -> bool:
    return peek(listener.props, "protocol") == "HTTPS" or isinstance(
        peek(listener.props, "certificateArn"), str
    )


def _is_http(listener: PolicyResource) -> bool:
    # An ALB listener without a protocol is HTTP, unless it has a certificate.
    return peek(listener.props, "protocol") in ("HTTP", None) and not _is_https(listener)


def _redirects_to_https(action: Any) -> bool:
    return (
        isinstance(action, Mapping)
        and action.get("type") == "redirect"
        and get(action, "redirect", "protocol") == "HTTPS"
    )


def cloudfront_only(resources: list[PolicyResource], lb: PolicyResource) -> bool:
    """Whether only CloudFront reaches `lb`: it is internal and a VPC origin points at it."""
    if not truthy(peek(lb.props, "internal")):
        return False
    return bool(referring(resources, VPC_ORIGIN, ("vpcOriginEndpointConfig", "arn"), lb))


def _answers_over_http(actions: Any) -> bool | None:
    """Whether these actions, on an HTTP listener, answer requests themselves (forward, respond,
    authenticate, or redirect to somewhere other than HTTPS) rather than send every client to
    HTTPS; None while they are not known."""
    if actions is UNKNOWN:
        return None
    actions = as_list(actions)
    return not actions or not all(_redirects_to_https(a) for a in actions)


def _plain_http(
    resources: list[PolicyResource], listener: PolicyResource
) -> list[tuple[PolicyResource, str]]:
    """What an HTTP listener serves over plain HTTP: its default action and every listener rule on
    it that answers requests rather than redirect to HTTPS (a forwarding rule serves its paths
    however the default action redirects). Each with a short account of it."""
    found = []
    if _answers_over_http(peek(listener.props, "defaultActions")):
        found.append((listener, "this HTTP listener's default action answers requests"))
    for rule in referring(resources, LISTENER_RULES, "listenerArn", listener):
        actions = peek(rule.props, "actions")
        if _answers_over_http(actions):
            kinds = sorted({str(a.get("type")) for a in as_list(actions) if isinstance(a, Mapping)})
            found.append(
                (rule, f"this rule on an HTTP listener answers requests ({', '.join(kinds)})")
            )
    return found


def http_redirects_to_https(args: StackValidationArgs, report_violation: Report) -> None:
    for lb in _application_lbs(args.resources):
        if cloudfront_only(args.resources, lb):
            continue
        listeners = referring(args.resources, LISTENERS, "loadBalancerArn", lb)
        if not any(_is_https(listener) for listener in listeners):
            continue  # no certificate on this load balancer: HTTP is all it serves
        for listener in filter(_is_http, listeners):
            for resource, what in _plain_http(args.resources, listener):
                report_violation(
                    f"Plain HTTP on a load balancer that has HTTPS: {what}. Make the HTTP "
                    "listener's default action a redirect with protocol HTTPS (status HTTP_301) "
                    "and attach rules that serve requests to the HTTPS listener.",
                    resource.urn,
                )


def https_in_prod(args: StackValidationArgs, report_violation: Report) -> None:
    for lb in _application_lbs(args.resources):
        listeners = referring(args.resources, LISTENERS, "loadBalancerArn", lb)
        if any(_is_https(listener) for listener in listeners):
            continue  # elb-http-redirects-to-https holds its HTTP listeners to the redirect
        if cloudfront_only(args.resources, lb):
            continue
        for listener in filter(_is_http, listeners):
            for resource, what in _plain_http(args.resources, listener):
                report_violation(
                    f"This production load balancer serves plain HTTP: it has no HTTPS listener, "
                    f"and {what} instead of redirecting to HTTPS. Serve HTTPS (`pulumi config set "
                    "domainName app.example.com` with hostedZone, or certificateArn), or make it "
                    "internal behind a CloudFront VPC origin.",
                    resource.urn,
                )


# -- ELB.4 ----------------------------------------------------------------------------------------
def drop_invalid_headers(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type not in LOAD_BALANCERS or not is_application_lb(args.props):
        return
    if not truthy(get(args.props, "dropInvalidHeaderFields")):
        report_violation(
            "This application load balancer forwards requests with malformed HTTP headers "
            "(request smuggling). Set drop_invalid_header_fields=True."
        )


# -- ELB.5 ----------------------------------------------------------------------------------------
def access_logs_enabled(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type not in LOAD_BALANCERS or not is_application_lb(args.props):
        return
    # The bucket's name may not be known until it exists; that it is set is what counts here.
    bucket = peek(args.props, "accessLogs", "bucket")
    if not truthy(get(args.props, "accessLogs", "enabled")) or not (bucket is UNKNOWN or bucket):
        report_violation(
            "This application load balancer keeps no access logs. "
            "`pulumi config set accessLogs true`."
        )


def _grants_elb_log_delivery(policy_text: str) -> bool:
    document = json_document(policy_text) or {}
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if not any(a in PUT_OBJECT_ACTIONS for a in as_list(statement.get("Action"))):
            continue
        principal = statement.get("Principal")
        if not isinstance(principal, Mapping):
            continue
        for aws in as_list(principal.get("AWS")):
            match = ACCOUNT_IN_PRINCIPAL.match(str(aws))
            if match and match.group(1) in ELB_LOG_ACCOUNTS.values():
                return True
        if ELB_LOG_DELIVERY_SERVICE in as_list(principal.get("Service")):
            return True
    return False


def _encrypted_for_access_logs(config: PolicyResource) -> bool | None:
    rules = peek(config.props, "rules")
    if rules is UNKNOWN:
        return None
    algorithms = [
        peek(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") for rule in as_list(rules)
    ]
    if UNKNOWN in algorithms:
        return None
    return ACCESS_LOG_SSE in algorithms


def _blocks_public_access(block: PolicyResource) -> bool | None:
    flags = [peek(block.props, flag) for flag in PUBLIC_ACCESS_FLAGS]
    if UNKNOWN in flags:
        return None
    return all(truthy(flag) for flag in flags)


def _expires_objects(config: PolicyResource) -> bool | None:
    rules = peek(config.props, "rules")
    if rules is UNKNOWN:
        return None
    for rule in as_list(rules):
        if peek(rule, "status") != "Enabled":
            continue
        expiration = peek(rule, "expiration")
        if isinstance(expiration, Mapping) and (
            peek(expiration, "days") or peek(expiration, "date")
        ):
            return True
        transitions = peek(rule, "transitions")
        if is_list(transitions) and len(transitions) > 0:
            return True
    return False


def _any_holds(resources: list[PolicyResource], check: Callable[..., bool | None]) -> bool:
    """Whether any of `resources` passes `check`; a value not known yet counts as passing."""
    return any(check(r) is not False for r in resources)


def _bucket_problems(resources: list[PolicyResource], bucket: PolicyResource) -> list[str]:
    def attached(types: Any) -> list[PolicyResource]:
        return referring(resources, types, "bucket", bucket)

    problems = []
    if not _any_holds(attached(BUCKET_ENCRYPTION), _encrypted_for_access_logs):
        problems.append(
            "is not encrypted with S3-managed keys: add an "
            "aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm AES256 (ALB access "
            "logs cannot be written to SSE-KMS buckets)"
        )
    if not _any_holds(attached(BUCKET_PUBLIC_ACCESS_BLOCK), _blocks_public_access):
        problems.append(
            "is not private: add an aws.s3.BucketPublicAccessBlock with all four settings true"
        )

    def delivers(policy: PolicyResource) -> bool | None:
        text = peek(policy.props, "policy")
        return None if text is UNKNOWN else _grants_elb_log_delivery(str(text or ""))

    if not _any_holds(attached(BUCKET_POLICY), delivers):
        problems.append(
            "has no bucket policy that lets Elastic Load Balancing write logs: allow "
            "s3:PutObject to the region's ELB account (arn:aws:iam::<account>:root) or "
            f"{ELB_LOG_DELIVERY_SERVICE}"
        )
    if not _any_holds(attached(BUCKET_LIFECYCLE), _expires_objects):
        problems.append(
            "keeps logs forever: add an aws.s3.BucketLifecycleConfiguration with an enabled rule "
            "that expires (or transitions) them"
        )
    return problems


def access_log_bucket(args: StackValidationArgs, report_violation: Report) -> None:
    buckets = of_types(args.resources, BUCKETS)
    for lb in _application_lbs(args.resources):
        if not truthy(peek(lb.props, "accessLogs", "enabled")):
            continue
        targets = [b for b in buckets if refers_to(lb, ("accessLogs", "bucket"), b)]
        if not targets:
            name = peek(lb.props, "accessLogs", "bucket")
            report_violation(
                f"This load balancer's access logs go to bucket {name!r}, which this stack does "
                "not manage, so its encryption, privacy, policy and lifecycle cannot be checked. "
                "Create the bucket in this stack.",
                lb.urn,
            )
        for bucket in targets:
            for problem in _bucket_problems(args.resources, bucket):
                report_violation(f"This access-log bucket {problem}.", bucket.urn)


# -- ELB.6 ----------------------------------------------------------------------------------------
def deletion_protection(args: ResourceValidationArgs, report_violation: Report) -> None:
    if args.resource_type not in LOAD_BALANCERS:
        return
    if not truthy(get(args.props, "enableDeletionProtection")):
        report_violation(
            "This production load balancer can be deleted by a single API call. "
            "`pulumi config set deletionProtection true`."
        )


POLICIES: list[Any] = [
    *everywhere(
        name="elb-http-redirects-to-https",
        control="ELB.1",
        description="ELB.1: on an application load balancer with an HTTPS listener, every HTTP "
        "listener, and every listener rule on one, redirects to HTTPS and serves nothing itself "
        "(unless only CloudFront reaches it, through a VPC origin).",
        validate=http_redirects_to_https,
        severity=Severity.MEDIUM,
        remediation="Give the HTTP listener a single redirect action (protocol HTTPS, HTTP_301) "
        "and attach forwarding rules to the HTTPS listener.",
        stack=True,
    ),
    *prod_only(
        name="elb-https-in-prod",
        control="ELB.1",
        description="ELB.1: a production application load balancer serves HTTPS: one without an "
        "HTTPS listener has no HTTP listener, nor listener rule on one, that answers requests "
        "itself, unless it is internal and reached only through a CloudFront VPC origin.",
        validate=https_in_prod,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set domainName app.example.com` and hostedZone (or "
        "certificateArn): the HTTP listener then redirects to HTTPS.",
        stack=True,
    ),
    *everywhere(
        name="elb-drop-invalid-headers",
        control="ELB.4",
        description="ELB.4: application load balancers drop invalid HTTP header fields.",
        validate=drop_invalid_headers,
        severity=Severity.MEDIUM,
        remediation="drop_invalid_header_fields=True on the load balancer.",
    ),
    *prod_mandatory_else_advisory(
        name="elb-access-logs",
        control="ELB.5",
        description="ELB.5: application load balancers write access logs to S3.",
        validate=access_logs_enabled,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set accessLogs true`.",
    ),
    *everywhere(
        name="elb-access-log-bucket",
        control="ELB.5",
        description="ELB.5: a load balancer's access-log bucket is in the stack, encrypted with "
        "S3-managed keys, blocks public access, lets ELB deliver logs and expires them.",
        validate=access_log_bucket,
        severity=Severity.MEDIUM,
        remediation="Give the bucket a BucketServerSideEncryptionConfiguration (AES256), a "
        "BucketPublicAccessBlock, a BucketPolicy for ELB log delivery and a "
        "BucketLifecycleConfiguration.",
        stack=True,
    ),
    *prod_only(
        name="elb-deletion-protection",
        control="ELB.6",
        description="ELB.6: production load balancers have deletion protection enabled.",
        validate=deletion_protection,
        severity=Severity.MEDIUM,
        remediation="`pulumi config set deletionProtection true`.",
    ),
]
