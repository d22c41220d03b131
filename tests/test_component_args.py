"""Every component checks its arguments before it creates anything (components/*.py).

What a user of a component relies on: arguments AWS would refuse, or that would stop the program
half-way, fail at once with a message naming the argument, the value and what is allowed, and
nothing is left half-made: the component registers no child. Args are keyword-only, so a value
cannot land in the wrong field when fields are added.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.access_logs import AccessLogBucket, AccessLogBucketArgs
from components.alarm_topic import AlarmTopic, AlarmTopicArgs
from components.alarms import Alarms, AlarmsArgs
from components.app_service import AppService, AppServiceArgs
from components.certificate import Certificate, CertificateArgs
from components.cluster import Cluster, ClusterArgs
from components.dns import AliasRecords, AliasRecordsArgs
from components.edge import Edge, EdgeArgs
from components.exec_sessions import ExecSessions, ExecSessionsArgs
from components.file_system import FileSystem, FileSystemArgs
from components.image import ContainerImage, ContainerImageArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.namespace import ServiceNamespace, ServiceNamespaceArgs
from components.network import Network, NetworkArgs
from components.queue import WorkQueue, WorkQueueArgs
from components.roles import TaskRoles, TaskRolesArgs
from components.scheduled_tasks import ScheduledTasks, ScheduledTasksArgs
from components.secrets import AppSecrets, AppSecretsArgs
from components.service import (
    FargateService,
    FargateServiceArgs,
    LoadBalancerRoute,
    QueueScaling,
    ServiceConnect,
    ServicePlacement,
)
from components.spec import Deployment, EgressRule, Scaling, ScheduledTask, ServiceSpec, TaskSize
from components.task_definition import AppContainer, ContainerLogging, Mount, TaskPlacement
from components.web_acl import WebAcl, WebAclArgs
from tools.mocks import ProgramRun

ROOT = Path(__file__).resolve().parent.parent
LOG_GROUP = "/ecs/fargate-app/test/app"


def service_args(**changes: Any) -> FargateServiceArgs:
    """A service's arguments that pass every check, with `changes` on top."""
    args = FargateServiceArgs(
        container=AppContainer(image="repo@sha256:" + "0" * 64),
        placement=ServicePlacement(
            cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
            cluster_name="c",
            capacity_providers=None,  # type: ignore[arg-type]  # never reached
            vpc_id="vpc-1",
            subnet_ids=["subnet-1", "subnet-2"],
        ),
        load_balancer=LoadBalancerRoute(listener_arn="l", security_group_id="sg-1"),
        execution_role_arn="arn:aws:iam::123456789012:role/e",
        task_role_arn="arn:aws:iam::123456789012:role/t",
    )
    return dataclasses.replace(args, **changes)


def jobs_args(**changes: Any) -> ScheduledTasksArgs:
    """Scheduled jobs' arguments that pass every check, with `changes` on top."""
    args = ScheduledTasksArgs(
        container=AppContainer(
            image="repo@sha256:" + "0" * 64, logging=ContainerLogging(group=LOG_GROUP)
        ),
        placement=TaskPlacement(
            cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/c",
            subnet_ids=["subnet-1"],
            security_group_id="sg-1",
            execution_role_arn="arn:aws:iam::123456789012:role/e",
            task_role_arn="arn:aws:iam::123456789012:role/t",
        ),
        tasks=(ScheduledTask(name="job", schedule="rate(1 day)", command=("true",)),),
    )
    return dataclasses.replace(args, **changes)


def edge_args(**changes: Any) -> EdgeArgs:
    """An edge's arguments that pass every check, with `changes` on top."""
    args = EdgeArgs(
        load_balancer_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/w/1",
        load_balancer_dns_name="internal-w-1.us-east-1.elb.amazonaws.com",
        load_balancer_security_group_id="sg-1",
        vpc_id="vpc-1",
    )
    return dataclasses.replace(args, **changes)


def container(**changes: Any) -> AppContainer:
    return AppContainer(image="repo@sha256:" + "0" * 64, **changes)


# (what is wrong, the component class, how to build it with that, what the message must name)
BAD: list[tuple[str, type[pulumi.ComponentResource], Callable[[], Any], str]] = [
    (
        "an unknown NAT mode",
        Network,
        lambda: Network("n", NetworkArgs(nat_gateways="perAZ")),
        "perAZ",
    ),
    (
        "a VPC too small",
        Network,
        lambda: Network("n", NetworkArgs(cidr="10.0.0.0/25")),
        "/16 to /24",
    ),
    (
        "more AZs than the VPC fits",
        Network,
        lambda: Network("n", NetworkArgs(cidr="10.0.0.0/24", availability_zones=5)),
        "availability_zones 5",
    ),
    (
        "a retention CloudWatch refuses",
        Network,
        lambda: Network("n", NetworkArgs(flow_logs=True, flow_log_retention_days=31)),
        "flow_log_retention_days 31",
    ),
    (
        "a platform Fargate does not run",
        ContainerImage,
        lambda: ContainerImage("i", ContainerImageArgs(platform="linux/arm/v7")),
        "linux/arm/v7",
    ),
    (
        "a lifecycle policy keeping nothing",
        ContainerImage,
        lambda: ContainerImage("i", ContainerImageArgs(keep_images=0)),
        "keep_images 0",
    ),
    (
        "a secret named like the program's own variables",
        AppSecrets,
        lambda: AppSecrets("s", AppSecretsArgs(values={"PORT": "1"})),
        "'PORT'",
    ),
    (
        "an empty secret",
        AppSecrets,
        lambda: AppSecrets("s", AppSecretsArgs(values={"API_TOKEN": ""})),
        "'API_TOKEN'",
    ),
    (
        "an IAM statement without a Sid",
        TaskRoles,
        lambda: TaskRoles(
            "r",
            TaskRolesArgs(task_policy_statements=({"Effect": "Allow", "Action": "s3:GetObject"},)),
        ),
        "task_policy_statements[0]",
    ),
    (
        "a session retention CloudWatch refuses",
        ExecSessions,
        lambda: ExecSessions("exec", ExecSessionsArgs(log_retention_days=10)),
        "log_retention_days 10",
    ),
    (
        "an egress rule admitting every protocol",
        FargateService,
        lambda: FargateService(
            "app",
            service_args(egress=(EgressRule(name="all", port=1, to_port=65535, protocol="-1"),)),
        ),
        "protocol '-1'",
    ),
    (
        "a cluster name ECS refuses",
        Cluster,
        lambda: Cluster("c", ClusterArgs(cluster_name="my cluster")),
        "'my cluster'",
    ),
    (
        "a domain outside its zone",
        Certificate,
        lambda: Certificate(
            "d", CertificateArgs(domain_name="app.example.org", hosted_zone="example.com")
        ),
        "'app.example.org'",
    ),
    (
        "no name to publish",
        AliasRecords,
        lambda: AliasRecords(
            "d",
            AliasRecordsArgs(
                zone_id="Z1", domain_name="", target_dns_name="x", target_zone_id="Z2"
            ),
        ),
        "domain_name",
    ),
    (
        "logs that expire at once",
        AccessLogBucket,
        lambda: AccessLogBucket("l", AccessLogBucketArgs(retention_days=0)),
        "retention_days 0",
    ),
    (
        "a load balancer in one AZ",
        LoadBalancer,
        lambda: LoadBalancer("w", LoadBalancerArgs(vpc_id="vpc-1", subnet_ids=["s-1"])),
        "subnet_ids",
    ),
    (
        "an idle timeout the ALB refuses",
        LoadBalancer,
        lambda: LoadBalancer(
            "w",
            LoadBalancerArgs(
                vpc_id="vpc-1",
                subnet_ids=["s-1", "s-2"],
                idle_timeout_s=4001,
            ),
        ),
        "idle_timeout_s 4001",
    ),
    (
        "an address that is not one",
        AlarmTopic,
        lambda: AlarmTopic("a", AlarmTopicArgs(email="ops-at-example.com")),
        "ops-at-example.com",
    ),
    (
        "alarms without a target group",
        Alarms,
        lambda: Alarms(
            "a",
            AlarmsArgs(
                topic_arn="t",
                cluster_name="c",
                service_name="s",
                lb_arn_suffix="app/x/1",
                target_group_arn_suffixes=(),
            ),
        ),
        "target_group_arn_suffixes",
    ),
    (
        "an unknown deployment strategy",
        FargateService,
        lambda: FargateService("app", service_args(deployment=Deployment(strategy="blue-green"))),
        "'blue-green'",
    ),
    (
        "a size Fargate does not pair",
        FargateService,
        lambda: FargateService("app", service_args(size=TaskSize(cpu=256, memory=4096))),
        "memory 4096",
    ),
    (
        "desired outside min and max",
        FargateService,
        lambda: FargateService(
            "app", service_args(scaling=Scaling(desired_count=3, min_count=1, max_count=2))
        ),
        "desired_count 3",
    ),
    (
        "more tasks on demand than the service may run",
        FargateService,
        lambda: FargateService(
            "app",
            service_args(
                scaling=Scaling(max_count=2),
                placement=dataclasses.replace(
                    service_args().placement, spot=True, on_demand_base=3
                ),
            ),
        ),
        "on_demand_base 3",
    ),
    (
        "ARM64 on Spot",
        FargateService,
        lambda: FargateService(
            "app",
            service_args(
                container=container(cpu_architecture="ARM64"),
                placement=dataclasses.replace(service_args().placement, spot=True),
            ),
        ),
        "ARM64",
    ),
    (
        "a variable the program sets",
        FargateService,
        lambda: FargateService("app", service_args(container=container(env={"PORT": "80"}))),
        "'PORT'",
    ),
    (
        "a port out of range",
        FargateService,
        lambda: FargateService("app", service_args(container=container(port=70000))),
        "port 70000",
    ),
    (
        "a mount path that is not absolute",
        FargateService,
        lambda: FargateService(
            "app",
            service_args(container=container(mounts=(Mount(volume="data", path="data"),))),
        ),
        "'data'",
    ),
    (
        "a log group of someone else's",
        FargateService,
        lambda: FargateService(
            "app", service_args(container=container(logging=ContainerLogging(group="/other")))
        ),
        "container.logging.group",
    ),
    (
        "a rule priority ELB refuses",
        FargateService,
        lambda: FargateService(
            "app",
            service_args(
                load_balancer=LoadBalancerRoute(listener_arn="l", security_group_id="s", priority=0)
            ),
        ),
        "priority 0",
    ),
    (
        "a worker listening on a port",
        FargateService,
        lambda: FargateService(
            "w", service_args(load_balancer=None, queue=QueueScaling(queue_name="q"))
        ),
        "queue: a worker has no port",
    ),
    (
        "blue/green without a load balancer",
        FargateService,
        lambda: FargateService(
            "s",
            service_args(load_balancer=None, deployment=Deployment(strategy="blueGreen")),
        ),
        "deploys rolling",
    ),
    (
        "no room for the Service Connect proxy",
        FargateService,
        lambda: FargateService(
            "s",
            service_args(
                size=TaskSize(cpu=16384, memory=122880),
                service_connect=ServiceConnect(
                    namespace_arn="arn:aws:servicediscovery:us-east-1:1:namespace/ns-1",
                    members_security_group_id="sg-2",
                ),
            ),
        ),
        "Service Connect proxy",
    ),
    (
        "target groups without their load balancer",
        Alarms,
        lambda: Alarms(
            "a",
            AlarmsArgs(
                topic_arn="t", cluster_name="c", service_name="s", target_group_arn_suffixes=("t",)
            ),
        ),
        "lb_arn_suffix",
    ),
    (
        "an access point acting as root",
        FileSystem,
        lambda: FileSystem(
            "files",
            FileSystemArgs(
                vpc_id="vpc-1", subnet_ids={"us-east-1a": "subnet-1"}, user="0:0", directory="/f"
            ),
        ),
        "root",
    ),
    (
        "more receives than SQS allows",
        WorkQueue,
        lambda: WorkQueue("q", WorkQueueArgs(max_receives=0)),
        "max_receives 0",
    ),
    (
        "a namespace that is not a DNS name",
        ServiceNamespace,
        lambda: ServiceNamespace("n", ServiceNamespaceArgs(vpc_id="vpc-1", name="a..b")),
        "'a..b'",
    ),
    (
        "a web service without the load balancer",
        AppService,
        lambda: AppService(
            "api",
            AppServiceArgs(
                spec=ServiceSpec(name="api", kind="web"),
                image="repo@sha256:" + "0" * 64,
                placement=service_args().placement,
                alarm_topic_arn="arn:aws:sns:us-east-1:123456789012:t",
            ),
        ),
        "listener",
    ),
    (
        "jobs without their service's log group",
        ScheduledTasks,
        lambda: ScheduledTasks("jobs", jobs_args(container=container())),
        "container.logging.group",
    ),
    (
        "a job of a size Fargate does not pair",
        ScheduledTasks,
        lambda: ScheduledTasks(
            "jobs",
            jobs_args(
                tasks=(
                    ScheduledTask(
                        name="job", schedule="rate(1 day)", command=("true",), memory=4096
                    ),
                )
            ),
        ),
        "memory 4096",
    ),
    (
        "a job name AWS would refuse",
        ScheduledTasks,
        lambda: ScheduledTasks(
            "jobs",
            jobs_args(
                tasks=(ScheduledTask(name="nightly job", schedule="rate(1 day)", command=("x",)),)
            ),
        ),
        "'nightly job'",
    ),
    (
        "more retries than Scheduler allows",
        ScheduledTasks,
        lambda: ScheduledTasks("jobs", jobs_args(maximum_retry_attempts=186)),
        "maximum_retry_attempts 186",
    ),
    (
        "a cached path CloudFront refuses",
        Edge,
        lambda: Edge("edge", edge_args(cached_paths=("/static files/*",))),
        "'/static files/*'",
    ),
    (
        "an origin response timeout above CloudFront's quota",
        Edge,
        lambda: Edge("edge", edge_args(origin_response_timeout_s=90)),
        "origin_response_timeout_s 90",
    ),
    (
        "a domain without CloudFront's certificate",
        Edge,
        lambda: Edge("edge", edge_args(domain_name="app.example.com")),
        "certificate_arn",
    ),
    (
        "HTTPS to the origin with no name a certificate covers",
        Edge,
        lambda: Edge("edge", edge_args(origin_https=True)),
        "origin_https",
    ),
    (
        "a WAF scope WAF does not have",
        WebAcl,
        lambda: WebAcl("waf", WebAclArgs(scope="GLOBAL")),
        "GLOBAL",
    ),
    (
        "a regional web ACL on nothing",
        WebAcl,
        lambda: WebAcl("waf", WebAclArgs(scope="REGIONAL")),
        "associate_with",
    ),
    (
        "a CloudFront web ACL associated like a regional one",
        WebAcl,
        lambda: WebAcl("waf", WebAclArgs(scope="CLOUDFRONT", associate_with="arn:aws:elb")),
        "associate_with",
    ),
    (
        "a rate limit WAF refuses",
        WebAcl,
        lambda: WebAcl("waf", WebAclArgs(scope="CLOUDFRONT", rate_limit=5)),
        "rate_limit 5",
    ),
    (
        "a certificate region named twice",
        Certificate,
        lambda: Certificate(
            "d",
            CertificateArgs(
                domain_name="app.example.com",
                hosted_zone="example.com",
                also_in_regions=("us-east-1", "us-east-1"),
            ),
        ),
        "also_in_regions",
    ),
]


@pytest.mark.parametrize(("wrong", "component", "build", "named"), BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_fail_before_the_component_registers(
    run_component,
    wrong: str,
    component: type[pulumi.ComponentResource],
    build: Callable[[], Any],
    named: str,
) -> None:
    """Nothing in state, not even the empty component: a failed `pulumi up` leaves no trace."""
    run: ProgramRun = run_component(build, check=False)
    assert run.error is not None, f"{wrong}: accepted"
    assert isinstance(run.error, ValueError), f"{wrong}: {type(run.error).__name__}: {run.error}"
    assert str(run.error).startswith(f"{component.__name__} "), (
        f"{wrong}: the message does not name the component {component.__name__}: {run.error}"
    )
    assert named in str(run.error), f"{wrong}: the message does not name {named!r}: {run.error}"
    assert not run.resources, (
        f"{wrong}: registered before the check: {[r.urn for r in run.resources]}"
    )


def component_classes() -> dict[str, type[pulumi.ComponentResource]]:
    """Every ComponentResource defined in components/, by name."""
    return {
        name: value
        for module in sorted(p.stem for p in (ROOT / "components").glob("*.py"))
        for name, value in vars(importlib.import_module(f"components.{module}")).items()
        if isinstance(value, type)
        and issubclass(value, pulumi.ComponentResource)
        and value.__module__ == f"components.{module}"
    }


def test_every_component_has_a_bad_case() -> None:
    """A new component cannot skip the check above: each one is built wrong at least once."""
    classes = component_classes()
    covered = {component.__name__ for _, component, _, _ in BAD}
    assert len(classes) > 1, "no component classes found in components/"
    missing = sorted(set(classes) - covered)
    assert not missing, f"components without a bad-arguments case in BAD: {missing}"


def test_every_problem_is_reported_at_once(run_component) -> None:
    bad = service_args(
        size=TaskSize(cpu=300),
        deployment=Deployment(strategy="rolling", canary_percent=0),
        container=container(port=0),
    )
    run = run_component(lambda: FargateService("app", bad), check=False)
    for named in ("cpu 300", "canary_percent 0", "port 0"):
        assert named in str(run.error), f"{named!r} missing from {run.error}"


def test_args_that_pass_create_the_component(run_component) -> None:
    """The baseline of the cases above: without the one wrong setting, the service is built."""
    run = run_component(
        lambda: FargateService(
            "app",
            service_args(
                placement=dataclasses.replace(
                    service_args().placement, capacity_providers=_capacity_stub()
                )
            ),
        )
    )
    assert run.of_type("aws:ecs/service:Service"), "the valid service was not created"


def _capacity_stub() -> aws.ecs.ClusterCapacityProviders:
    return aws.ecs.ClusterCapacityProviders("capacity", cluster_name="c")


ARGS_CLASSES = [
    (module, name)
    for module in sorted(p.stem for p in (ROOT / "components").glob("*.py"))
    for name, value in vars(importlib.import_module(f"components.{module}")).items()
    if name.endswith("Args")
    and dataclasses.is_dataclass(value)
    and value.__module__ == f"components.{module}"
]


@pytest.mark.parametrize(("module", "name"), ARGS_CLASSES)
def test_args_are_frozen_and_keyword_only(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(f"components.{module}"), name)
    params = cls.__dataclass_params__
    assert params.frozen, f"{module}.{name} is not frozen"
    positional = [f.name for f in dataclasses.fields(cls) if not f.kw_only]
    assert not positional, f"{module}.{name} takes {positional} by position"


def test_every_component_has_its_args_class_checked() -> None:
    """The list above misses no component: each module with a ComponentResource is in it."""
    with_components = {
        p.stem
        for p in (ROOT / "components").glob("*.py")
        if "(pulumi.ComponentResource)" in p.read_text()
    }
    checked = {module for module, _ in ARGS_CLASSES}
    assert with_components and with_components <= checked, sorted(with_components - checked)
