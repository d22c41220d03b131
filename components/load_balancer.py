"""Load balancer: an internet-facing, dual-stack ALB over the public subnets, and its listener.

Services attach to it with their own target group and listener rule (see components.service), so
a second service shares this load balancer rather than paying for another (~$16/month each).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

HTTP_PORT = 80
ANY_IPV4, ANY_IPV6 = "0.0.0.0/0", "::/0"
# Requests no service rule matches get a plain 404 rather than reaching some service by accident.
NOT_FOUND_BODY = '{"error": "not found"}'


@dataclass(frozen=True)
class LoadBalancerArgs:
    """Settings of the load balancer.

    vpc_id, vpc_cidr, subnet_ids: where it lives (public subnets, one per AZ). Required.
    idle_timeout_s: seconds an idle client connection stays open. Default 60 (AWS's default); the
        app keeps connections alive longer than this so the ALB never reuses one the app closed.
    deletion_protection: refuse deletion of the ALB (Security Hub ELB.6). Default False.
    """

    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[pulumi.Input[str]]]
    idle_timeout_s: int = 60
    deletion_protection: bool = False


class LoadBalancer(pulumi.ComponentResource):
    """ALB, its security group and an HTTP listener.

    Outputs:
        arn, arn_suffix, dns_name, zone_id: the load balancer (arn_suffix names it in CloudWatch).
        security_group_id: services admit traffic from this group only.
        listener_arn: the listener services add their routing rules to.
        url: where the app answers.
    """

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fargate-app:lb:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Load balancer: HTTP from anywhere, to targets inside the VPC",
            opts=child,
        )
        for family, cidr in (("ipv4", ANY_IPV4), ("ipv6", ANY_IPV6)):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-http-{family}",
                security_group_id=sg.id,
                ip_protocol="tcp",
                from_port=HTTP_PORT,
                to_port=HTTP_PORT,
                description=f"HTTP from anywhere ({family})",
                **{f"cidr_{family}": cidr},
                opts=child,
            )
        # Targets are IP targets inside the VPC; each service's own group decides which port.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-to-targets",
            security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=1,
            to_port=65535,
            cidr_ipv4=args.vpc_cidr,
            description="To targets in the VPC",
            opts=child,
        )
        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            ip_address_type="dualstack",
            subnets=args.subnet_ids,
            security_groups=[sg.id],
            # Security Hub ELB.4: requests with malformed headers are dropped, not forwarded.
            drop_invalid_header_fields=True,
            idle_timeout=args.idle_timeout_s,
            enable_deletion_protection=args.deletion_protection,
            opts=child,
        )
        listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=alb.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "fixed-response",
                    "fixed_response": {
                        "content_type": "application/json",
                        "message_body": NOT_FOUND_BODY,
                        "status_code": "404",
                    },
                }
            ],
            opts=child,
        )

        self.arn: pulumi.Output[str] = alb.arn
        self.arn_suffix: pulumi.Output[str] = alb.arn_suffix
        self.dns_name: pulumi.Output[str] = alb.dns_name
        self.zone_id: pulumi.Output[str] = alb.zone_id
        self.security_group_id: pulumi.Output[str] = sg.id
        self.listener_arn: pulumi.Output[str] = listener.arn
        self.url: pulumi.Output[str] = pulumi.Output.concat("http://", alb.dns_name)
        self.register_outputs(
            {
                "arn": self.arn,
                "arn_suffix": self.arn_suffix,
                "dns_name": self.dns_name,
                "zone_id": self.zone_id,
                "security_group_id": self.security_group_id,
                "listener_arn": self.listener_arn,
                "url": self.url,
            }
        )
