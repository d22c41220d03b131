"""The `services` setting (stack_config/services.py): the config contract of the stack's other
services.

What a user relies on: a service left mostly unset runs like the main service (its sizes and
counts), with its own env and secrets; bad input is refused before anything is created, with the
setting named: an unknown type or field, a worker with a port, an internal service without one,
web services whose paths or hosts would hide each other, more rules, target groups, condition values
or wildcards than the load balancer takes, a name that is not a DNS label, is taken, clashes with a
job's names or would push a generated AWS name past its limit; and the more specific web rule wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.spec import (
    ALB_RULES_MAX,
    ALB_TARGET_GROUPS_MAX,
    INTERNAL,
    WEB,
    WORKER,
    ImageBuild,
    Scaling,
    TaskSize,
    queue_url_env,
    service_name_max,
)
from stack_config import ConfigError, StackConfig, load_config
from stack_config.build import check_build
from stack_config.parsing import Problems
from stack_config.routes import CATCH_ALL_PRIORITY

ROOT = Path(__file__).resolve().parent.parent
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/search:1.4.0"
BUILD = "services.a.build"
AUTH = "ECS_ENGINE_AUTH_DATA"  # Security Hub ECS.8's credentials variable
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:search-key-AbCdEf"


def load(services: Any, **settings: Any) -> StackConfig:
    raw = {"aws:region": "us-east-1", "services": services, **settings}
    return load_config(raw, stack="test", project_dir=ROOT)


def problems_of(services: Any, **settings: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(services, **settings)
    return caught.value.problems


def problem(services: Any, key: str, **settings: Any) -> str:
    """The one problem reported for `key` (exactly one must be)."""
    found = [p for p in problems_of(services, **settings) if p.startswith(f"{key}:")]
    assert len(found) == 1, f"expected one problem for {key}, got {found}"
    return found[0]


def web(**fields: Any) -> dict[str, Any]:
    return {"type": WEB, "path": ["/api/*"], **fields}


def internal(**fields: Any) -> dict[str, Any]:
    return {"type": INTERNAL, "containerPort": 8080, **fields}


def worker(**fields: Any) -> dict[str, Any]:
    return {"type": WORKER, **fields}


# --- what a service gets unless it says otherwise -----------------------------------------------


def test_sizes_and_counts_fall_back_to_the_main_services() -> None:
    cfg = load(
        {"api": web()},
        cpu=512,
        memory=2048,
        desiredCount=2,
        minCount=2,
        maxCount=5,
        cpuTarget=50,
        spot=True,
        containerPort=9000,
    )
    [api] = cfg.services
    assert api.size == TaskSize(cpu=512, memory=2048), "the size is not the main service's"
    assert api.scaling == Scaling(desired_count=2, min_count=2, max_count=5, cpu_target=50)
    assert api.spot, "spot is not the main service's"
    assert api.port == 9000, "a web service's port is not the main service's"


def test_env_and_secrets_are_the_services_own() -> None:
    cfg = load({"api": web(env={"MODE": "api"})}, env={"LOG_LEVEL": "info"}, secrets={})
    assert dict(cfg.services[0].env) == {"MODE": "api"}, "the main service's env leaked in"


def test_a_service_may_set_its_own_size_and_counts() -> None:
    cfg = load({"api": web(cpu=1024, memory=4096, minCount=1, maxCount=3, desiredCount=1)})
    [api] = cfg.services
    assert api.size == TaskSize(cpu=1024, memory=4096)
    assert (api.scaling.min_count, api.scaling.max_count) == (1, 3)


def test_a_worker_may_scale_to_zero() -> None:
    cfg = load({"mailer": {"type": "worker", "minCount": 0, "desiredCount": 0, "maxCount": 3}})
    assert cfg.services[0].scaling.min_count == 0


def test_a_web_or_internal_service_may_not_scale_to_zero() -> None:
    found = problem({"api": web(minCount=0, desiredCount=0)}, "services.api.minCount")
    assert "only a worker scales to zero" in found, found


def test_a_command_is_a_list_or_a_string_split_into_words() -> None:
    cfg = load({"a": web(command="python -m api --port 9000"), "b": {"type": "worker"}})
    assert cfg.services[0].command == ("python", "-m", "api", "--port", "9000")
    assert cfg.services[1].command == (), "an unset command is not the image's own"


def test_the_queue_url_variable_is_the_name_in_upper_case_with_underscores() -> None:
    assert queue_url_env("image-resizer") == "IMAGE_RESIZER_QUEUE_URL"


def test_workers_need_the_sqs_endpoint_of_private_tasks() -> None:
    assert "sqs" in load({"mailer": {"type": "worker"}}).endpoint_services
    assert "sqs" not in load({"api": web()}).endpoint_services


def test_a_services_secrets_need_their_endpoint() -> None:
    cfg = load({"api": web(secrets={"SEARCH_KEY": SECRET})})
    assert "secretsmanager" in cfg.endpoint_services


def test_private_tasks_without_nat_refuse_a_services_image_from_another_region() -> None:
    """Tasks without NAT reach ECR only through the VPC's endpoints, in the stack's region: a
    service's own image is held to this as the main service's `image` is."""
    other = ECR.replace("us-east-1", "eu-west-1")
    found = problem(
        {"api": web(image=other)}, "services.api.image", natGateways="none", vpcEndpoints=True
    )
    assert "us-east-1" in found and "natGateways" in found, found
    assert load({"api": web(image=other)}, natGateways="single").services[0].image is not None


# --- each bad input, named ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("services", "key", "says"),
    [
        ({"api": {"type": "gizmo"}}, "services.api.type", "web, internal or worker"),
        ({"api": {"path": "/x"}}, "services.api.type", "not set"),
        ({"api": web(colour="blue")}, "services.api.colour", "unknown field"),
        ({"api": web(cpuTraget=50)}, "services.api.cpuTraget", "did you mean `cpuTarget`"),
        ({"m": {"type": "worker", "containerPort": 80}}, "services.m.containerPort", "no port"),
        ({"m": worker(healthCheckPath="/h")}, "services.m.healthCheckPath", "no port"),
        ({"m": {"type": "worker", "cpuTarget": 50}}, "services.m.cpuTarget", "backlogPerTask"),
        ({"s": {"type": "internal"}}, "services.s.containerPort", "http://NAME:PORT"),
        ({"s": internal(path="/s")}, "services.s.path", "only a web"),
        ({"a": {"type": "web"}}, "services.a", "path and/or host"),
        ({"a": web(backlogPerTask=5)}, "services.a.backlogPerTask", "only a worker"),
        ({"a": web(containerPort=70000)}, "services.a.containerPort", "1 to 65535"),
        ({"a": web(cpu=300)}, "services.a.cpu", "Fargate CPU units"),
        ({"a": web(memory=4096)}, "services.a.memory", "with cpu 256"),
        ({"a": web(minCount=3, maxCount=2)}, "services.a.minCount", "above maxCount 2"),
        ({"a": web(cpuTarget=95)}, "services.a.cpuTarget", "10 to 90"),
        ({"m": {"type": "worker", "maxReceives": 0}}, "services.m.maxReceives", "1 to 1000"),
        ({"m": {"type": "worker", "backlogPerTask": 0}}, "services.m.backlogPerTask", "1 to"),
        ({"a": web(path=["api/*"])}, "services.a.path", "not an ALB path pattern"),
        ({"a": web(path=[], host=["nodot"])}, "services.a.path", "a list of path patterns"),
        ({"a": web(path=None, host=["localhost"])}, "services.a.host", "not an ALB host name"),
        ({"a": web(env={"PORT": "1"})}, "services.a.env.PORT", "the program sets PORT"),
        ({"a": web(env={"API_TOKEN": "x"})}, "services.a.env.API_TOKEN", "looks like a secret"),
        ({"a": web(env={AUTH: "x"})}, f"services.a.env.{AUTH}", "holds credentials"),
        ({"a": web(secrets={"K": "not-an-arn"})}, "services.a.secrets.K", "Secrets Manager"),
        ({"a": web(image="docker.io/library/nginx")}, "services.a.image", "ECR image URI"),
        ({"a": web(image=ECR, build={"context": "app"})}, "services.a", "build or image"),
        ({"a": web(build={"context": "no/such/dir"})}, "services.a.build.context", "directory"),
        ({"a": web(build={"context": "/srv/app"})}, BUILD + ".context", "relative to the project"),
        ({"a": web(build={"context": "app", "dockerfile": "x"})}, BUILD + ".dockerfile", "exist"),
        ({"a": web(build={"contxt": "app"})}, "services.a.build.contxt", "unknown field"),
        ({"a": web(build="app")}, BUILD, "expected a map {context, dockerfile}"),
        ({"a": web(onDemandBase=-1)}, "services.a.onDemandBase", "0 to its maxCount"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_setting(services: Any, key: str, says: str) -> None:
    services = {n: {k: v for k, v in e.items() if v is not None} for n, e in services.items()}
    found = problem(services, key)
    assert says in found, f"{key}: {found!r} does not say {says!r}"


def test_a_worker_env_cannot_shadow_a_queue_url() -> None:
    found = problem(
        {"api": web(env={"MAILER_QUEUE_URL": "x"}), "mailer": {"type": "worker"}},
        "services.api.env.MAILER_QUEUE_URL",
    )
    assert "the program sets" in found, found


def test_the_main_services_env_cannot_shadow_a_queue_url() -> None:
    found = problem({"mailer": worker()}, "env.MAILER_QUEUE_URL", env={"MAILER_QUEUE_URL": "x"})
    assert "the worker mailer's queue URL" in found, found


def test_task_egress_may_not_take_service_connects_rules() -> None:
    egress = {"service-connect-8080": {"port": 5432, "cidr": "10.0.0.0/16"}}
    found = [p for p in problems_of({"s": internal()}, taskEgress=egress) if "twice" in p]
    assert found and found[0].startswith("taskEgress."), found


def test_spot_is_refused_for_arm64_tasks() -> None:
    found = problem({"a": web(spot=True)}, "services.a.spot", cpuArchitecture="ARM64")
    assert "ARM64" in found, found


def test_every_problem_of_every_service_is_reported_at_once() -> None:
    found = problems_of({"a": {"type": "gizmo"}, "b": web(cpu=300), "c": {"type": "internal"}})
    keys = {p.split(":")[0] for p in found}
    assert {"services.a.type", "services.b.cpu", "services.c.containerPort"} <= keys, found


def test_services_that_are_not_a_map_are_refused() -> None:
    found = problems_of(["api"])
    assert any(p.startswith("services:") and "map of service names" in p for p in found), found


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Api", "api_v2", "2api", "api-", "-api", "a.b"])
def test_names_must_be_dns_labels(name: str) -> None:
    assert "DNS labels" in problem({name: web()}, f"services.{name}")


@pytest.mark.parametrize("name", ["app", "web", "network", "cluster", "jobs", "services"])
def test_the_stacks_own_component_names_are_taken(name: str) -> None:
    assert "choose another" in problem({name: web()}, f"services.{name}")


@pytest.mark.parametrize("exec_on", [True, False], ids=["exec-on", "exec-off"])
def test_a_service_may_not_take_the_exec_sessions_log_group(exec_on: bool) -> None:
    """/ecs/<project>/<stack>/exec-sessions records ECS Exec sessions; a service of that name would
    create a second log group of the same name, and `pulumi up` would fail. Refused whether exec is
    on yet or not, so turning it on later cannot break the stack."""
    found = problem({"exec-sessions": worker()}, "services.exec-sessions", enableExec=exec_on)
    assert "/ecs/fargate-app/test/exec-sessions" in found, found
    assert "choose another name" in found, found


def test_a_service_may_not_take_a_scheduled_jobs_names() -> None:
    found = problem(
        {"jobs-nightly": {"type": "worker"}},
        "services.jobs-nightly",
        scheduledTasks={"nightly": {"schedule": "rate(1 day)", "command": "x"}},
    )
    assert "scheduled job nightly" in found, found


def test_a_web_name_must_leave_room_in_the_32_characters_of_a_target_group() -> None:
    longest = "a" * service_name_max(WEB, shifts=False)
    load({longest: web()})
    found = problem({longest + "b": web()}, f"services.{longest}b")
    assert "target group" in found and "32" in found, found


def test_blue_green_leaves_less_room_for_the_alternate_target_group() -> None:
    name = "a" * service_name_max(WEB, shifts=False)
    found = problem({name: web()}, f"services.{name}", deploymentStrategy="blueGreen")
    assert "alternate target group" in found, found


def test_a_worker_name_may_be_longer_than_a_web_one() -> None:
    assert service_name_max(WORKER, shifts=False) > service_name_max(WEB, shifts=True)
    name = "w" * service_name_max(WORKER, shifts=False)
    load({name: {"type": "worker"}})


# --- web rules -----------------------------------------------------------------------------------


def test_the_same_paths_twice_are_refused() -> None:
    found = problem({"a": web(), "b": web()}, "services.b")
    assert "the same requests as a" in found, found


def test_a_rule_for_every_path_would_hide_the_main_service() -> None:
    found = problem({"a": web(path=["/*"])}, "services.a")
    assert "the same requests as the main service" in found, found


def test_partly_overlapping_paths_are_refused() -> None:
    found = problem({"a": web(path=["/img/*"]), "b": web(path=["*.jpg"])}, "services.b")
    assert "overlap a's" in found, found


def test_a_host_rule_and_a_path_rule_that_share_requests_are_refused() -> None:
    found = problem({"a": web(), "b": {"type": "web", "host": ["b.example.com"]}}, "services.b")
    assert "add the host to the path rule" in found, found


def test_nested_paths_are_allowed_and_the_more_specific_comes_first() -> None:
    cfg = load({"api": web(), "admin": web(path=["/api/admin/*"])})
    priority = {s.name: s.route.priority for s in cfg.services if s.route}
    assert priority["admin"] < priority["api"] < CATCH_ALL_PRIORITY, priority


def test_hosts_compare_without_case() -> None:
    hosts = {"a": ["API.example.com"], "b": ["api.example.com"]}
    found = problem({n: {"type": WEB, "host": h} for n, h in hosts.items()}, "services.b")
    assert "the same requests" in found, found


def test_the_main_services_rule_goes_last_only_with_web_services() -> None:
    assert load({"api": web()}).main_rule_priority == CATCH_ALL_PRIORITY
    assert load({"m": {"type": "worker"}}).main_rule_priority is None


def test_adding_a_service_leaves_the_others_priorities_alone() -> None:
    before = {s.name: s.route.priority for s in load({"api": web()}).services if s.route}
    after = {
        s.name: s.route.priority
        for s in load({"api": web(), "docs": web(path=["/docs/*"])}).services
        if s.route
    }
    assert after["api"] == before["api"], (before, after)


def test_more_than_three_values_in_a_condition_are_refused() -> None:
    found = problem({"a": web(path=["/a", "/b", "/c", "/d"])}, "services.a.path")
    assert "at most 3" in found, found


def test_more_than_five_values_in_a_rule_are_refused() -> None:
    found = problem(
        {
            "a": web(
                path=["/a", "/b", "/c"], host=["a.example.com", "b.example.com", "c.example.com"]
            )
        },
        "services.a",
    )
    assert "at most 5" in found, found


def test_more_than_five_wildcards_in_a_rule_are_refused() -> None:
    found = problem({"a": web(path=["/a*b*c*", "/d*e*f*"])}, "services.a")
    assert "6 wildcards" in found, found


def test_more_rules_than_the_load_balancer_takes_are_refused() -> None:
    services = {f"s{i}": web(path=[f"/s{i}/*"]) for i in range(ALB_RULES_MAX)}
    found = [p for p in problems_of(services) if "listener rules" in p]
    assert len(found) == 1 and f"at most {ALB_RULES_MAX}" in found[0], found


def test_more_target_groups_than_the_load_balancer_takes_are_refused() -> None:
    count = ALB_TARGET_GROUPS_MAX // 2  # with the main service's, one too many pairs
    services = {f"s{i}": web(path=[f"/s{i}/*"]) for i in range(count)}
    load(services)  # rolling: one target group each
    found = problem(services, "services", deploymentStrategy="blueGreen")
    assert "target groups" in found and f"at most {ALB_TARGET_GROUPS_MAX}" in found, found


# --- Service Connect's proxy -------------------------------------------------------------------


def test_a_task_without_room_for_the_proxy_is_refused() -> None:
    found = problem(
        {"s": internal(cpu=16384, memory=122880)},
        "services.s",
    )
    assert "Service Connect proxy" in found, found


def test_the_main_service_needs_room_for_the_proxy_too() -> None:
    found = problem(
        {"s": internal(cpu=256, memory=512)},
        "cpu",
        cpu=16384,
        memory=122880,
    )
    assert "Service Connect proxy" in found, found


# --- the build setting, under any key (issue 10 shares it) -------------------------------------


@pytest.mark.parametrize("key", ["build", "services.api.build"])
def test_a_build_names_a_directory_and_its_dockerfile(key: str) -> None:
    problems = Problems()
    build = check_build({"context": "app"}, problems, key, ROOT)
    assert build == ImageBuild(context="app", dockerfile="app/Dockerfile"), build
    assert not problems.items, problems.items


@pytest.mark.parametrize("key", ["build", "services.api.build"])
def test_a_build_problem_names_its_key(key: str) -> None:
    problems = Problems()
    check_build({"context": "nowhere"}, problems, key, ROOT)
    assert problems.items and problems.items[0].startswith(f"{key}.context:"), problems.items


def test_a_service_build_is_checked_against_the_project_only_when_given_it() -> None:
    """As the main service's: `pulumi up` runs in the project and checks; a test config without a
    project directory reads no files."""
    raw = {"aws:region": "us-east-1", "services": {"a": web(build={"context": "nowhere"})}}
    cfg = load_config(raw, stack="test")
    assert cfg.services[0].build == ImageBuild(context="nowhere", dockerfile="nowhere/Dockerfile")
    found = problems_of({"a": web(build={"context": "nowhere"})})
    assert any(
        p.startswith("services.a.build.dockerfile: 'nowhere/Dockerfile' does not") for p in found
    ), found


# --- who a service's container runs as, and what it may write ----------------------------------

NON_ROOT = "ecs-container-non-root-user"
READ_ONLY = "ecs-container-read-only-root"
WHY = "the vendor image needs it, see the runbook"


def test_a_service_runs_as_the_main_container_by_default() -> None:
    [spec] = load(
        {"a": web()}, containerUser="1000:1000", writablePaths=["/var/cache/app"]
    ).services
    assert (spec.container_user, spec.read_only_root) == ("1000:1000", True), spec
    assert spec.writable_paths == ("/var/cache/app",), spec


def test_a_service_takes_its_own_user_and_writable_paths() -> None:
    [spec] = load({"a": web(containerUser="2000:2000", writablePaths=["/tmp", "/data"])}).services
    assert spec.container_user == "2000:2000", spec
    assert spec.writable_paths == ("/tmp", "/data"), spec


def test_a_service_with_a_writable_root_mounts_no_writable_paths() -> None:
    spec = load({"a": web(readOnlyRootFilesystem=False)}, policyWaivers={READ_ONLY: WHY}).services[
        0
    ]
    assert (spec.read_only_root, spec.writable_paths) == (False, ()), spec


def test_a_service_runs_as_the_images_user_when_told() -> None:
    spec = load({"a": web(containerUser="image")}, policyWaivers={NON_ROOT: WHY}).services[0]
    assert spec.container_user is None, spec


@pytest.mark.parametrize(
    ("entry", "key", "says"),
    [
        (web(containerUser="0:0"), "services.a.containerUser", f"policyWaivers.{NON_ROOT}"),
        (web(containerUser="image"), "services.a.containerUser", f"policyWaivers.{NON_ROOT}"),
        (web(containerUser="root"), "services.a.containerUser", "numeric uid:gid"),
        (web(readOnlyRootFilesystem=False), "services.a.readOnlyRootFilesystem", READ_ONLY),
        (web(writablePaths=["tmp"]), "services.a.writablePaths", "absolute path"),
        (web(writablePaths="/tmp"), "services.a.writablePaths", "list of strings"),
        (web(writablePaths=["/tmp", "/tmp"]), "services.a.writablePaths", "listed twice"),
    ],
)
def test_a_services_container_settings_are_checked_as_the_main_ones(
    entry: dict[str, Any], key: str, says: str
) -> None:
    found = problem({"a": entry}, key)
    assert says in found, f"{key}: {found!r} does not say {says!r}"


def test_a_service_giving_up_a_control_says_how_with_its_own_key() -> None:
    found = problem({"a": web(containerUser="0:0")}, "services.a.containerUser")
    assert "pulumi config set --path 'services.a.containerUser' 10001:10001" in found, found


def test_writable_paths_with_a_writable_root_are_refused() -> None:
    found = problem(
        {"a": web(readOnlyRootFilesystem=False, writablePaths=["/data"])},
        "services.a.writablePaths",
        policyWaivers={READ_ONLY: WHY},
    )
    assert "pulumi config rm --path 'services.a.writablePaths'" in found, found


def test_a_service_inherits_the_main_containers_waived_root_without_a_second_problem() -> None:
    [spec] = load({"a": web()}, containerUser="0:0", policyWaivers={NON_ROOT: WHY}).services
    assert spec.container_user == "0:0", spec
    found = [p for p in problems_of({"a": web()}, containerUser="0:0") if "services" in p]
    assert not found, f"the main container's root is reported once, at containerUser: {found}"
