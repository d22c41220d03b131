"""Load balancer: an internet-facing, dual-stack ALB over the public subnets, and its listener; or,
behind CloudFront (components.edge), an internal IPv4 ALB in the private subnets that only
CloudFront's VPC origin reaches.

Services attach to it with their own target group and listener rule (see components.service), so
a second service shares this load balancer rather than paying for another (~$16/month each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.access_logs import AccessLogBucket
from components.spec import MIN_AZS, check_args

HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 and 1.2 with forward-secret ciphers only; AWS's recommended policy for new listeners.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ANY_IPV4, ANY_IPV6 = "0.0.0.0/0", "::/0"
# Requests no service rule matches get a plain 404 rather than reaching some service by accident.
NOT_FOUND_BODY = '{"error": "not found"}'
DEFAULT_IDLE_TIMEOUT_S = 60  # AWS's default
IDLE_TIMEOUT_MIN_S, IDLE_TIMEOUT_MAX_S = 1, 4000  # ELBv2's idle_timeout.timeout_seconds range
# The group's description is fixed at creation (changing it replaces the group), so each kind of
# load balancer keeps its own, and the internet-facing one keeps the one it was deployed with.
PUBLIC_SG_DESCRIPTION = "Load balancer: HTTP(S) from anywhere, to targets inside the VPC"
INTERNAL_SG_DESCRIPTION = "Load balancer: from CloudFront VPC origins only, to targets in the VPC"


@dataclass(frozen=True, kw_only=True)
class LoadBalancerArgs:
    """Settings of the load balancer.

    vpc_id, subnet_ids: where it lives: one subnet per AZ, public ones for an
        internet-facing load balancer, private ones for an internal one. Required.
    internal: no public address: only what is inside the VPC reaches it, here CloudFront's VPC
        origin, which components.edge admits into its security group. IPv4 only (the private
        subnets have no IPv6). Default False: internet-facing and dual-stack, open to anyone on
        its listener ports. A load balancer cannot change scheme: switching replaces it.
    idle_timeout_s: seconds an idle client connection stays open. Default 60 (AWS's default); the
        app keeps connections alive longer than this so the ALB never reuses one the app closed.
    deletion_protection: refuse deletion of the ALB (Security Hub ELB.6). Default False.
    certificate_arn: serve HTTPS on 443 with this ACM certificate, and answer HTTP with a 301 to
        HTTPS (Security Hub ELB.1). Default None: HTTP only.
    access_logs: an AccessLogBucket to write access logs to (Security Hub ELB.5). Default None.
    """

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    internal: bool = False
    idle_timeout_s: int = DEFAULT_IDLE_TIMEOUT_S
    deletion_protection: bool = False
    certificate_arn: pulumi.Input[str] | None = None
    access_logs: AccessLogBucket | None = None

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = []
        if len(self.subnet_ids) < MIN_AZS:
            found.append(
                f"subnet_ids: {len(self.subnet_ids)} given; an ALB needs subnets in at least "
                f"{MIN_AZS} AZs"
            )
        if not IDLE_TIMEOUT_MIN_S <= self.idle_timeout_s <= IDLE_TIMEOUT_MAX_S:
            found.append(
                f"idle_timeout_s {self.idle_timeout_s}: expected {IDLE_TIMEOUT_MIN_S} to "
                f"{IDLE_TIMEOUT_MAX_S}"
            )
        return found


class LoadBalancer(pulumi.ComponentResource):
    """ALB, its security group, an HTTP listener and, with a certificate, an HTTPS listener.

    Outputs:
        arn, arn_suffix, dns_name, zone_id: the load balancer (arn_suffix names it in CloudWatch).
        security_group_id: services admit traffic from this group only; an internal load
            balancer's group admits nothing until its client (components.edge) adds its rule.
        listener_arn: the listener services add their routing rules to (HTTPS when configured).
        https: whether it serves HTTPS (it has a certificate).
        listener_port: the port of that listener: 443 with HTTPS, else 80.
        url: where it answers (for an internal one, only inside the VPC).
    """

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"LoadBalancer {name!r}", args.problems())
        super().__init__("fargate-app:lb:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        https = args.certificate_arn is not None
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=INTERNAL_SG_DESCRIPTION if args.internal else PUBLIC_SG_DESCRIPTION,
            opts=child,
        )
        ports = {"http": HTTP_PORT, "https": HTTPS_PORT} if https else {"http": HTTP_PORT}
        # An internal load balancer is open to no address: its one client adds its own rule.
        open_to_anyone = {} if args.internal else ports
        for proto, port in open_to_anyone.items():
            for family, cidr in (("ipv4", ANY_IPV4), ("ipv6", ANY_IPV6)):
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-{proto}-{family}",
                    security_group_id=sg.id,
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    description=f"{proto.upper()} from anywhere ({family})",
                    cidr_ipv4=cidr if family == "ipv4" else None,
                    cidr_ipv6=cidr if family == "ipv6" else None,
                    opts=child,
                )
        # No egress rule here: each service behind the load balancer adds the one to its own
        # tasks' group and port (components.service, `<service>-lb-to-tasks`).
        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=args.internal,
            ip_address_type="ipv4" if args.internal else "dualstack",
            subnets=args.subnet_ids,
            security_groups=[sg.id],
            # Security Hub ELB.4: requests with malformed headers are dropped, not forwarded.
            drop_invalid_header_fields=True,
            idle_timeout=args.idle_timeout_s,
            enable_deletion_protection=args.deletion_protection,
            access_logs=(
                {
                    "enabled": True,
                    "bucket": args.access_logs.bucket,
                    "prefix": args.access_logs.prefix,
                }
                if args.access_logs
                else None
            ),
            # The load balancer checks that it may write to the bucket when logs are enabled.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[args.access_logs.policy] if args.access_logs else None
            ),
        )
        not_found: aws.lb.ListenerDefaultActionArgsDict = {
            "type": "fixed-response",
            "fixed_response": {
                "content_type": "application/json",
                "message_body": NOT_FOUND_BODY,
                "status_code": "404",
            },
        }
        redirect: aws.lb.ListenerDefaultActionArgsDict = {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": str(HTTPS_PORT), "status_code": "HTTP_301"},
        }
        listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=alb.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[redirect if https else not_found],
            opts=child,
        )
        if https:
            listener = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=alb.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=args.certificate_arn,
                default_actions=[not_found],
                opts=child,
            )

        self.arn: pulumi.Output[str] = alb.arn
        self.arn_suffix: pulumi.Output[str] = alb.arn_suffix
        self.dns_name: pulumi.Output[str] = alb.dns_name
        self.zone_id: pulumi.Output[str] = alb.zone_id
        self.security_group_id: pulumi.Output[str] = sg.id
        self.listener_arn: pulumi.Output[str] = listener.arn
        self.https: bool = https
        self.listener_port: int = HTTPS_PORT if https else HTTP_PORT
        self.url: pulumi.Output[str] = pulumi.Output.concat(
            "https://" if https else "http://", alb.dns_name
        )
        self.register_outputs(
            {
                "arn": self.arn,
                "arn_suffix": self.arn_suffix,
                "dns_name": self.dns_name,
                "zone_id": self.zone_id,
                "security_group_id": self.security_group_id,
                "listener_arn": self.listener_arn,
                "https": self.https,
                "listener_port": self.listener_port,
                "url": self.url,
            }
        )
