"""The stack config contract (stack_config/, Pulumi.yaml, the committed stack files).

What a user relies on: the documented defaults; every bad value caught before anything is
created, each problem naming the setting, the value given and what is allowed, all reported at
once; values typed by the Pulumi CLI (strings, JSON maps) read like native ones; a wrong type is an
error, never a crash; and `pulumi config` shows the same settings the program reads.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import spec
from components.spec import TaskSize
from stack_config import SETTINGS, ConfigError, StackConfig, listed_problems, load_config
from tests.conftest import STACKS
from tools.mocks import config_for_runtime, config_secret_keys, load_stack_config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "fargate-app"
REGION = "us-east-1"
ECR = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def load(**settings: Any) -> StackConfig:
    """Given these settings (bare keys) in us-east-1, when the config is loaded."""
    return load_config({"aws:region": REGION, **settings}, stack="test")


def problems(raw: dict[str, Any], region: str | None = REGION) -> list[str]:
    """The problems reported for `raw`; fails if the config is accepted."""
    with pytest.raises(ConfigError) as caught:
        load_config(raw, stack="test", region=region)
    return caught.value.problems


def problem_about(key: str, **settings: Any) -> str:
    """The problems about `key` (one a line) when these settings are loaded."""
    found = problems(settings)
    about = [p for p in found if p.startswith(f"{key}:")]
    assert about, f"expected a problem about {key!r} for {settings}, got {found}"
    return "\n".join(about)


def field_name(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


# --- defaults -------------------------------------------------------------------------------------


def test_given_no_settings_every_setting_takes_its_documented_default() -> None:
    cfg = load()
    by_field = {f.name for f in fields(StackConfig)}
    for setting in SETTINGS:
        name = field_name(setting.key)
        assert name in by_field, f"StackConfig has no field for the setting {setting.key}"
        value = getattr(cfg, name)
        if setting.key == "build":  # a map with fields, read into its value type
            value = dataclasses.asdict(value)
        elif setting.type == "map":
            assert not value, f"{setting.key} defaults to {value!r}, documented as empty"
            continue
        elif setting.type == "array":
            value = list(value)  # a tuple in StackConfig, as frozen as the rest
        want = None if setting.key == "image" and setting.default == "" else setting.default
        assert value == want, f"{setting.key} defaults to {value!r}, documented as {want!r}"


def test_the_defaults_are_the_cheap_public_single_task_profile() -> None:
    cfg = load()
    assert (cfg.vpc_cidr, cfg.availability_zones, cfg.nat_gateways) == ("10.0.0.0/16", 2, "none")
    assert not cfg.vpc_endpoints and not cfg.private_tasks, "by default tasks need no NAT"
    assert (cfg.cpu, cfg.memory, cfg.cpu_architecture) == (256, 512, "X86_64")
    assert (cfg.min_count, cfg.desired_count, cfg.max_count) == (1, 1, 1)
    assert not cfg.autoscaling and not cfg.spot and cfg.on_demand_base == 0
    assert (cfg.container_port, cfg.health_check_path) == (8000, "/health")
    assert cfg.log_retention_days == 30 and cfg.cpu_target == 60
    assert cfg.image is None and cfg.platform == "linux/amd64"


# --- every rule of the table ----------------------------------------------------------------------

# (setting, bad value, other settings, what the message must say is allowed)
BAD_VALUES = [
    ("vpcCidr", "10.0.0.0/8", {}, "/16 to /24"),
    ("vpcCidr", "10.0.0.0/25", {}, "/16 to /24"),
    ("vpcCidr", "fd00::/56", {}, "IPv4 CIDR"),
    ("vpcCidr", "10.0.0.1/16", {}, "IPv4 CIDR"),
    ("vpcCidr", "ten-dot-zero", {}, "IPv4 CIDR"),
    ("availabilityZones", 1, {}, "2 to 6"),
    ("availabilityZones", 7, {}, "2 to 6"),
    ("natGateways", "perAZ", {}, "none, single, perAz"),
    ("vpcEndpoints", "yes", {}, "true or false"),
    ("cpu", 300, {}, "256, 512, 1024, 2048, 4096, 8192, 16384"),
    ("memory", 4096, {"cpu": 256}, "512, 1024, 2048"),
    ("memory", 1536, {"cpu": 512}, "1024 to 4096"),
    ("memory", 8192, {"cpu": 8192}, "16384 to 61440 in steps of 4096"),
    ("cpuArchitecture", "arm64", {}, "X86_64 or ARM64"),
    ("desiredCount", 0, {}, "at least 1"),
    ("minCount", 0, {}, "at least 1"),
    ("maxCount", 0, {}, "at least 1"),
    ("cpuTarget", 9, {}, "10 to 90"),
    ("cpuTarget", 91, {}, "10 to 90"),
    ("spot", "sometimes", {}, "true or false"),
    ("onDemandBase", -1, {}, "0 to maxCount"),
    ("containerPort", 0, {}, "1 to 65535"),
    ("containerPort", 65536, {}, "1 to 65535"),
    ("healthCheckPath", "health", {}, "starting with /"),
    ("healthCheckPath", "/health check", {}, "starting with /"),
    ("logRetentionDays", 10, {}, "1, 3, 5, 7, 14, 30, 60, 90"),
    ("logRetentionDays", 0, {}, "1, 3, 5, 7, 14, 30, 60, 90"),
    ("containerInsights", "on", {}, "true or false"),
    ("image", "nginx:latest", {}, "ECR image URI"),
]


@pytest.mark.parametrize(
    ("key", "value", "others", "allowed"),
    BAD_VALUES,
    ids=[f"{k}={v}" for k, v, _, _ in BAD_VALUES],
)
def test_a_bad_value_is_reported_with_the_setting_the_value_and_what_is_allowed(
    key: str, value: Any, others: dict[str, Any], allowed: str
) -> None:
    message = problem_about(key, **others, **{key: value})
    assert str(value) in message, f"the message does not show the value given: {message}"
    assert allowed in message, f"the message does not say what is allowed ({allowed}): {message}"


@pytest.mark.parametrize("cpu", [256, 512, 1024, 2048, 4096, 8192, 16384])
def test_every_fargate_cpu_size_is_accepted_with_its_smallest_memory(cpu: int) -> None:
    smallest = {256: 512, 512: 1024, 1024: 2048, 2048: 4096, 4096: 8192, 8192: 16384}
    cfg = load(cpu=cpu, memory=smallest.get(cpu, 32768))
    assert (cfg.cpu, cfg.memory) == (cpu, smallest.get(cpu, 32768))


def test_arm64_tasks_on_fargate_spot_are_refused() -> None:
    message = problem_about("spot", cpuArchitecture="ARM64", spot=True)
    assert "ARM64" in message and "Spot" in message, message


def test_arm64_tasks_on_demand_are_accepted() -> None:
    cfg = load(cpuArchitecture="ARM64", spot=False)
    assert cfg.cpu_architecture == "ARM64" and cfg.platform == "linux/arm64"


@pytest.mark.parametrize(
    ("low", "want", "high"),
    [(2, 1, 3), (1, 4, 3), (3, 2, 2)],
    ids=["below-min", "above-max", "min>max"],
)
def test_desired_count_must_lie_between_min_and_max(low: int, want: int, high: int) -> None:
    found = problems({"minCount": low, "desiredCount": want, "maxCount": high})
    message = next((p for p in found if "minCount" in p and "maxCount" in p), None)
    assert message, f"min {low} <= desired {want} <= max {high} was not refused: {found}"
    for value in (low, want, high):
        assert str(value) in message, message


def test_a_min_count_above_max_count_is_reported_under_the_bounds_not_desired_count() -> None:
    """minCount 4, maxCount 2 (desiredCount left at its default): the bounds are what is wrong."""
    found = problems({"minCount": 4, "maxCount": 2})
    assert not [p for p in found if p.startswith("desiredCount:")], (
        f"desiredCount was not given and is not the problem: {found}"
    )
    message = problem_about("minCount", minCount=4, maxCount=2)
    assert "4" in message and "maxCount 2" in message, message


def test_min_equal_desired_equal_max_is_a_fixed_count_without_autoscaling() -> None:
    cfg = load(minCount=3, desiredCount=3, maxCount=3)
    assert cfg.desired_count == 3 and not cfg.autoscaling


def test_on_demand_base_may_not_exceed_max_count() -> None:
    message = problem_about("onDemandBase", onDemandBase=4, maxCount=3, spot=True)
    assert "4" in message and "maxCount" in message and "3" in message, message
    assert load(onDemandBase=3, minCount=1, desiredCount=1, maxCount=3).on_demand_base == 3


def test_a_slash_24_vpc_refuses_more_azs_than_its_subnets_fit() -> None:
    message = problem_about("availabilityZones", vpcCidr="10.0.0.0/24", availabilityZones=5)
    assert "/24" in message and "4" in message, f"say how many AZs fit: {message}"
    assert load(vpcCidr="10.0.0.0/24", availabilityZones=4).availability_zones == 4
    assert load(vpcCidr="10.0.0.0/23", availabilityZones=6).availability_zones == 6


@pytest.mark.parametrize(
    ("uri", "tag", "digest"),
    [
        (f"{ECR}/app:1.2.3", "1.2.3", None),
        (f"{ECR}/team/app:v1_rc-2", "v1_rc-2", None),
        (f"{ECR}/app@{DIGEST}", None, DIGEST),
    ],
    ids=["tag", "nested-repo", "digest"],
)
def test_an_ecr_image_with_a_tag_or_a_digest_is_accepted_and_split(
    uri: str, tag: str | None, digest: str | None
) -> None:
    image = load(image=uri).image
    assert image is not None and image.uri == uri
    assert (image.account, image.region) == ("123456789012", REGION)
    assert (image.tag, image.digest) == (tag, digest)


@pytest.mark.parametrize(
    "uri",
    [
        "nginx:latest",
        "docker.io/library/nginx:1.27",
        f"{ECR}/app",
        f"{ECR}/app@sha256:abc",
        f"{ECR}/App:1",
        f"{ECR}/app:-bad",
        f"{ECR}/app:1@{DIGEST}",
        f"12345.dkr.ecr.{REGION}.amazonaws.com/app:1",
    ],
)
def test_an_image_that_is_not_an_ecr_uri_with_a_tag_or_digest_is_refused(uri: str) -> None:
    message = problem_about("image", image=uri)
    assert uri in message and "tag or digest" in message, message


def test_a_prebuilt_image_from_another_region_needs_a_nat_when_tasks_use_endpoints() -> None:
    uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"
    message = problem_about("image", image=uri, natGateways="none", vpcEndpoints=True)
    assert uri in message and REGION in message and "natGateways" in message, message
    assert load(image=uri, natGateways="single").image is not None


def test_an_empty_image_means_build_app() -> None:
    assert load(image="").image is None


@pytest.mark.parametrize("name", ["LOG_LEVEL", "_PRIVATE", "feature_flag", "A1"])
def test_env_names_of_letters_digits_and_underscores_are_accepted(name: str) -> None:
    assert load(env={name: "x"}).env == {name: "x"}


@pytest.mark.parametrize("name", ["1ST", "MY-VAR", "A B", "ÄPFEL", ""])
def test_other_env_names_are_refused(name: str) -> None:
    message = problem_about(f"env.{name}", env={name: "x"})
    assert "letters, digits and _" in message, message


@pytest.mark.parametrize("name", ["PORT", "HEALTH_CHECK_PATH", "GRACEFUL_TIMEOUT"])
def test_env_may_not_set_what_the_program_sets_from_other_settings(name: str) -> None:
    message = problem_about(f"env.{name}", env={name: "1"})
    assert name in message and "remove it from env" in message, message


@pytest.mark.parametrize("key", ["aws:team", "AWS:team", "aws:cloudformation:stack-name"])
def test_tag_keys_may_not_start_with_aws(key: str) -> None:
    message = problem_about(f"tags.{key}", tags={key: "x"})
    assert "aws:" in message, message


@pytest.mark.parametrize("key", ["project", "stack"])
def test_tags_may_not_override_the_project_and_stack_tags(key: str) -> None:
    assert problem_about(f"tags.{key}", tags={key: "other"})


def test_tags_beyond_aws_limits_are_refused() -> None:
    assert "128" in problem_about("tags." + "k" * 129, tags={"k" * 129: "v"})
    assert "256" in problem_about("tags.team", tags={"team": "v" * 257})


def test_a_missing_region_is_reported_with_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    found = problems({}, region=None)
    message = next((p for p in found if p.startswith("aws:region")), None)
    assert message and "pulumi config set aws:region" in message, found


def test_a_malformed_region_is_refused() -> None:
    found = problems({"aws:region": "US East"}, region=None)
    assert any(p.startswith("aws:region") and "US East" in p for p in found), found


# --- values as the Pulumi CLI hands them over -----------------------------------------------------


def test_strings_from_the_pulumi_cli_read_like_native_values() -> None:
    native = load_config(
        {
            "aws:region": REGION,
            "fargate-app:cpu": 512,
            "fargate-app:memory": 1024,
            "fargate-app:spot": True,
            "fargate-app:vpcEndpoints": False,
            "fargate-app:availabilityZones": 3,
            "fargate-app:env": {"LOG_LEVEL": "debug", "WORKERS": 4, "VERBOSE": True},
            "fargate-app:tags": {"team": "payments"},
        },
        stack="test",
    )
    from_cli = load_config(
        {
            "aws:region": REGION,
            "fargate-app:cpu": "512",
            "fargate-app:memory": "1024",
            "fargate-app:spot": "true",
            "fargate-app:vpcEndpoints": "False",
            "fargate-app:availabilityZones": " 3 ",
            "fargate-app:env": '{"LOG_LEVEL": "debug", "WORKERS": "4", "VERBOSE": "true"}',
            "fargate-app:tags": '{"team": "payments"}',
        },
        stack="test",
    )
    assert from_cli == native
    assert native.env == {"LOG_LEVEL": "debug", "WORKERS": "4", "VERBOSE": "true"}


def test_settings_of_other_namespaces_are_left_to_their_owners() -> None:
    cfg = load_config(
        {"aws:region": REGION, "aws:profile": "ops", "other-project:cpu": "7"}, stack="test"
    )
    assert cfg.cpu == 256


def test_a_setting_given_both_bare_and_namespaced_is_refused_naming_both() -> None:
    """The Pulumi CLI reads a bare key as the project's: which of the two it would use is not
    defined, so neither is guessed."""
    found = problems({"logRetentionDays": 14, "fargate-app:logRetentionDays": 30, "cpu": 300})
    (twice,) = [p for p in found if p.startswith("logRetentionDays:")]
    assert "logRetentionDays (14)" in twice and "fargate-app:logRetentionDays (30)" in twice, twice
    assert "Delete one of them" in twice, "the problem says how to fix it"
    assert any(p.startswith("cpu:") for p in found), "reported with the other problems"


def test_a_secret_given_twice_is_refused_without_showing_its_values() -> None:
    found = problems(
        {
            "secretValues": {"API_TOKEN": "first-s3cr3t"},
            "fargate-app:secretValues": {"API_TOKEN": "second-s3cr3t"},
        }
    )
    (twice,) = [p for p in found if p.startswith("secretValues: given twice")]
    assert "s3cr3t" not in twice and "<secret>" in twice, twice


def test_a_stack_file_giving_a_setting_twice_fails_the_program_as_pulumi_up_would_run_it(
    tmp_path: Path, run_config
) -> None:
    """The mocks hand the program both forms (the CLI would hand it one, which is not defined)."""
    (tmp_path / "Pulumi.yaml").symlink_to(ROOT / "Pulumi.yaml")
    (tmp_path / "Pulumi.twice.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  logRetentionDays: 14\n"
        "  fargate-app:logRetentionDays: 30\n"
    )
    run = run_config(load_stack_config(tmp_path, "twice"), stack="twice", check=False)
    assert isinstance(run.error, pulumi.RunError), run.error
    assert "logRetentionDays: given twice in Pulumi.twice.yaml" in str(run.error), run.error
    assert not run.resources, "nothing is created"


def test_the_same_value_given_twice_is_refused_too() -> None:
    """Equal today, but a later `pulumi config set` changes one of them only."""
    assert problem_about("cpu", cpu=512, **{"fargate-app:cpu": 512})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("cpu", "abc", "whole number"),
        ("cpu", True, "whole number"),
        ("cpu", 256.5, "whole number"),
        ("cpu", None, "whole number"),
        ("cpu", [256], "whole number"),
        ("availabilityZones", {"n": 2}, "whole number"),
        ("spot", "yes", "true or false"),
        ("spot", 1, "true or false"),
        ("vpcCidr", 10, "string"),
        ("healthCheckPath", ["/health"], "string"),
        ("env", "LOG_LEVEL=debug", "map"),
        ("env", ["LOG_LEVEL"], "map"),
        ("env", {"LOG_LEVEL": {"nested": 1}}, "string or number"),
        ("tags", 5, "map"),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_not_a_crash(
    key: str, value: Any, expected: str
) -> None:
    message = problem_about(key, **{key: value})
    assert expected in message, message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            {
                "aws:region": REGION,
                "cpu": 300,
                "natGateways": "two",
                "containerPort": 0,
                "logRetentionDays": 10,
                "desiredCont": 2,
                "tags": {"aws:x": "y"},
            },
            stack="dev",
        )
    err = caught.value
    for key in ("cpu", "natGateways", "containerPort", "logRetentionDays", "desiredCont", "tags"):
        assert any(p.startswith(key) for p in err.problems), f"{key} not reported: {err.problems}"
        assert key in str(err)
    assert "nothing was created" in str(err) and "pulumi config set" in str(err), str(err)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("desiredCont", "desiredCount"),
        ("natGateway", "natGateways"),
        ("logRetention", "logRetentionDays"),
        ("healthcheckPath", "healthCheckPath"),
        ("fargate-app:containerport", "containerPort"),
    ],
)
def test_a_misspelt_setting_suggests_the_right_one(typo: str, meant: str) -> None:
    found = problems({typo: "1"})
    message = next((p for p in found if p.startswith(typo.rpartition(":")[2])), "")
    assert f"did you mean `{meant}`" in message, found


def test_a_misspelt_setting_is_fixed_by_removing_it_then_setting_the_right_key() -> None:
    """`pulumi config set` leaves the typo in the stack file, where it fails again: the footer
    says to remove it first."""
    with pytest.raises(ConfigError) as caught:
        load_config({"aws:region": REGION, "fargate-app:desiredCont": "2"}, stack="dev")
    footer = str(caught.value).splitlines()[-1]
    remove = "`pulumi config rm desiredCont --stack dev`"
    assert remove in footer, f"the footer does not say to remove the typo: {footer}"
    assert footer.index(remove) < footer.index("pulumi config set"), (
        f"remove the typo first, then set the right key: {footer}"
    )


@pytest.mark.parametrize(
    ("typo", "meant"), [("CPU", "cpu"), ("Memory", "memory"), ("SPOT", "spot")]
)
def test_a_setting_in_the_wrong_case_suggests_the_right_one(typo: str, meant: str) -> None:
    found = problems({typo: "1"})
    message = next((p for p in found if p.startswith(f"{typo}:")), "")
    assert f"did you mean `{meant}`" in message, (
        f"Pulumi config keys are case-sensitive, so {typo!r} is silently different from "
        f"{meant!r}; the error must point to it: {found}"
    )


# --- Pulumi.yaml and the committed stacks ---------------------------------------------------------


def test_pulumi_yaml_declares_every_scalar_setting_exactly_as_the_program_reads_it() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    scalar = {s.key: s for s in SETTINGS if s.type != "map"}
    assert set(declared) == set(scalar), (
        f"Pulumi.yaml lacks {sorted(set(scalar) - set(declared))}, "
        f"declares unknown {sorted(set(declared) - set(scalar))}"
    )
    for key, setting in scalar.items():
        decl = declared[key]
        items = {"items": {"type": "string"}} if setting.type == "array" else {}
        assert decl == {
            "type": setting.type,
            **items,
            "default": setting.default,
            "description": setting.description,
        }, f"Pulumi.yaml's {key} differs from stack_config.SETTINGS: {decl}"


@pytest.mark.parametrize("stack", STACKS)
def test_the_committed_stack_config_is_valid(stack: str) -> None:
    """As the Pulumi CLI hands it over: strings, and encrypted values decrypted (offline,
    placeholders); with the project's files, so that its build is checked too."""
    raw = load_stack_config(ROOT, stack)
    cfg = load_config(
        config_for_runtime(PROJECT, raw),
        stack=stack,
        secret_keys=config_secret_keys(PROJECT, raw),
        project_dir=ROOT,
    )
    assert cfg.stack == stack and cfg.region


def test_a_bad_config_registers_no_resource_and_says_what_to_fix(run_stack) -> None:
    run = run_stack("dev", {"cpu": 300, "desiredCont": 2}, check=False)
    assert isinstance(run.error, pulumi.RunError), f"expected a RunError, got {run.error!r}"
    assert "cpu: 300" in str(run.error) and "desiredCount" in str(run.error), str(run.error)
    assert not run.resources, f"a bad config created {[r.urn for r in run.resources]}"


def test_every_bad_entry_of_a_map_is_reported_with_its_bad_names() -> None:
    """A value of the wrong type does not hide the map's other problems."""
    found = problems(
        {"env": {"1BAD": "x", "NESTED": {"a": 1}, "LIST": [1], "PORT": "80", "OK": "fine"}}
    )

    assert any("'NESTED'" in p and "'LIST'" in p for p in found), found
    assert any(p.startswith("env.1BAD:") for p in found), f"a bad name went unreported: {found}"
    assert any(p.startswith("env.PORT:") for p in found), (
        f"a reserved name went unreported: {found}"
    )
    assert not any(p.startswith("env.OK") for p in found), found


# -- policyWaivers --------------------------------------------------------------------------------
def test_a_waiver_names_a_mandatory_policy_and_the_reason() -> None:
    cfg = load(policyWaivers={"ecs-container-non-root-user": "the vendor image runs as root"})
    assert cfg.policy_waivers == {"ecs-container-non-root-user": "the vendor image runs as root"}


def test_no_policy_is_waived_by_default() -> None:
    assert load().policy_waivers == {}


def test_a_waiver_of_a_policy_the_pack_does_not_have_is_refused_with_a_suggestion() -> None:
    message = problem_about(
        "policyWaivers.ecs-container-non-root",
        policyWaivers={"ecs-container-non-root": "the vendor image runs as root"},
    )
    assert "not a mandatory policy of the pack" in message
    assert "did you mean `ecs-container-non-root-user`?" in message


@pytest.mark.parametrize("reason", ["", "temp", "   no     "])
def test_a_waiver_without_a_reason_a_reviewer_can_judge_is_refused(reason: str) -> None:
    message = problem_about(
        "policyWaivers.elb-access-logs", policyWaivers={"elb-access-logs": reason}
    )
    assert "say why the stack gives the control up" in message
    assert "pulumi config set --path 'policyWaivers.elb-access-logs'" in message


def test_the_problems_of_a_config_error_read_back_from_its_message() -> None:
    """tools.plan sees a ConfigError only as the text `pulumi up` prints: the list comes back."""
    problems = ["cpu 300: expected one of 256, 512", "memory: expected a number, got 'lots'"]
    message = f"wrapped by the engine: {ConfigError('dev', problems)}"
    assert listed_problems(message) == problems, message


@pytest.mark.parametrize(("cpu", "memory"), [(300, 512), (256, 4096)])
def test_the_config_says_fargate_s_pairing_rule_as_the_component_does(cpu: int, memory: int):
    """One home for the rule (TaskSize): the setting's message carries the value's own words."""
    (issue,) = TaskSize(cpu=cpu, memory=memory).issues()
    with pytest.raises(ConfigError) as raised:
        load_config({"aws:region": "us-east-1", "cpu": cpu, "memory": memory}, stack="dev")
    (problem,) = raised.value.problems
    assert problem == f"{issue.field}: {issue.value} is not allowed; {issue.allowed}", problem


@pytest.mark.parametrize(
    ("key", "value", "issues"),
    [
        ("containerPort", 70000, spec.port_issues("port", 70000)),
        ("healthCheckPath", "health", spec.health_check_path_issues("path", "health")),
        ("logRetentionDays", 31, spec.retention_issues("days", 31)),
        ("natGateways", "perAZ", spec.nat_mode_issues("mode", "perAZ")),
        ("deploymentStrategy", "blue-green", spec.Deployment(strategy="blue-green").issues()),
        ("minCount", 0, spec.Scaling(min_count=0).issues()),
    ],
)
def test_the_config_words_each_limit_as_the_value_that_holds_it(key, value, issues):
    """Each rule has one home in components.spec; the setting's message carries its words."""
    (issue,) = issues
    message = problem_about(key, **{key: value})
    assert issue.allowed in message, f"{message!r} does not say {issue.allowed!r}"


# -- the container's user and file system ---------------------------------------------------------
NON_ROOT = "ecs-container-non-root-user"
READ_ONLY_ROOT = "ecs-container-read-only-root"
WHY = "the vendor image needs it, ticket OPS-12"


def test_by_default_the_container_runs_as_the_sample_non_root_user_on_a_read_only_root() -> None:
    cfg = load()
    assert cfg.container_user == "10001:10001"
    assert cfg.read_only_root_filesystem is True and cfg.writable_paths == ("/tmp",)


def test_another_non_root_user_needs_no_waiver() -> None:
    assert load(containerUser="1000:1000").container_user == "1000:1000"


@pytest.mark.parametrize("user", ["app", "1000", "1000:", ":1000", "-1:0", "4294967295:0", ""])
def test_a_user_that_is_not_a_numeric_uid_gid_or_image_is_refused(user: str) -> None:
    message = problem_about("containerUser", containerUser=user)
    assert "numeric uid:gid" in message and "image for the image's own USER" in message


@pytest.mark.parametrize("user", ["0:0", "0:1000", "image"])
def test_root_or_the_image_s_own_user_is_refused_without_the_waiver(user: str) -> None:
    message = problem_about("containerUser", containerUser=user)
    assert NON_ROOT in message and "Security Hub ECS.20" in message
    assert f"pulumi config set --path 'policyWaivers.{NON_ROOT}'" in message, (
        "the message must say exactly what to add to keep this user"
    )


def test_the_image_s_own_user_with_the_waiver_leaves_the_user_to_the_image() -> None:
    cfg = load(containerUser="image", policyWaivers={NON_ROOT: WHY})
    assert cfg.container_user is None


def test_root_with_the_waiver_is_accepted() -> None:
    assert load(containerUser="0:0", policyWaivers={NON_ROOT: WHY}).container_user == "0:0"


def test_a_writable_root_is_refused_without_the_waiver() -> None:
    message = problem_about("readOnlyRootFilesystem", readOnlyRootFilesystem=False)
    assert READ_ONLY_ROOT in message and "Security Hub ECS.5" in message
    assert f"pulumi config set --path 'policyWaivers.{READ_ONLY_ROOT}'" in message
    assert "writablePaths" in message, "say what to do instead"


def test_a_writable_root_with_the_waiver_needs_no_writable_paths() -> None:
    cfg = load(readOnlyRootFilesystem=False, policyWaivers={READ_ONLY_ROOT: WHY})
    assert cfg.read_only_root_filesystem is False and cfg.writable_paths == ()


def test_writable_paths_beside_a_writable_root_are_refused() -> None:
    message = problem_about(
        "writablePaths",
        readOnlyRootFilesystem=False,
        writablePaths=["/tmp", "/data"],
        policyWaivers={READ_ONLY_ROOT: WHY},
    )
    assert "the whole file system is writable" in message


def test_writable_paths_arrive_from_the_pulumi_cli_as_json() -> None:
    cfg = load(writablePaths='["/tmp", "/var/cache/app"]')
    assert cfg.writable_paths == ("/tmp", "/var/cache/app")


def test_no_writable_path_at_all_is_allowed() -> None:
    assert load(writablePaths=[]).writable_paths == ()


@pytest.mark.parametrize("path", ["tmp", "/tmp/", "/", "/a/../etc", "/a//b", "/with space"])
def test_a_writable_path_must_be_a_plain_absolute_path(path: str) -> None:
    message = problem_about("writablePaths", writablePaths=[path])
    assert "expected an absolute path" in message


def test_a_writable_path_listed_twice_is_refused() -> None:
    assert "listed twice" in problem_about("writablePaths", writablePaths=["/tmp", "/tmp"])


def test_writable_paths_whose_task_volumes_would_share_a_name_are_refused() -> None:
    message = problem_about("writablePaths", writablePaths=["/var/cache", "/var-cache"])
    assert "'var-cache'" in message and "keep one of them" in message


def test_a_writable_path_where_exec_mounts_its_agent_is_refused() -> None:
    message = problem_about("writablePaths", enableExec=True, writablePaths=["/var/lib/amazon/ssm"])
    assert "ECS Exec" in message


@pytest.mark.parametrize("paths", ["/tmp", '{"a": "/tmp"}', [1]])
def test_writable_paths_must_be_a_list_of_strings(paths: Any) -> None:
    assert "expected a list of strings" in problem_about("writablePaths", writablePaths=paths)


# -- build ----------------------------------------------------------------------------------------
def test_by_default_the_sample_app_is_built_with_its_dockerfile() -> None:
    build = load().build
    assert (build.context, build.dockerfile) == ("app", "app/Dockerfile")


def test_a_context_alone_brings_its_own_dockerfile() -> None:
    build = load(build={"context": "services/web/"}).build
    assert (build.context, build.dockerfile) == ("services/web", "services/web/Dockerfile")


def test_a_dockerfile_may_lie_outside_the_context() -> None:
    build = load(build='{"context": "src", "dockerfile": "docker/web.Dockerfile"}').build
    assert (build.context, build.dockerfile) == ("src", "docker/web.Dockerfile")


@pytest.mark.parametrize("field", ["context", "dockerfile"])
def test_build_paths_are_relative_to_the_project(field: str) -> None:
    message = problem_about(f"build.{field}", build={field: "/home/me/app"})
    assert "relative to the project" in message


def test_an_unknown_field_of_build_is_refused_with_a_suggestion() -> None:
    message = problem_about("build.dockerFile", build={"dockerFile": "x/Dockerfile"})
    assert "did you mean `dockerfile`?" in message


@pytest.mark.parametrize("value", ["app", "[1]", 3])
def test_build_must_be_a_map(value: Any) -> None:
    assert "expected a map {context, dockerfile}" in problem_about("build", build=value)


def test_given_the_project_a_missing_context_and_dockerfile_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            {"aws:region": REGION, "build": {"context": "web"}}, stack="t", project_dir=tmp_path
        )
    found = caught.value.problems
    assert any(p.startswith("build.context: 'web' is not a directory") for p in found), found
    assert any(p.startswith("build.dockerfile: 'web/Dockerfile' does not exist") for p in found)
    assert "pulumi config set --path 'build.context'" in "\n".join(found)


def test_given_the_project_a_dockerfile_without_from_is_refused(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("# nothing yet\nRUN true\n")
    with pytest.raises(ConfigError) as caught:
        load_config(
            {"aws:region": REGION, "build": {"context": "web"}}, stack="t", project_dir=tmp_path
        )
    assert caught.value.problems == ["build.dockerfile: 'web/Dockerfile' has no FROM instruction"]


def test_a_prebuilt_image_needs_no_build_files(tmp_path: Path) -> None:
    cfg = load_config(
        {"aws:region": REGION, "image": f"{ECR}/team/web@{DIGEST}"}, stack="t", project_dir=tmp_path
    )
    assert cfg.image is not None
