"""`load_config()`: a stack's raw config to a `StackConfig`, every problem reported together.

Pure: it takes the raw key/value pairs and returns the typed config or raises `ConfigError`;
nothing here registers a resource, so a bad config creates nothing. `from_pulumi()` reads the
running stack's config from the Pulumi runtime (imported only then) and hands it to it.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import shlex
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from components.naming import exec_sessions_log_group_name, stack_log_group_name
from components.spec import (
    ACCOUNT_ID,
    ALL_CAPABILITIES,
    DEFAULT_WRITABLE_PATHS,
    DEPLOYMENT_STRATEGIES,
    EDGE_MODES,
    EMAIL,
    ENV_NAME,
    FARGATE_ADDABLE_CAPABILITIES,
    INTERNAL,
    LINUX_CAPABILITIES,
    MANAGED_POLICY_ARN,
    ORIGIN_RESPONSE_TIMEOUT_MAX_S,
    ORIGIN_RESPONSE_TIMEOUT_MIN_S,
    RESERVED_ENV,
    RUNTIME_DEFAULT_CAPABILITIES,
    SPOT_CPU_ARCHITECTURES,
    VPC_ORIGIN_REGIONS,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
    WEB,
    WORKER,
    Deployment,
    FileSystemMount,
    FileSystemSpec,
    ImageBuild,
    ImageRef,
    Scaling,
    ScheduledTask,
    ServiceSpec,
    TaskSize,
    architecture_issues,
    availability_zone_issues,
    egress_problems,
    env_name_issues,
    health_check_path_issues,
    joined,
    nat_mode_issues,
    on_demand_base_issues,
    path_pattern_problems,
    port_issues,
    retention_issues,
    service_connect_egress,
    shifts_traffic,
    spot_issues,
    vpc_cidr_issues,
)
from stack_config.build import (
    check_build,
    dockerfile_warnings,
    final_stage,
    parse_build,
)
from stack_config.container import check_read_only, check_user, check_writable_paths
from stack_config.egress import check_task_egress, parse_task_egress
from stack_config.file_systems import (
    check_file_systems,
    check_mounts,
    container_user,
    file_system_names,
    parse_file_systems,
    parse_mounts,
    security_group_problem,
    writable_paths,
)
from stack_config.parsing import BAD_VALUE, PARSERS, PartialMap, Problems, show, suggest
from stack_config.schedule import check_scheduled_tasks, parse_scheduled_tasks
from stack_config.services import (
    MainService,
    check_services,
    parse_services,
    proxy_room_problems,
)
from stack_config.settings import (
    ACM_ARN,
    DNS_NAME,
    ECR_IMAGE,
    PROJECT,
    REGION,
    RESERVED_TAGS,
    SECRET_ARN,
    SECRET_SETTINGS,
    SETTINGS,
    SETTINGS_BY_KEY,
    SSM_ARN,
    TAG_KEY_MAX,
    TAG_VALUE_MAX,
    WAIVABLE_POLICIES,
    WAIVER_REASON_MIN_CHARS,
    StackConfig,
    secret_env_reason,
    unreachable_image,
)

PROBLEM_PREFIX = "  - "  # how a ConfigError's message lists each problem, one a line


class ConfigError(Exception):
    """Every problem with a stack's config, reported together."""

    def __init__(self, stack: str, problems: list[str], unknown: Collection[str] = ()):
        """`unknown`: the settings the program does not know (typos), which `pulumi config set`
        cannot fix: they stay in the stack file until removed."""
        self.stack = stack
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(PROBLEM_PREFIX + p for p in problems)
        fix = f"`pulumi config set <key> <value> --stack {stack}`"
        if unknown:
            removes = ", ".join(
                f"`pulumi config rm {shlex.quote(k)} --stack {stack}`" for k in unknown
            )
            fix = f"Remove each unknown setting ({removes}), then set the right key with {fix}"
        else:
            fix = f"Fix with {fix}"
        super().__init__(
            f"Stack '{stack}' config has {count}; nothing was created:\n{lines}\n"
            f"{fix} (every setting: docs/settings.md)."
        )


def listed_problems(message: str) -> list[str]:
    """The problems a ConfigError's message lists, read back from its text: what is left of the
    error once `pulumi up` (or the mocks) turned it into a RunError's message."""
    return [
        line[len(PROBLEM_PREFIX) :]
        for line in message.splitlines()
        if line.startswith(PROBLEM_PREFIX)
    ]


def given_twice(key: str, project: str, stack: str, bare: str, namespaced: str) -> str:
    """The problem of a setting given both bare and namespaced in one stack (`bare` and
    `namespaced` say where or what each is): since Pulumi 3.44 the CLI reads a bare key as the
    project's, so both name one setting and which value it hands the program is not defined."""
    return (
        f"{key}: given twice in Pulumi.{stack}.yaml, as {key} ({bare}) and {project}:{key} "
        f"({namespaced}); the Pulumi CLI reads both as {project}:{key}, and which value it uses "
        f"is not defined. Delete one of them (`pulumi config set` writes the {project}: form)"
    )


# Settings whose values need more than their type's parser.
KEY_PARSERS: dict[str, Callable[[Any], Any]] = {
    "fileSystems": parse_file_systems,
    "mounts": parse_mounts,
    "scheduledTasks": parse_scheduled_tasks,
    "build": parse_build,
    "services": parse_services,
    "taskEgress": parse_task_egress,
}


def load_config(
    raw: Mapping[str, Any],
    *,
    stack: str,
    project: str = PROJECT,
    region: str | None = None,
    secret_keys: Collection[str] | None = None,
    project_dir: Path | None = None,
) -> StackConfig:
    """Parse and validate a stack's config.

    `raw` maps keys to values; keys may be bare (`cpu`) or namespaced (`fargate-app:cpu`,
    `aws:region`). `region` defaults to `aws:region` in `raw`, then AWS_REGION/AWS_DEFAULT_REGION.
    `secret_keys` are the keys Pulumi holds encrypted (`pulumi config set --secret`), as the CLI
    lists them; given, values that must be secret (SECRET_SETTINGS) are refused in plain text.
    `project_dir` is the project's directory (where Pulumi runs the program), where build contexts
    are found; default the working directory. Given, what only its files can tell about `build` is
    checked too: the context and Dockerfile exist (`build_file_problems`).
    """
    problems = Problems()
    ours: dict[str, Any] = {}
    bare: dict[str, Any] = {}  # the settings given without the project's namespace
    for full_key, value in raw.items():
        namespace, _, key = full_key.rpartition(":")
        if namespace == "":
            bare[key] = value
        if namespace in ("", project):
            ours.setdefault(key, value)
    for key, value in bare.items():
        full = f"{project}:{key}"
        if full in raw:
            hidden = key in SECRET_SETTINGS
            given = ["<secret>" if hidden else show(v) for v in (value, raw[full])]
            problems.items.append(given_twice(key, project, stack, *given))
    if region is None:
        region = (
            raw.get("aws:region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )

    values: dict[str, Any] = {}
    partial: dict[str, dict[str, str]] = {}
    unknown = [key for key in ours if key not in SETTINGS_BY_KEY]
    for key, value in ours.items():
        setting = SETTINGS_BY_KEY.get(key)
        if setting is None:
            problems.items.append(f"{key}: unknown setting; {suggest(key)}")
            continue
        try:
            values[key] = KEY_PARSERS.get(key, PARSERS[setting.type])(value)
        except ValueError as err:
            secret = key in SECRET_SETTINGS
            why = err.redacted() if secret and isinstance(err, PartialMap) else str(err)
            problems.add(key, "<secret>" if secret else value, f"{why} (type {setting.type})")
            if isinstance(err, PartialMap):
                partial[key] = err.parsed
    get = {s.key: values.get(s.key, partial.get(s.key, s.default)) for s in SETTINGS}
    # parsed or defaulted; a map with bad values still has its names checked
    ok = {k for k in get if k not in ours or k in values or k in partial}

    if not region:
        problems.items.append(
            "aws:region: not set; set the AWS region, e.g. `pulumi config set aws:region us-east-1`"
        )
    elif not REGION.match(region):
        problems.add("aws:region", region, "expected an AWS region name such as us-east-1")

    _check_network(get, ok, problems)
    _check_task(get, ok, problems)
    _check_counts(get, ok, problems)
    _check_service(get, ok, problems)
    image = _check_image(get, ok, problems, region or "")
    # A prebuilt image needs no build files (and a bad `image` leaves that open: not checked).
    files = project_dir if image is None and "image" in ok else None
    build = check_build(get["build"], problems, root=files) if "build" in ok else ImageBuild()
    container_user, writable_paths = _check_container(get, ok, problems)
    _check_maps(get, ok, problems)
    _check_https(get, ok, problems, region or "")
    _check_secrets(get, ok, problems)
    if secret_keys is not None:
        _check_encrypted(ours, secret_keys, project, stack, problems)
    _check_operations(get, ok, problems)
    _check_permissions_boundary(get, ok, problems)
    _check_waivers(get, ok, problems)
    _check_capabilities(get, ok, problems)
    _check_endpoint_accounts(get, ok, problems)
    _check_edge(get, ok, problems, region or "")
    scheduled_tasks = check_scheduled_tasks(get, ok, problems)
    services = _check_services(get, ok, problems, region or "", project_dir, container_user)
    _check_log_group_names(services, project, stack, problems)
    _check_hosts_behind_cloudfront(get, ok, problems, services)
    task_egress = check_task_egress(get, ok, problems)
    file_systems, mounts = _check_file_systems(get, ok, problems, services, scheduled_tasks)
    if "vpcCidr" in ok and task_egress:
        # taskEgress must not repeat what Service Connect's own rules admit, nor take their names.
        internal = [(s.name, s.port) for s in services if s.kind == INTERNAL and s.port]
        connect = service_connect_egress(internal, str(get["vpcCidr"]))
        problems.items += [
            f"taskEgress.{p}"
            for p in egress_problems((*connect, *task_egress))
            if any(rule.name in p for rule in connect)
        ]

    if problems.items:
        raise ConfigError(stack, problems.items, unknown)
    return StackConfig(
        project=project,
        stack=stack,
        region=str(region),
        vpc_cidr=str(ipaddress.ip_network(get["vpcCidr"], strict=True)),
        availability_zones=get["availabilityZones"],
        nat_gateways=get["natGateways"],
        vpc_endpoints=get["vpcEndpoints"],
        endpoint_accounts=dict(get["endpointAccounts"]),
        cpu=get["cpu"],
        memory=get["memory"],
        cpu_architecture=get["cpuArchitecture"],
        desired_count=get["desiredCount"],
        min_count=get["minCount"],
        max_count=get["maxCount"],
        cpu_target=get["cpuTarget"],
        spot=get["spot"],
        on_demand_base=get["onDemandBase"],
        container_port=get["containerPort"],
        health_check_path=get["healthCheckPath"],
        log_retention_days=get["logRetentionDays"],
        container_insights=get["containerInsights"],
        deletion_protection=get["deletionProtection"],
        image=image,
        build=build,
        container_user=container_user,
        read_only_root_filesystem=get["readOnlyRootFilesystem"],
        writable_paths=writable_paths,
        env=dict(get["env"]),
        tags=dict(get["tags"]),
        domain_name=get["domainName"],
        hosted_zone=get["hostedZone"],
        certificate_arn=get["certificateArn"],
        secrets=dict(get["secrets"]),
        secret_values=dict(get["secretValues"]),
        alarm_email=get["alarmEmail"],
        alarm_topic_encryption=get["alarmTopicEncryption"],
        deployment_strategy=get["deploymentStrategy"],
        bake_time_minutes=get["bakeTimeMinutes"],
        canary_percent=get["canaryPercent"],
        sync_traffic_routing=get["syncTrafficRouting"],
        enable_exec=get["enableExec"],
        keep_capabilities=dict(get["keepCapabilities"]),
        access_logs=get["accessLogs"],
        flow_logs=get["flowLogs"],
        scheduled_tasks=scheduled_tasks,
        services=services,
        permissions_boundary=get["permissionsBoundary"],
        policy_waivers=dict(get["policyWaivers"]),
        task_egress=task_egress,
        file_systems=file_systems,
        mounts=mounts,
        edge=get["edge"],
        cached_paths=tuple(get["cachedPaths"]),
        origin_response_timeout=get["originResponseTimeout"],
        waf=get["waf"],
        waf_rate_limit=get["wafRateLimit"],
    )


def _check_network(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    cidr = get["vpcCidr"] if "vpcCidr" in ok else None
    if cidr is not None:
        problems.add_issues(vpc_cidr_issues("vpcCidr", cidr))
    if "availabilityZones" in ok:
        azs = availability_zone_issues("availabilityZones", get["availabilityZones"], cidr)
        problems.add_issues(azs, {"cidr": "vpcCidr"})
    if "natGateways" in ok:
        problems.add_issues(nat_mode_issues("natGateways", get["natGateways"]))


def _check_task(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    if "cpu" in ok:
        size = TaskSize(cpu=get["cpu"], memory=get["memory"])
        # A value that did not parse is reported already, by its parser.
        given = [issue for issue in size.issues() if issue.field in ok]
        problems.add_issues(given)
    if "cpuArchitecture" in ok:
        arch = get["cpuArchitecture"]
        if issues := architecture_issues("cpuArchitecture", arch):
            problems.add_issues(issues)
        elif "spot" in ok:
            suffix = "; set spot false or cpuArchitecture " + joined(SPOT_CPU_ARCHITECTURES)
            problems.add_issues(spot_issues(get["spot"], arch), suffix=suffix)


def _check_counts(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    keys = {
        "min_count": "minCount",
        "desired_count": "desiredCount",
        "max_count": "maxCount",
        "cpu_target": "cpuTarget",
        "on_demand_base": "onDemandBase",
    }
    scaling = Scaling(
        desired_count=get["desiredCount"],
        min_count=get["minCount"],
        max_count=get["maxCount"],
        cpu_target=get["cpuTarget"],
    )
    counts = ("minCount", "desiredCount", "maxCount")
    # A value that did not parse is reported already, by its parser; the order of the three is
    # checked when all three parsed.
    issues = [
        issue
        for issue in scaling.issues()
        if (issue.value is None and all(k in ok for k in counts))
        or (issue.value is not None and keys[issue.field] in ok)
    ]
    problems.add_issues([i for i in issues if i.value is not None], keys)
    relations = [i for i in issues if i.value is None]
    problems.add_issues([i for i in relations if i.field == "min_count"], keys)
    problems.add_issues(
        [i for i in relations if i.field != "min_count"],
        keys,
        suffix="; adjust the three so that it does",
    )
    if "onDemandBase" in ok:
        hi = get["maxCount"] if "maxCount" in ok else None
        problems.add_issues(on_demand_base_issues(get["onDemandBase"], hi), keys)


def _check_service(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    if "containerPort" in ok:
        problems.add_issues(port_issues("containerPort", get["containerPort"]))
    if "healthCheckPath" in ok:
        problems.add_issues(health_check_path_issues("healthCheckPath", get["healthCheckPath"]))
    if "logRetentionDays" in ok:
        problems.add_issues(retention_issues("logRetentionDays", get["logRetentionDays"]))


def _check_image(
    get: dict[str, Any], ok: set[str], problems: Problems, region: str
) -> ImageRef | None:
    if "image" not in ok or not get["image"]:
        return None
    uri = get["image"]
    m = ECR_IMAGE.match(uri)
    if not m:
        problems.add(
            "image",
            uri,
            "expected an ECR image URI with a tag or digest, such as "
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3 or ...@sha256:<64 hex>",
        )
        return None
    ref = ImageRef(uri=uri, **m.groupdict())
    unreachable = unreachable_image(ref.region, region, _private_without_nat(get))
    if unreachable:
        problems.add("image", uri, unreachable)
    return ref


def _private_without_nat(get: dict[str, Any]) -> bool:
    """Do the tasks run in private subnets with no NAT gateway (AWS reached through endpoints)?"""
    return get.get("natGateways") == "none" and get.get("vpcEndpoints") is True


def _check_container(
    get: dict[str, Any], ok: set[str], problems: Problems
) -> tuple[str | None, tuple[str, ...]]:
    """Who the container runs as and what it may write: (the task definition's user, None for the
    image's own; the writable paths, none with a writable root). See stack_config.container."""
    waivers = get["policyWaivers"] if "policyWaivers" in ok else {}
    user: str | None = None
    if "containerUser" in ok:
        user = check_user(get["containerUser"], waivers, problems)
    read_only = get["readOnlyRootFilesystem"] if "readOnlyRootFilesystem" in ok else True
    check_read_only(read_only, waivers, problems)
    if "writablePaths" not in ok:
        return user, ()
    paths: tuple[str, ...] = tuple(get["writablePaths"])
    return user, check_writable_paths(
        paths,
        read_only=read_only,
        # Only paths other than the default say something: the CLI hands the program Pulumi.yaml's
        # default as if the stack had set it.
        given=paths != DEFAULT_WRITABLE_PATHS,
        enable_exec=get.get("enableExec") is True,
        problems=problems,
    )


def _check_maps(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    if "env" in ok:
        for name in get["env"]:
            why = " (from containerPort and healthCheckPath); remove it from env"
            suffix = why if name in RESERVED_ENV else ""
            problems.add_issues(env_name_issues(f"env.{name}", name), suffix=suffix)
    if "tags" in ok:
        for key, value in get["tags"].items():
            if key.lower().startswith("aws:"):
                problems.add(
                    f"tags.{key}", key, "tag keys may not start with aws: (AWS reserves it)"
                )
            elif key in RESERVED_TAGS:
                problems.add(f"tags.{key}", key, "the program sets project and stack tags itself")
            elif not 1 <= len(key) <= TAG_KEY_MAX or len(value) > TAG_VALUE_MAX:
                problems.add(
                    f"tags.{key}",
                    value,
                    f"keys are 1 to {TAG_KEY_MAX} characters, values at most {TAG_VALUE_MAX}",
                )


def _check_https(get: dict[str, Any], ok: set[str], problems: Problems, region: str) -> None:
    domain = get["domainName"] if "domainName" in ok else ""
    zone = get["hostedZone"] if "hostedZone" in ok else ""
    cert = get["certificateArn"] if "certificateArn" in ok else ""
    for key, value in (("domainName", domain), ("hostedZone", zone)):
        if value and not DNS_NAME.match(value):
            problems.add(key, value, "expected a lower-case DNS name such as app.example.com")
    if domain and not zone:
        problems.items.append(
            f"hostedZone: not set; set the Route 53 zone that holds {domain}, e.g. "
            f"`pulumi config set hostedZone {domain.split('.', 1)[-1]}`"
        )
    elif zone and not domain:
        problems.items.append(f"domainName: not set; set the app's name in {zone}, e.g. app.{zone}")
    elif (
        domain
        and DNS_NAME.match(domain)
        and DNS_NAME.match(zone)
        and domain != zone
        and not domain.endswith("." + zone)
    ):
        problems.add("domainName", domain, f"it must be {zone} or a name under it")
    if cert:
        m = ACM_ARN.match(cert)
        if not m:
            problems.add(
                "certificateArn",
                cert,
                "expected an ACM certificate ARN such as "
                "arn:aws:acm:us-east-1:123456789012:certificate/<uuid>",
            )
        elif region and m["region"] != region:
            problems.add(
                "certificateArn", cert, f"an ALB needs a certificate from its own region {region}"
            )
        if domain or zone:
            problems.items.append(
                "certificateArn: set either certificateArn or domainName with hostedZone, not both"
            )


def _check_secrets(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    env = get["env"] if "env" in ok else {}
    secrets = get["secrets"] if "secrets" in ok else {}
    values = get["secretValues"] if "secretValues" in ok else {}
    for name in env:
        why = secret_env_reason(name) if ENV_NAME.match(name) else None
        if why is None:
            continue
        problems.add(
            f"env.{name}",
            name,
            f"{why}, and env values are stored in plain text; put its ARN in `secrets` or its "
            f"value in `pulumi config set --secret --path 'secretValues.{name}' ...`",
        )
    for key, entries in (("secrets", secrets), ("secretValues", values)):
        for name in entries:
            if issues := env_name_issues(f"{key}.{name}", name):
                problems.add_issues(issues)
            elif name in env:
                problems.add(f"{key}.{name}", name, "it is also in env; keep it in one place")
    for name in set(secrets) & set(values):
        problems.add(f"secretValues.{name}", name, "it is also in secrets; keep it in one place")
    for name, arn in secrets.items():
        if arn != BAD_VALUE and not (SECRET_ARN.match(arn) or SSM_ARN.match(arn)):
            problems.add(
                f"secrets.{name}",
                arn,
                "expected a Secrets Manager secret ARN (optionally ending :json-key::) or an SSM "
                "parameter ARN",
            )
    for name, value in values.items():
        if not value:
            problems.add(f"secretValues.{name}", "", "expected a non-empty value")


def _check_encrypted(
    ours: Mapping[str, Any],
    secret_keys: Collection[str],
    project: str,
    stack: str,
    problems: Problems,
) -> None:
    """Settings whose values are secrets must be kept encrypted, not in Pulumi.<stack>.yaml's
    plain text (which is committed)."""
    for key in sorted(SECRET_SETTINGS & set(ours)):
        if ours[key] in (None, "", {}, "{}") or {key, f"{project}:{key}"} & set(secret_keys):
            continue
        problems.items.append(
            f"{key}: stored in plain text in Pulumi.{stack}.yaml; set each value encrypted with "
            f"`pulumi config set --secret --path '{key}.NAME' VALUE` "
            f"(and remove the plain one: `pulumi config rm --path '{key}.NAME'` first)"
        )


def _check_permissions_boundary(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    """The boundary's form; whether it exists, and in this account, only AWS can tell."""
    boundary = get["permissionsBoundary"] if "permissionsBoundary" in ok else ""
    if boundary and not MANAGED_POLICY_ARN.match(boundary):
        problems.add(
            "permissionsBoundary",
            boundary,
            "expected an IAM managed policy ARN such as arn:aws:iam::123456789012:policy/"
            "fargate-app-bootstrap/fargate-app-dev-app-roles-boundary (the bootstrap's output "
            "stackSettings.<stack>.permissionsBoundary)",
        )


def _check_waivers(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    """Each waiver names a mandatory policy of the pack and says why, so a reviewer of the stack
    file can judge it."""
    if "policyWaivers" not in ok:
        return
    for name, reason in get["policyWaivers"].items():
        key = f"policyWaivers.{name}"
        if name not in WAIVABLE_POLICIES:
            problems.add(
                key,
                name,
                "not a mandatory policy of the pack; "
                + suggest(name, WAIVABLE_POLICIES, label="policies are"),
            )
        elif reason != BAD_VALUE and len(reason.strip()) < WAIVER_REASON_MIN_CHARS:
            problems.add(
                key,
                reason,
                f"say why the stack gives the control up, in at least {WAIVER_REASON_MIN_CHARS} "
                f"characters: `pulumi config set --path '{key}' '<the reason>'`",
            )


def _check_capabilities(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    """Each kept capability is one of the runtime's defaults (anything else would have to be
    added), named as ECS names it, and says why."""
    if "keepCapabilities" not in ok:
        return
    for name, reason in get["keepCapabilities"].items():
        key = f"keepCapabilities.{name}"
        if name not in RUNTIME_DEFAULT_CAPABILITIES:
            defaults = joined(RUNTIME_DEFAULT_CAPABILITIES)
            if name in LINUX_CAPABILITIES and name != ALL_CAPABILITIES:
                why = (
                    f"it is not in the runtime's default set, so keeping it would mean adding it: "
                    f"Fargate admits adding only {joined(FARGATE_ADDABLE_CAPABILITIES)}, and the "
                    f"policy pack's ecs-no-added-capabilities refuses any. Keep one of {defaults}"
                )
            else:
                why = "name one capability of the runtime's default set, as ECS spells it; " + (
                    suggest(
                        name.upper().removeprefix("CAP_"),
                        RUNTIME_DEFAULT_CAPABILITIES,
                        label="one of",
                    )
                )
            problems.add(key, name, why)
        elif reason != BAD_VALUE and len(reason.strip()) < WAIVER_REASON_MIN_CHARS:
            problems.add(
                key,
                reason,
                f"say why the container needs it, in at least {WAIVER_REASON_MIN_CHARS} "
                f"characters: `pulumi config set --path '{key}' '<the reason>'`",
            )


def _check_endpoint_accounts(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    if "endpointAccounts" not in ok:
        return
    for name, account in get["endpointAccounts"].items():
        if account != BAD_VALUE and not ACCOUNT_ID.match(account):
            problems.add(
                f"endpointAccounts.{name}",
                account,
                "an AWS account ID is 12 digits, leading zeros included; write it as a quoted "
                f'string in the stack file (endpointAccounts: {{{name}: "000014521398"}})',
            )


def _check_edge(get: dict[str, Any], ok: set[str], problems: Problems, region: str) -> None:
    """The edge's own values, and the combinations that cannot work: settings only CloudFront or
    the web ACL uses, changed on a stack without them (the Pulumi CLI hands over Pulumi.yaml's
    defaults as if set, so a value counts as given when it differs from its default), a region
    without VPC origins, a certificate CloudFront cannot use."""

    def changed(key: str) -> bool:
        default = SETTINGS_BY_KEY[key].default
        value = get[key]
        if isinstance(default, list):  # an array setting is read into a tuple
            return key in ok and tuple(value) != tuple(default)
        return key in ok and value != default

    edge = get["edge"] if "edge" in ok else None
    if edge is not None and edge not in EDGE_MODES:
        problems.add("edge", edge, f"expected {joined(EDGE_MODES)}")
        edge = None
    cloudfront = edge == "cloudfront"
    if cloudfront and region and region not in VPC_ORIGIN_REGIONS:
        problems.add(
            "edge",
            edge,
            f"CloudFront VPC origins are not offered in {region} (CloudFront Developer Guide, "
            "Supported AWS Regions for VPC origins); use edge none there, or another region",
        )
    if cloudfront and "certificateArn" in ok and get["certificateArn"]:
        problems.items.append(
            "certificateArn: with edge cloudfront, CloudFront serves HTTPS on its own "
            "*.cloudfront.net name, and your own name needs domainName with hostedZone (the "
            "program then requests CloudFront's certificate in us-east-1); remove certificateArn"
        )
    if "cachedPaths" in ok:
        for problem in path_pattern_problems(get["cachedPaths"]):
            problems.items.append(f"cachedPaths: {problem}")
    if "originResponseTimeout" in ok:
        timeout = get["originResponseTimeout"]
        if not ORIGIN_RESPONSE_TIMEOUT_MIN_S <= timeout <= ORIGIN_RESPONSE_TIMEOUT_MAX_S:
            problems.add(
                "originResponseTimeout",
                timeout,
                f"CloudFront takes {ORIGIN_RESPONSE_TIMEOUT_MIN_S} to "
                f"{ORIGIN_RESPONSE_TIMEOUT_MAX_S} seconds without a quota increase",
            )
    if edge == "none":
        for key in ("cachedPaths", "originResponseTimeout"):
            if changed(key):
                problems.items.append(
                    f"{key}: only CloudFront uses it, and edge is none; set edge cloudfront "
                    f"(`pulumi config set edge cloudfront`) or remove it (`pulumi config rm {key}`)"
                )
    if "wafRateLimit" in ok:
        limit = get["wafRateLimit"]
        if not WAF_RATE_LIMIT_MIN <= limit <= WAF_RATE_LIMIT_MAX:
            problems.add(
                "wafRateLimit", limit, f"AWS WAF takes {WAF_RATE_LIMIT_MIN} to {WAF_RATE_LIMIT_MAX}"
            )
        elif changed("wafRateLimit") and "waf" in ok and not get["waf"]:
            problems.items.append(
                "wafRateLimit: only the web ACL uses it, and waf is off; set waf true "
                "(`pulumi config set waf true`) or remove it (`pulumi config rm wafRateLimit`)"
            )


def _check_operations(get: dict[str, Any], ok: set[str], problems: Problems) -> None:
    if "alarmEmail" in ok and get["alarmEmail"] and not EMAIL.match(get["alarmEmail"]):
        problems.add("alarmEmail", get["alarmEmail"], "expected an email address")
    keys = {
        "strategy": "deploymentStrategy",
        "bake_time_minutes": "bakeTimeMinutes",
        "canary_percent": "canaryPercent",
    }
    deployment = Deployment(
        strategy=get["deploymentStrategy"],
        bake_time_minutes=get["bakeTimeMinutes"],
        canary_percent=get["canaryPercent"],
    )
    # A value that did not parse is reported already, by its parser.
    problems.add_issues([i for i in deployment.issues() if keys[i.field] in ok], keys)


def _check_log_group_names(
    services: Collection[ServiceSpec], project: str, stack: str, problems: Problems
) -> None:
    """A service's log group must not be the exec sessions' (same name: `pulumi up` fails)."""
    sessions = exec_sessions_log_group_name(project, stack)
    for spec in services:
        if stack_log_group_name(project, stack, spec.name) == sessions:
            problems.add(
                f"services.{spec.name}",
                spec.name,
                f"its log group would be {sessions}, where ECS Exec records sessions "
                "(enableExec); choose another name",
            )


def config_warnings(cfg: StackConfig, root: str | Path) -> list[str]:
    """What the program warns about: the settings' own warnings (StackConfig.warnings), and what
    the Dockerfiles the stack builds say against the container settings (see
    `stack_config.build.dockerfile_warnings`): the main service's build, each service's own build,
    and the main image again for a service that runs it with other settings; `root` is the
    project's directory. A prebuilt image cannot be read offline: nothing to say about it."""
    main = None if cfg.image is not None else cfg.build
    checks: list[tuple[ImageBuild, str | None, tuple[str, ...], str]] = []
    if main is not None:
        checks.append((main, cfg.container_user, cfg.writable_paths, ""))
    main_settings = (cfg.container_user, cfg.writable_paths)
    for s in cfg.services:
        build = s.build
        if (
            build is None
            and s.image is None
            and (s.container_user, s.writable_paths) != main_settings
        ):
            build = main  # the main image, run as this service says
        if build is not None:
            checks.append((build, s.container_user, s.writable_paths, f"services.{s.name}"))
    # in order, once: a shared Dockerfile's own faults are said once
    found: dict[str, None] = dict.fromkeys(
        cfg.warnings
    )  # the settings' own (a file system nothing mounts)
    for build, user, paths, prefix in checks:
        path = Path(root) / build.dockerfile
        stage = final_stage(path.read_text(errors="replace")) if path.is_file() else None
        if stage is None:
            continue  # load_config(project_dir=...) refuses it
        for warning in dockerfile_warnings(
            stage, dockerfile=build.dockerfile, user=user, writable_paths=paths, prefix=prefix
        ):
            found.setdefault(warning)
    return list(found)


def _check_hosts_behind_cloudfront(
    get: dict[str, Any], ok: set[str], problems: Problems, services: Sequence[ServiceSpec]
) -> None:
    """Behind CloudFront only the distribution's own names reach the load balancer (its
    *.cloudfront.net name and domainName): a web service routed by another host gets nothing."""
    if not ("edge" in ok and get["edge"] == "cloudfront"):
        return
    domain = get["domainName"].lower() if "domainName" in ok else ""
    for spec in services:
        if spec.kind != WEB or spec.route is None:
            continue
        for host in spec.route.hosts:
            # The load balancer compares hosts without case, `*` and `?` as wildcards.
            if domain and fnmatch.fnmatchcase(domain, host.lower()):
                continue
            problems.add(
                f"services.{spec.name}.host",
                host,
                "behind CloudFront (edge cloudfront) only the distribution's names reach the load "
                f"balancer: its *.cloudfront.net name{' and ' + domain if domain else ''}; route "
                "the service by path, or set edge none",
            )


def _check_services(
    get: dict[str, Any],
    ok: set[str],
    problems: Problems,
    region: str,
    root: Path | None,
    container_user: str | None,
) -> tuple[ServiceSpec, ...]:
    """`services`, each falling back to the main service's settings that passed their checks."""
    if "services" not in ok or not get["services"]:
        return ()

    def valid(key: str) -> Any:
        return get[key] if key in ok else None

    strategy = valid("deploymentStrategy")
    main = MainService(
        cpu=valid("cpu"),
        memory=valid("memory"),
        desired_count=valid("desiredCount"),
        min_count=valid("minCount"),
        max_count=valid("maxCount"),
        cpu_target=valid("cpuTarget"),
        spot=valid("spot"),
        on_demand_base=valid("onDemandBase"),
        container_port=valid("containerPort"),
        health_check_path=valid("healthCheckPath"),
        cpu_architecture=valid("cpuArchitecture"),
        shifts_traffic=strategy in DEPLOYMENT_STRATEGIES and shifts_traffic(strategy),
        job_names=tuple(get["scheduledTasks"]) if "scheduledTasks" in ok else (),
        file_systems=file_system_names(get, ok),
        region=region,
        private_without_nat=_private_without_nat(get),
        container_user=container_user,
        read_only_root=(get["readOnlyRootFilesystem"] if "readOnlyRootFilesystem" in ok else True),
        writable_paths=(
            tuple(get["writablePaths"]) if "writablePaths" in ok else DEFAULT_WRITABLE_PATHS
        ),
        waivers=tuple(get["policyWaivers"]) if "policyWaivers" in ok else (),
        enable_exec=get.get("enableExec") is True,
        root=root,
    )
    services = check_services(get["services"], main, problems)
    # The main service's container (and so its jobs') gets each worker's queue URL too.
    queue_envs = {s.queue_env: s.name for s in services if s.kind == WORKER}
    for key in ("env", "secrets", "secretValues"):
        names = get[key] if key in ok else {}
        for name in sorted(set(names) & set(queue_envs)):
            problems.add(
                f"{key}.{name}",
                "<secret>" if key in SECRET_SETTINGS else name,
                f"the program sets it to the worker {queue_envs[name]}'s queue URL; remove it",
            )
    size = TaskSize(cpu=get["cpu"], memory=get["memory"])
    main_size = None if size.issues() else size
    problems.items.extend(proxy_room_problems(services, main_size))
    return services


def _check_file_systems(
    get: dict[str, Any],
    ok: set[str],
    problems: Problems,
    services: tuple[ServiceSpec, ...],
    jobs: tuple[ScheduledTask, ...],
) -> tuple[tuple[FileSystemSpec, ...], tuple[FileSystemMount, ...]]:
    """`fileSystems` and the main service's `mounts` (the services' and jobs' are read with them),
    and what every task that mounts carries: no more security groups than its interface takes."""
    mounts = (
        check_mounts(
            get["mounts"], "mounts", file_system_names(get, ok), writable_paths(get, ok), problems
        )
        if "mounts" in ok
        else ()
    )
    main_user = container_user(get, ok)
    mounters: dict[str, list[tuple[str, str | None]]] = {}
    for key, task_mounts, user in (
        ("mounts", mounts, main_user),
        *((f"services.{s.name}.mounts", s.mounts, s.container_user) for s in services),
        # A job runs the main service's container.
        *((f"scheduledTasks.{t.name}.mounts", t.mounts, main_user) for t in jobs),
    ):
        for m in task_mounts:
            mounters.setdefault(m.file_system, []).append((key, user))
    file_systems = (
        check_file_systems(get["fileSystems"], mounters, problems) if "fileSystems" in ok else ()
    )
    connect = any(s.kind == INTERNAL for s in services)
    counts = [
        ("mounts", len(mounts), connect),
        *((f"services.{s.name}.mounts", len(s.mounts), connect) for s in services),
        # A job carries the main service's group, not Service Connect's.
        *((f"scheduledTasks.{t.name}.mounts", len(t.mounts), False) for t in jobs),
    ]
    for key, count, with_connect in counts:
        if (problem := security_group_problem(key, count, with_connect)) is not None:
            problems.items.append(problem)
    return file_systems, mounts


def from_pulumi() -> StackConfig:
    """Read the running stack's config from the Pulumi runtime and validate it."""
    import pulumi
    from pulumi.runtime.config import (
        CONFIG,
        get_config_env,
        get_config_secret_keys_env,
        is_config_secret,
    )

    # The CLI hands a program its config as JSON in PULUMI_CONFIG; tests and the automation API
    # set the runtime's config map instead, which wins.
    raw = {**get_config_env(), **CONFIG.get()}
    # The CLI lists the encrypted keys in PULUMI_CONFIG_SECRET_KEYS (absent when there are none);
    # the runtime's own list holds those the tests and the automation API set.
    secret_keys = {*get_config_secret_keys_env(), *(k for k in raw if is_config_secret(k))}
    # Pulumi runs the program in the project's directory, which the build paths are relative to.
    return load_config(
        raw,
        stack=pulumi.get_stack(),
        project=pulumi.get_project(),
        secret_keys=secret_keys,
        project_dir=Path.cwd(),
    )
