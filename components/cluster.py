"""Cluster: the ECS cluster with the FARGATE and FARGATE_SPOT capacity providers, and, with ECS
Exec, where its sessions are recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.exec_sessions import ExecSessionRecord
from components.naming import bounded
from components.spec import check_args

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
CLUSTER_NAME_MAX = 255  # letters, digits, - and _
CLUSTER_NAME = re.compile(rf"^[A-Za-z0-9_-]{{1,{CLUSTER_NAME_MAX}}}$")


@dataclass(frozen=True, kw_only=True)
class ClusterArgs:
    """Settings of the cluster.

    cluster_name: the cluster's physical name. Default "<project>-<stack>", readable in the console
        and unique per stack in an account.
    container_insights: CloudWatch Container Insights. Default False: it bills per metric
        (roughly $2-4 a month per small service), worth it in prod, not in dev.
    exec_sessions: record ECS Exec sessions in this encrypted log group and encrypt them with its
        key (components.exec_sessions). Default None: no execute command configuration, which is
        right when no service turns exec on.
    """

    cluster_name: str = ""
    container_insights: bool = False
    exec_sessions: ExecSessionRecord | None = None

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if self.cluster_name and not CLUSTER_NAME.match(self.cluster_name):
            return [
                f"cluster_name {self.cluster_name!r}: 1 to {CLUSTER_NAME_MAX} letters, digits, "
                "- and _"
            ]
        return []


def execute_command_configuration(
    record: ExecSessionRecord | None,
) -> aws.ecs.ClusterConfigurationArgsDict | None:
    """Every session's commands and output to the encrypted log group (OVERRIDE: not the task's
    awslogs driver), and the session's data encrypted with the key on top of TLS."""
    if record is None:
        return None
    return {
        "execute_command_configuration": {
            "kms_key_id": record.key_arn,
            "logging": "OVERRIDE",
            "log_configuration": {
                "cloud_watch_log_group_name": record.log_group_name,
                # Refuses a log group that is not encrypted with a customer managed key.
                "cloud_watch_encryption_enabled": True,
            },
        }
    }


class Cluster(pulumi.ComponentResource):
    """ECS cluster and its capacity providers.

    Outputs:
        cluster_arn, cluster_name: the cluster.
        capacity_providers: the resource that attaches FARGATE and FARGATE_SPOT; services that use
            a capacity provider strategy must depend on it.
    """

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"Cluster {name!r}", args.problems())
        super().__init__("fargate-app:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=args.cluster_name
            or bounded(f"{pulumi.get_project()}-{pulumi.get_stack()}", CLUSTER_NAME_MAX),
            settings=[
                {
                    "name": "containerInsights",
                    "value": "enabled" if args.container_insights else "disabled",
                }
            ],
            configuration=execute_command_configuration(args.exec_sessions),
            opts=child,
        )
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=cluster.name,
            capacity_providers=list(CAPACITY_PROVIDERS),
            # Services set their own strategy; this default only covers one-off run_task calls.
            default_capacity_provider_strategies=[
                {"capacity_provider": "FARGATE", "weight": 1, "base": 0}
            ],
            opts=child,
        )
        self.cluster_arn: pulumi.Output[str] = cluster.arn
        self.cluster_name: pulumi.Output[str] = cluster.name
        self.register_outputs(
            {
                "cluster_arn": self.cluster_arn,
                "cluster_name": self.cluster_name,
                "capacity_providers": self.capacity_providers.id,
            }
        )
