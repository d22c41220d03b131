"""Edge: a CloudFront distribution in front of the internal load balancer, through a VPC origin.

Viewers get HTTPS on the distribution's own `https://<id>.cloudfront.net` name with no domain of
their own (or on `domain_name`, with a certificate from us-east-1), are redirected there from HTTP,
and sit behind AWS Shield Standard and, optionally, a web ACL (components.web_acl). The load
balancer has no public address: CloudFront reaches it through a VPC origin, over network interfaces
CloudFront places in the load balancer's private subnets.

Who may reach the load balancer. AWS offers two sources for its security group rule (CloudFront
Developer Guide, "Restrict access with VPC origins", Security group configuration): the
`com.amazonaws.global.cloudfront.origin-facing` managed prefix list, which admits every CloudFront
distribution's origin traffic and can be written before the origin exists; or the security group
CloudFront creates with a VPC's first VPC origin (`CloudFront-VPCOrigins-Service-SG...`), carried
by the interfaces it routes origin traffic through, which "restricts the traffic only to your
CloudFront distributions" but exists only once the origin does. This component takes the second,
the narrower, and orders the one `pulumi up` accordingly:

    load balancer -> VPC origin (up to 15 minutes to deploy) -> look the group up (an invoke that
    depends on the origin) -> the load balancer admits it -> the distribution

On a first `pulumi preview` the origin does not exist yet, so the lookup cannot run: Pulumi's
Python SDK answers an invoke whose dependency has no ID yet as unknown rather than calling it
(pulumi/runtime/invoke.py, `_invoke`: "if we depend on any CustomResources, we need to ensure that
their ID is known before proceeding. If it is not known, we will return an unknown result"; newer
engines decline it themselves, INVOKE_DEPENDS_ON). The preview shows the rule's source as unknown;
`pulumi up` looks it up once the origin exists. The rule depends on the origin through the lookup,
so a `pulumi destroy` removes the rule before the origin and its group.

How CloudFront talks to the load balancer. With `origin_https` (the load balancer has a certificate
for `domain_name`), HTTPS on 443, TLS 1.2: CloudFront checks the load balancer's certificate
against the Host header it forwards, the viewer's, so the certificate must cover `domain_name`
(CloudFront Developer Guide, "HTTP 502 status code (Bad Gateway)": the origin's certificate must
match the origin domain or the Host header). Without one, HTTP on 80: no certificate can cover
`*.cloudfront.net` or the load balancer's internal name; requests travel what AWS calls "a
private, secure connection" from CloudFront to the VPC origin, without TLS of their own.
docs/edge.md weighs the two.

What is cached. Nothing, unless `cached_paths` says so: the default behavior uses AWS's managed
CachingDisabled policy and forwards every viewer header (the Host header included, so host-based
listener rules keep working), cookie and query string, plus CloudFront's own viewer headers
(`CloudFront-Forwarded-Proto` tells the app the viewer used HTTPS, where the load balancer's
X-Forwarded-Proto says HTTP). Each cached path gets AWS's CachingOptimized policy (the app's
Cache-Control decides for how long) and forwards only the Host header.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import bounded
from components.spec import (
    DEFAULT_ORIGIN_RESPONSE_TIMEOUT_S,
    ORIGIN_RESPONSE_TIMEOUT_MAX_S,
    ORIGIN_RESPONSE_TIMEOUT_MIN_S,
    check_args,
    path_pattern_problems,
)

# AWS's managed cache and origin request policies, by the IDs AWS publishes for them (CloudFront
# Developer Guide, "Use managed cache policies" and "Use managed origin request policies").
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # TTL 0: every request reaches the app
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # the origin's Cache-Control, 1 s-1 y
# Every viewer header (Host included), cookie and query string, and CloudFront's viewer headers
# released by June 2022 (CloudFront-Forwarded-Proto, CloudFront-Viewer-Address, ...).
ALL_VIEWER_AND_CLOUDFRONT_HEADERS = "33f36d7e-f396-46d9-90e0-52428a34d9dc"
HOST_HEADER_ONLY = "bf0718e1-ba1e-49d1-88b1-f726733018ae"  # the Host header alone
# Their names, as the CloudFront console and the plan show them.
MANAGED_POLICY_NAMES = {
    CACHING_DISABLED: "CachingDisabled",
    CACHING_OPTIMIZED: "CachingOptimized",
    ALL_VIEWER_AND_CLOUDFRONT_HEADERS: "AllViewerAndCloudFrontHeaders-2022-06",
    HOST_HEADER_ONLY: "HostHeaderOnly",
}
# The security group CloudFront creates with a VPC's first VPC origin; AWS reserves names that start
# with it (a `*` suffix matches it whatever AWS appends).
VPC_ORIGIN_SECURITY_GROUP = "CloudFront-VPCOrigins-Service-SG"
HTTP_PORT, HTTPS_PORT = 80, 443
ORIGIN_TLS_PROTOCOLS = ["TLSv1.2"]  # the newest CloudFront offers towards origins
# Viewers on your own name: TLS 1.2 or later with forward-secret ciphers, AWS's recommended policy.
# On *.cloudfront.net CloudFront fixes the policy itself (TLSv1), and none can be set.
VIEWER_TLS_POLICY = "TLSv1.2_2021"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
CACHED_METHODS = ["GET", "HEAD"]
ORIGIN_ID = "load-balancer"
VPC_ORIGIN_NAME_MAX = 64
COMMENT_MAX = 128  # CloudFront's limit on a distribution's comment


@dataclass(frozen=True, kw_only=True)
class EdgeArgs:
    """Settings of the distribution and its VPC origin.

    load_balancer_arn, load_balancer_dns_name: the internal load balancer CloudFront reaches.
        Required.
    load_balancer_security_group_id: its security group; the edge adds the rule that admits
        CloudFront. Required.
    vpc_id: its VPC, where CloudFront creates its VPC origin security group. Required.
    origin_https: CloudFront connects over HTTPS on 443 (the load balancer has a certificate that
        covers domain_name). Default False: HTTP on 80, inside AWS's network.
    origin_response_timeout_s: seconds CloudFront waits for a response before it answers 504.
        Default 30, CloudFront's own; 1 to 60 without a quota increase.
    cached_paths: CloudFront path patterns whose responses are cached. Default none: CloudFront
        caches nothing, as the app's pages are dynamic.
    domain_name: the app's own name, served besides *.cloudfront.net. Default "": none.
    certificate_arn: an ACM certificate in us-east-1 that covers domain_name; required with it.
        Default None.
    web_acl_arn: a CLOUDFRONT-scope web ACL (components.web_acl) to attach. Default None.
    """

    load_balancer_arn: pulumi.Input[str]
    load_balancer_dns_name: pulumi.Input[str]
    load_balancer_security_group_id: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    origin_https: bool = False
    origin_response_timeout_s: int = DEFAULT_ORIGIN_RESPONSE_TIMEOUT_S
    cached_paths: tuple[str, ...] = ()
    domain_name: str = ""
    certificate_arn: pulumi.Input[str] | None = None
    web_acl_arn: pulumi.Input[str] | None = None

    @property
    def origin_port(self) -> int:
        return HTTPS_PORT if self.origin_https else HTTP_PORT

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = [f"cached_paths: {p}" for p in path_pattern_problems(self.cached_paths)]
        timeout = self.origin_response_timeout_s
        if not ORIGIN_RESPONSE_TIMEOUT_MIN_S <= timeout <= ORIGIN_RESPONSE_TIMEOUT_MAX_S:
            found.append(
                f"origin_response_timeout_s {timeout}: CloudFront takes "
                f"{ORIGIN_RESPONSE_TIMEOUT_MIN_S} to {ORIGIN_RESPONSE_TIMEOUT_MAX_S}"
            )
        if bool(self.domain_name) != (self.certificate_arn is not None):
            found.append(
                "domain_name and certificate_arn: both or neither (CloudFront serves a name only "
                "with a certificate for it from us-east-1)"
            )
        if self.origin_https and not self.domain_name:
            found.append(
                "origin_https: CloudFront checks the origin's certificate against the Host header, "
                "which is *.cloudfront.net without domain_name, and no certificate covers it"
            )
        return found


class Edge(pulumi.ComponentResource):
    """VPC origin, the load balancer's rule admitting it, and the CloudFront distribution.

    Outputs:
        distribution_id, distribution_arn: the distribution.
        domain_name: its own name (dxxxxxxxxxxxxx.cloudfront.net).
        hosted_zone_id: the Route 53 zone of that name, for alias records.
        vpc_origin_id: the VPC origin.
        url: https:// and the distribution's own name.
    """

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"Edge {name!r}", args.problems())
        super().__init__("fargate-app:edge:Edge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, stack = pulumi.get_project(), pulumi.get_stack()

        protocol = "https" if args.origin_https else "http"
        origin = aws.cloudfront.VpcOrigin(
            f"{name}-origin",
            vpc_origin_endpoint_config={
                # Named by protocol too, so the replacement below never meets its predecessor's
                # name while both exist.
                "name": bounded(f"{project}-{stack}-{name}-{protocol}", VPC_ORIGIN_NAME_MAX),
                "arn": args.load_balancer_arn,
                "http_port": HTTP_PORT,
                "https_port": HTTPS_PORT,
                "origin_protocol_policy": f"{protocol}-only",
                "origin_ssl_protocols": {
                    "items": ORIGIN_TLS_PROTOCOLS,
                    "quantity": len(ORIGIN_TLS_PROTOCOLS),
                },
            },
            # CloudFront refuses to change a VPC origin a distribution uses ("The specified VPC
            # origin is currently associated with one or more distributions", 409; aws-cdk#35765,
            # terraform-provider-aws#40905). So a new configuration (HTTPS once domain_name is
            # set, a new load balancer) is a new origin: created, the distribution moved to it,
            # then the old one deleted; and the tags, set once, are not rewritten.
            opts=pulumi.ResourceOptions(
                parent=self,
                replace_on_changes=["vpcOriginEndpointConfig"],
                ignore_changes=["tags", "tagsAll"],
            ),
        )
        # CloudFront's group for this VPC exists once the origin does (see the module docstring).
        origin_group = aws.ec2.get_security_group_output(
            vpc_id=args.vpc_id,
            filters=[{"name": "group-name", "values": [f"{VPC_ORIGIN_SECURITY_GROUP}*"]}],
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[origin]),
        )
        admitted = aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-cloudfront",
            security_group_id=args.load_balancer_security_group_id,
            referenced_security_group_id=origin_group.id,
            ip_protocol="tcp",
            from_port=args.origin_port,
            to_port=args.origin_port,
            description="CloudFront VPC origin of this stack",
            opts=child,
        )

        forward_all: aws.cloudfront.DistributionDefaultCacheBehaviorArgsDict = {
            "target_origin_id": ORIGIN_ID,
            "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ALL_METHODS,
            "cached_methods": CACHED_METHODS,
            "cache_policy_id": CACHING_DISABLED,
            "origin_request_policy_id": ALL_VIEWER_AND_CLOUDFRONT_HEADERS,
            # CloudFront compresses only what it caches.
            "compress": False,
        }
        cached: list[aws.cloudfront.DistributionOrderedCacheBehaviorArgsDict] = [
            {
                "path_pattern": path,
                "target_origin_id": ORIGIN_ID,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": READ_METHODS,
                "cached_methods": CACHED_METHODS,
                "cache_policy_id": CACHING_OPTIMIZED,
                "origin_request_policy_id": HOST_HEADER_ONLY,
                "compress": True,
            }
            for path in args.cached_paths
        ]
        viewer_certificate: aws.cloudfront.DistributionViewerCertificateArgsDict = (
            {
                "acm_certificate_arn": args.certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": VIEWER_TLS_POLICY,
            }
            if args.domain_name
            else {"cloudfront_default_certificate": True}
        )
        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            comment=bounded(f"{project} {stack}", COMMENT_MAX, allowed=r"A-Za-z0-9_ -"),
            aliases=[args.domain_name] if args.domain_name else None,
            origins=[
                {
                    "origin_id": ORIGIN_ID,
                    "domain_name": args.load_balancer_dns_name,
                    "vpc_origin_config": {
                        "vpc_origin_id": origin.id,
                        "origin_read_timeout": args.origin_response_timeout_s,
                    },
                }
            ],
            default_cache_behavior=forward_all,
            ordered_cache_behaviors=cached or None,
            viewer_certificate=viewer_certificate,
            # IPv6 viewers, as the internet-facing load balancer's dual stack served them.
            is_ipv6_enabled=True,
            http_version="http2and3",
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            web_acl_id=args.web_acl_arn,
            # Live only once the load balancer admits it, so its first requests get answers.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[admitted]),
        )

        self.distribution_id: pulumi.Output[str] = distribution.id
        self.distribution_arn: pulumi.Output[str] = distribution.arn
        self.domain_name: pulumi.Output[str] = distribution.domain_name
        self.hosted_zone_id: pulumi.Output[str] = distribution.hosted_zone_id
        self.vpc_origin_id: pulumi.Output[str] = origin.id
        self.url: pulumi.Output[str] = pulumi.Output.concat("https://", distribution.domain_name)
        self.register_outputs(
            {
                "distribution_id": self.distribution_id,
                "distribution_arn": self.distribution_arn,
                "domain_name": self.domain_name,
                "hosted_zone_id": self.hosted_zone_id,
                "vpc_origin_id": self.vpc_origin_id,
                "url": self.url,
            }
        )
