"""`services`: the stack's other services beside the main one (web, internal and worker), each
checked on its own and then together: names, listener rules and the load balancer's quotas.

Each entry is `name -> {type, ...}`; `SERVICE_FIELDS` says which fields each type takes (and why
the others do not), and `_check_one` reads each into the `ServiceSpec`: a new field (a file
system's `mounts`, say) is a row there and a reading here. Sizes and counts left unset are the main
service's, and so are the container's user and file system; env and secrets are the service's
own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from components.spec import (
    ALB_CONDITION_VALUES_PER_RULE,
    ALB_CONDITION_WILDCARDS_PER_RULE,
    ALB_RULES_MAX,
    ALB_TARGET_GROUPS_MAX,
    ALB_VALUES_PER_CONDITION,
    BACKLOG_PER_TASK_MAX,
    BACKLOG_PER_TASK_MIN,
    DEFAULT_BACKLOG_PER_TASK,
    DEFAULT_MAX_RECEIVES,
    EXEC_AGENT_VOLUMES,
    HOST_PATTERN,
    INTERNAL,
    JOBS_COMPONENT,
    MAIN_SERVICE,
    MAX_RECEIVES_MAX,
    MAX_RECEIVES_MIN,
    PATH_PATTERN,
    RESERVED_ENV,
    SERVICE_NAME,
    SERVICE_TYPES,
    STACK_COMPONENTS,
    WEB,
    WORKER,
    ImageBuild,
    ImageRef,
    Route,
    Scaling,
    ServiceSpec,
    TaskSize,
    env_name_issues,
    generated_name_problems,
    health_check_path_issues,
    joined,
    on_demand_base_issues,
    port_issues,
    queue_url_env,
    size_with_proxy,
    spot_issues,
)
from stack_config.build import check_build
from stack_config.container import check_read_only, check_user, check_writable_paths
from stack_config.file_systems import check_mounts
from stack_config.parsing import (
    BAD_VALUE,
    PartialMap,
    Problems,
    parse_array,
    parse_boolean,
    parse_command,
    parse_integer,
    parse_map,
    parse_string,
    suggest,
)
from stack_config.routes import RuleRequests, overlap_problems, priorities
from stack_config.settings import (
    ECR_IMAGE,
    SECRET_ARN,
    SSM_ARN,
    secret_env_reason,
    unreachable_image,
)

ALL = SERVICE_TYPES
SERVED = (WEB, INTERNAL)  # the kinds that listen on a port
DOCS = "docs/services.md"


@dataclass(frozen=True)
class Field:
    """One field of a service: the kinds that take it and why the others do not."""

    kinds: tuple[str, ...]
    refused: str = ""  # said to a kind that does not take it


SERVICE_FIELDS: dict[str, Field] = {
    "type": Field(ALL),
    "command": Field(ALL),
    "containerPort": Field(SERVED, "a worker has no port: it takes its work from its queue"),
    "healthCheckPath": Field(SERVED, "a worker has no port to check"),
    "cpu": Field(ALL),
    "memory": Field(ALL),
    "desiredCount": Field(ALL),
    "minCount": Field(ALL),
    "maxCount": Field(ALL),
    "cpuTarget": Field(SERVED, "a worker scales on its queue's backlog (backlogPerTask)"),
    "spot": Field(ALL),
    "onDemandBase": Field(ALL),
    "env": Field(ALL),
    "secrets": Field(ALL),
    "build": Field(ALL),
    "image": Field(ALL),
    "path": Field((WEB,), "only a web service is behind the load balancer"),
    "host": Field((WEB,), "only a web service is behind the load balancer"),
    "backlogPerTask": Field((WORKER,), "only a worker has a queue"),
    "maxReceives": Field((WORKER,), "only a worker has a queue"),
    "containerUser": Field(ALL),
    "readOnlyRootFilesystem": Field(ALL),
    "writablePaths": Field(ALL),
    "mounts": Field(ALL),
}


@dataclass(frozen=True, kw_only=True)
class MainService:
    """The main service's settings a service falls back to, and the stack's facts it needs."""

    cpu: int | None
    memory: int | None
    desired_count: int | None
    min_count: int | None
    max_count: int | None
    cpu_target: int | None
    spot: bool | None
    on_demand_base: int | None
    container_port: int | None
    health_check_path: str | None
    cpu_architecture: str | None
    shifts_traffic: bool
    job_names: tuple[str, ...]
    region: str
    private_without_nat: bool
    # The main container's user (None: the image's own), read-only root and its `writablePaths`
    # setting; a service that sets none of its own runs as the main container does.
    container_user: str | None
    read_only_root: bool
    writable_paths: tuple[str, ...]
    waivers: tuple[str, ...]  # policyWaivers' names
    enable_exec: bool
    root: Path | None  # the project's directory; given, each service's build files are checked
    file_systems: Collection[str] | None = (
        None  # fileSystems' names; None: the setting is unreadable
    )


def parse_services(raw: Any) -> dict[str, Any]:
    """`services` as Pulumi hands it over (JSON text) or as a native map; entries are checked by
    `check_services`."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        raise ValueError("expected a map of service names to {type, ...} (see " + DOCS + ")")
    return {str(k): v for k, v in value.items()}


def _patterns(raw: Any, key: str, pattern: re.Pattern[str], what: str, problems: Problems) -> tuple:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        problems.add(key, raw, f"expected a list of {what}")
        return ()
    for value in values:
        if not pattern.match(value):
            problems.add(key, value, f"not an ALB {what[:-1]}: see {DOCS}")
    if len(values) > ALB_VALUES_PER_CONDITION:
        problems.add(
            key,
            values,
            f"a listener rule condition takes at most {ALB_VALUES_PER_CONDITION} values (the "
            "load balancer's quota); use wildcards, or split the service",
        )
    if len(set(values)) != len(values):
        problems.add(key, values, "each value once")
    return tuple(values)


def _integer(entry: Mapping[str, Any], name: str, key: str, problems: Problems) -> int | None:
    if name not in entry:
        return None
    try:
        return parse_integer(entry[name])
    except ValueError as err:
        problems.add(f"{key}.{name}", entry[name], str(err))
        return None


def _map(entry: Mapping[str, Any], name: str, key: str, problems: Problems) -> dict[str, str]:
    if name not in entry:
        return {}
    try:
        return parse_map(entry[name])
    except PartialMap as err:
        problems.add(f"{key}.{name}", entry[name], str(err))
        return err.parsed
    except ValueError as err:
        problems.add(f"{key}.{name}", entry[name], str(err))
        return {}


def check_services(
    services: Mapping[str, Any], main: MainService, problems: Problems
) -> tuple[ServiceSpec, ...]:
    """Every service of `services`, checked, with the main service's settings filled in, and the
    web services' rule priorities derived. Problems go to `problems`."""
    specs: list[ServiceSpec] = []
    workers = {
        name: queue_url_env(name)
        for name, entry in services.items()
        if isinstance(entry, dict) and entry.get("type") == WORKER
    }
    for name, entry in services.items():
        before = len(problems.items)
        spec = _check_one(name, entry, main, workers, problems)
        if spec is not None and len(problems.items) == before:
            specs.append(spec)
    return tuple(_route(specs, main, problems))


def _check_one(
    name: str, entry: Any, main: MainService, workers: Mapping[str, str], problems: Problems
) -> ServiceSpec | None:
    key = f"services.{name}"
    if not isinstance(entry, dict):
        problems.add(key, entry, f"expected a map with at least a type ({joined(ALL)}); see {DOCS}")
        return None
    kind = entry.get("type")
    if kind is None:
        problems.items.append(
            f"{key}.type: not set; one of {joined(ALL)}: "
            f"`pulumi config set --path '{key}.type' web`"
        )
        return None
    if kind not in SERVICE_TYPES:
        problems.add(f"{key}.type", kind, f"expected {joined(ALL)}")
        return None
    _check_name(name, kind, main, problems)
    for field_name in entry:
        rule = SERVICE_FIELDS.get(field_name)
        if rule is None:
            hint = suggest(field_name, SERVICE_FIELDS, label="fields are")
            problems.items.append(f"{key}.{field_name}: unknown field; {hint}")
        elif kind not in rule.kinds:
            problems.items.append(f"{key}.{field_name}: not for a {kind} service; {rule.refused}")

    command: tuple[str, ...] = ()
    if "command" in entry:
        try:
            command = parse_command(entry["command"])
        except ValueError as err:
            problems.add(f"{key}.command", entry["command"], str(err))

    port = _port(entry, kind, key, main, problems)
    health = entry.get("healthCheckPath", main.health_check_path) if kind in SERVED else None
    if "healthCheckPath" in entry and kind in SERVED:
        field = f"{key}.healthCheckPath"
        path = health if isinstance(health, str) else ""  # not a string: no path at all
        for issue in health_check_path_issues(field, path):
            problems.add(field, health, issue.allowed)
    size = _size(entry, key, main, problems)
    scaling = _scaling(entry, kind, key, main, problems)
    spot = main.spot or False
    if "spot" in entry:
        try:
            spot = parse_boolean(entry["spot"])
        except ValueError as err:
            problems.add(f"{key}.spot", entry["spot"], str(err))
    arch = main.cpu_architecture
    if arch is not None:
        keys = {"spot": f"{key}.spot"}
        problems.add_issues(
            spot_issues(spot, arch),
            keys,
            suffix="; cpuArchitecture is the stack's, so set it false",
        )
    base = _integer(entry, "onDemandBase", key, problems)
    if base is not None:
        issues = on_demand_base_issues(base, scaling.max_count if scaling else None)
        keys = {"on_demand_base": f"{key}.onDemandBase", "max_count": "its maxCount"}
        problems.add_issues(issues, keys)
    env = _map(entry, "env", key, problems)
    secrets = _map(entry, "secrets", key, problems)
    _check_environment(key, env, secrets, workers, problems)
    build = _build(entry, key, main, problems)
    image = _image(entry, key, main, problems)
    user, read_only, writable = _container(entry, key, main, problems)
    if "build" in entry and "image" in entry:
        problems.items.append(f"{key}: set build or image, not both")
    route = _requests(entry, key, problems) if kind == WEB else None
    backlog = _bounded(
        entry, "backlogPerTask", key, DEFAULT_BACKLOG_PER_TASK, BACKLOG_PER_TASK_MIN,
        BACKLOG_PER_TASK_MAX, problems,
    )  # fmt: skip
    receives = _bounded(
        entry, "maxReceives", key, DEFAULT_MAX_RECEIVES, MAX_RECEIVES_MIN, MAX_RECEIVES_MAX,
        problems,
    )  # fmt: skip
    mounts = check_mounts(
        entry.get("mounts"),
        f"{key}.mounts",
        main.file_systems,
        (*writable, *(EXEC_AGENT_VOLUMES.values() if main.enable_exec else ())),
        problems,
    )
    if size is None or scaling is None or (kind in SERVED and port is None):
        return None
    return ServiceSpec(
        name=name,
        kind=kind,
        command=command,
        port=port,
        health_check_path=str(health) if health else "/",
        size=size,
        scaling=scaling,
        spot=spot,
        on_demand_base=base if base is not None else (main.on_demand_base or 0),
        env=env,
        secrets=secrets,
        build=build,
        image=image,
        route=route,
        backlog_per_task=backlog,
        max_receives=receives,
        container_user=user,
        read_only_root=read_only,
        writable_paths=writable,
        mounts=mounts,
    )


def _check_name(name: str, kind: str, main: MainService, problems: Problems) -> None:
    key = f"services.{name}"
    if not SERVICE_NAME.match(name):
        problems.add(
            key,
            name,
            "service names are DNS labels: lower-case letters, digits and -, starting with a "
            "letter and not ending with - (the name is the service's host name)",
        )
        return
    for problem in generated_name_problems(name, kind, main.shifts_traffic and kind == WEB):
        problems.add(key, name, f"{problem}; use a shorter name")
    if name in STACK_COMPONENTS:
        what = "the main service's" if name == MAIN_SERVICE else "one of the stack's components'"
        problems.add(key, name, f"it is {what} name; choose another")
    for job in main.job_names:
        if name == f"{JOBS_COMPONENT}-{job}":
            problems.add(
                key,
                name,
                f"its task family, log streams and alarms would be the scheduled job {job}'s "
                f"(scheduledTasks.{job}); rename one of them",
            )


def _port(
    entry: Mapping[str, Any], kind: str, key: str, main: MainService, problems: Problems
) -> int | None:
    if kind == WORKER:
        return None
    if kind == INTERNAL and "containerPort" not in entry:
        problems.items.append(
            f"{key}.containerPort: not set; an internal service is reached at http://NAME:PORT, "
            f"so it needs its port: `pulumi config set --path '{key}.containerPort' 8080`"
        )
        return None
    port = _integer(entry, "containerPort", key, problems)
    if port is None:
        return main.container_port if "containerPort" not in entry else None
    if issues := port_issues(f"{key}.containerPort", port):
        problems.add_issues(issues)
        return None
    return port


def _size(
    entry: Mapping[str, Any], key: str, main: MainService, problems: Problems
) -> TaskSize | None:
    cpu = _integer(entry, "cpu", key, problems) if "cpu" in entry else main.cpu
    memory = _integer(entry, "memory", key, problems) if "memory" in entry else main.memory
    if cpu is None or memory is None:
        return None
    size = TaskSize(cpu=cpu, memory=memory)
    issues = size.issues()
    keys = {"cpu": f"{key}.cpu", "memory": f"{key}.memory"}
    # The main service's own cpu is its problem, told there; its memory may not suit this cpu.
    problems.add_issues([i for i in issues if i.field == "cpu" and "cpu" in entry], keys)
    whose = "" if "memory" in entry else " (the main service's memory; set it)"
    problems.add_issues([i for i in issues if i.field == "memory"], keys, suffix=whose)
    return None if issues else size


def _scaling(
    entry: Mapping[str, Any], kind: str, key: str, main: MainService, problems: Problems
) -> Scaling | None:
    names = {
        "desiredCount": main.desired_count,
        "minCount": main.min_count,
        "maxCount": main.max_count,
        "cpuTarget": main.cpu_target,
    }
    given = {n: (_integer(entry, n, key, problems) if n in entry else names[n]) for n in names}
    values = {n: v for n, v in given.items() if v is not None}
    if len(values) < len(names):
        return None
    scaling = Scaling(
        desired_count=values["desiredCount"],
        min_count=values["minCount"],
        max_count=values["maxCount"],
        cpu_target=values["cpuTarget"],
    )
    # The main service's own cpuTarget is its problem, told there.
    issues = [
        i
        for i in scaling.issues(scales_to_zero=kind == WORKER)
        if i.field != "cpu_target" or "cpuTarget" in entry
    ]
    keys = {
        "min_count": f"{key}.minCount",
        "desired_count": f"{key}.desiredCount",
        "max_count": f"{key}.maxCount",
        "cpu_target": f"{key}.cpuTarget",
    }
    why = "" if kind == WORKER else " (only a worker scales to zero)"
    low = [i for i in issues if i.field in ("min_count", "desired_count") and i.value is not None]
    problems.add_issues(low, keys, suffix=why)
    problems.add_issues([i for i in issues if i.field in ("max_count", "cpu_target")], keys)
    counts = {"min_count": "minCount", "desired_count": "desiredCount", "max_count": "maxCount"}
    for order in (i for i in issues if i.value is None):
        # minCount above maxCount is the bounds' problem; an order broken by desiredCount, the
        # three's.
        where = keys[order.field] if order.field == "min_count" else key
        problems.items.append(
            f"{where}: {order.allowed_for(counts)} (unset ones are the main service's); set the "
            + ("two" if order.field == "min_count" else "three")
        )
    return None if issues else scaling


def _check_environment(
    key: str,
    env: Mapping[str, str],
    secrets: Mapping[str, str],
    workers: Mapping[str, str],
    problems: Problems,
) -> None:
    program_sets = (*RESERVED_ENV, *workers.values())
    for what, names in (("env", env), ("secrets", secrets)):
        for name in names:
            if issues := env_name_issues(f"{key}.{what}.{name}", name, program_sets=program_sets):
                problems.add_issues(issues)
            elif what == "env" and (why := secret_env_reason(name)):
                problems.add(
                    f"{key}.env.{name}",
                    name,
                    f"{why}, and env values are stored in plain text; put its ARN in {key}.secrets",
                )
    for name in sorted(set(env) & set(secrets)):
        problems.add(f"{key}.secrets.{name}", name, "it is also in env; keep it in one place")
    for name, arn in secrets.items():
        if arn != BAD_VALUE and not (SECRET_ARN.match(arn) or SSM_ARN.match(arn)):
            problems.add(
                f"{key}.secrets.{name}",
                arn,
                "expected a Secrets Manager secret ARN or an SSM parameter ARN",
            )


def _build(
    entry: Mapping[str, Any], key: str, main: MainService, problems: Problems
) -> ImageBuild | None:
    """Its own build, read as the main service's `build` is (stack_config.build)."""
    if "build" not in entry:
        return None
    before = len(problems.items)
    build = check_build(entry["build"], problems, f"{key}.build", main.root)
    return build if len(problems.items) == before else None


def _container(
    entry: Mapping[str, Any], key: str, main: MainService, problems: Problems
) -> tuple[str | None, bool, tuple[str, ...]]:
    """Its user, read-only root and writable paths (stack_config.container); unset, the main
    container's, already checked there."""
    user = main.container_user
    if "containerUser" in entry:
        try:
            user = check_user(parse_string(entry["containerUser"]), main.waivers, problems, key)
        except ValueError as err:
            problems.add(f"{key}.containerUser", entry["containerUser"], str(err))
    read_only = main.read_only_root
    if "readOnlyRootFilesystem" in entry:
        try:
            read_only = parse_boolean(entry["readOnlyRootFilesystem"])
        except ValueError as err:
            problems.add(f"{key}.readOnlyRootFilesystem", entry["readOnlyRootFilesystem"], str(err))
        else:
            check_read_only(read_only, main.waivers, problems, key)
    paths = main.writable_paths
    if "writablePaths" in entry:
        try:
            paths = parse_array(entry["writablePaths"])
        except ValueError as err:
            problems.add(f"{key}.writablePaths", entry["writablePaths"], str(err))
    writable = check_writable_paths(
        paths,
        read_only=read_only,
        given="writablePaths" in entry,
        enable_exec=main.enable_exec,
        # the main container's paths were checked as its own
        problems=problems if "writablePaths" in entry else Problems(),
        prefix=key,
    )
    return user, read_only, writable


def _image(
    entry: Mapping[str, Any], key: str, main: MainService, problems: Problems
) -> ImageRef | None:
    if "image" not in entry:
        return None
    try:
        uri = parse_string(entry["image"])
    except ValueError as err:
        problems.add(f"{key}.image", entry["image"], str(err))
        return None
    m = ECR_IMAGE.match(uri)
    if not m:
        problems.add(
            f"{key}.image",
            uri,
            "expected an ECR image URI with a tag or digest, such as "
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.2.3",
        )
        return None
    ref = ImageRef(uri=uri, **m.groupdict())
    unreachable = unreachable_image(ref.region, main.region, main.private_without_nat)
    if unreachable:
        problems.add(f"{key}.image", uri, unreachable)
    return ref


def _requests(entry: Mapping[str, Any], key: str, problems: Problems) -> Route | None:
    paths = (
        _patterns(entry["path"], f"{key}.path", PATH_PATTERN, "path patterns", problems)
        if "path" in entry
        else ()
    )
    hosts = (
        _patterns(entry["host"], f"{key}.host", HOST_PATTERN, "host names", problems)
        if "host" in entry
        else ()
    )
    if "path" not in entry and "host" not in entry:
        problems.items.append(
            f"{key}: a web service needs path and/or host, the requests the load balancer sends "
            f"it: `pulumi config set --path '{key}.path[0]' '/api/*'`"
        )
        return None
    values = (*paths, *hosts)
    if len(values) > ALB_CONDITION_VALUES_PER_RULE:
        problems.add(
            key,
            list(values),
            f"path and host together hold {len(values)} values; a listener rule takes at most "
            f"{ALB_CONDITION_VALUES_PER_RULE} (the load balancer's quota)",
        )
    wildcards = sum(v.count("*") + v.count("?") for v in values)
    if wildcards > ALB_CONDITION_WILDCARDS_PER_RULE:
        problems.add(
            key,
            list(values),
            f"path and host together hold {wildcards} wildcards; a listener rule takes at most "
            f"{ALB_CONDITION_WILDCARDS_PER_RULE} (the load balancer's quota)",
        )
    return Route(paths=paths, hosts=hosts)


def _bounded(
    entry: Mapping[str, Any],
    name: str,
    key: str,
    default: int,
    lo: int,
    hi: int,
    problems: Problems,
) -> int:
    value = _integer(entry, name, key, problems)
    if value is None:
        return default
    if not lo <= value <= hi:
        problems.add(f"{key}.{name}", value, f"expected {lo} to {hi}")
        return default
    return value


def _route(specs: list[ServiceSpec], main: MainService, problems: Problems) -> list[ServiceSpec]:
    """The web services' rules beside the main service's catch-all: no two hiding each other,
    within the load balancer's quotas, each with its priority."""
    web = [s for s in specs if s.kind == WEB and s.route is not None]
    if not web:
        return specs
    rules = [RuleRequests(f"the main service ({MAIN_SERVICE})")] + [
        RuleRequests(s.name, hosts=s.route.hosts, paths=s.route.paths)
        for s in web
        if s.route is not None
    ]
    # The main service's rule, first, takes every request: a web rule that does too is reported.
    found = overlap_problems(rules)
    for name, problem in found:
        problems.items.append(f"services.{name}: {problem}")
    rule_count = len(rules)
    if rule_count > ALB_RULES_MAX:
        problems.items.append(
            f"services: {rule_count} listener rules (the main service's and one per web service); "
            f"a load balancer takes at most {ALB_RULES_MAX}"
        )
    per_service = 2 if main.shifts_traffic else 1
    groups = per_service * rule_count
    if groups > ALB_TARGET_GROUPS_MAX:
        problems.items.append(
            f"services: {groups} target groups ({per_service} for each of {rule_count} services "
            f"behind the load balancer); a load balancer takes at most {ALB_TARGET_GROUPS_MAX}"
        )
    if found or rule_count > ALB_RULES_MAX or groups > ALB_TARGET_GROUPS_MAX:
        return specs
    order = priorities(rules[1:])
    return [
        replace(s, route=replace(s.route, priority=order[s.name])) if s.route is not None else s
        for s in specs
    ]


def needs_service_connect(specs: tuple[ServiceSpec, ...]) -> bool:
    """Service Connect joins every service when the stack has an internal one."""
    return any(s.kind == INTERNAL for s in specs)


def proxy_room_problems(specs: tuple[ServiceSpec, ...], main_size: TaskSize | None) -> list[str]:
    """Services (and the main one) whose size leaves no Fargate size with room for the Service
    Connect proxy."""
    if not needs_service_connect(specs):
        return []
    sizes: list[tuple[str, TaskSize]] = [(f"services.{s.name}", s.size) for s in specs]
    if main_size is not None:
        sizes.insert(0, ("cpu", main_size))
    return [
        f"{key}: {size.cpu} CPU units and {size.memory} MiB leave no Fargate size with room for "
        "the Service Connect proxy (256 CPU units and 64 MiB more); choose a smaller size"
        for key, size in sizes
        if size_with_proxy(size) is None
    ]
