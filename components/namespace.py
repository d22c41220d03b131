"""Service namespace: where the stack's services find its internal services.

A Cloud Map namespace of the stack (<stack>.<project>.internal). Every service of the stack joins
it through ECS Service Connect, which reaches an internal service at http://NAME:PORT through the
proxy ECS adds to each task. An HTTP namespace: "The type of namespace in AWS Cloud Map doesn't
affect Service Connect", and AWS recommends the API-only kind "to make the minimum amount of
additional resources" (no Route 53 hosted zone, no VPC binding).
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts-deploy.html

And a security group with no rules of its own that every task of the stack's services carries: an
internal service admits this group, and only it, on its port.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.spec import DNS_LABEL_MAX, check_args

NAMESPACE_NAME_MAX = 253  # the name is DNS-shaped, so it stays within a DNS name's limit


@dataclass(frozen=True, kw_only=True)
class ServiceNamespaceArgs:
    """Settings of the namespace.

    vpc_id: the VPC of the members' security group (the stack's). Required.
    name: the namespace's name, such as dev.fargate-app.internal (spec.service_namespace_name).
        Required.
    """

    vpc_id: pulumi.Input[str]
    name: str

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        labels = self.name.split(".")
        if (
            not self.name
            or len(self.name) > NAMESPACE_NAME_MAX
            or any(not label or len(label) > DNS_LABEL_MAX for label in labels)
        ):
            return [f"name {self.name!r}: expected a name such as dev.fargate-app.internal"]
        return []


class ServiceNamespace(pulumi.ComponentResource):
    """Cloud Map HTTP namespace and the security group of its members.

    Outputs:
        namespace_arn, namespace_name: the namespace.
        members_security_group_id: the group every task of the stack's services carries.
    """

    def __init__(
        self, name: str, args: ServiceNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"ServiceNamespace {name!r}", args.problems())
        super().__init__("fargate-app:namespace:ServiceNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = aws.servicediscovery.HttpNamespace(
            f"{name}-ns",
            name=args.name,
            description="The stack's services, reached through Service Connect",
            opts=child,
        )
        members = aws.ec2.SecurityGroup(
            f"{name}-members",
            vpc_id=args.vpc_id,
            description="The stack's services: internal services admit this group",
            opts=child,
        )
        self.namespace_arn: pulumi.Output[str] = namespace.arn
        self.namespace_name: pulumi.Output[str] = namespace.name
        self.members_security_group_id: pulumi.Output[str] = members.id
        self.register_outputs(
            {
                "namespace_arn": self.namespace_arn,
                "namespace_name": self.namespace_name,
                "members_security_group_id": self.members_security_group_id,
            }
        )
