"""What the config contract and the components share (components/spec.py, stack_config/).

What a user relies on: the config can be loaded and checked without Pulumi's SDK (a tool, a test or
a pre-commit hook imports it in milliseconds, and the lazy `import pulumi` in `from_pulumi` means
something); and each default, limit and list of choices is written once, so the settings table, the
components and the plan never disagree about it.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest

from components import spec
from stack_config import SETTINGS_BY_KEY

ROOT = Path(__file__).resolve().parent.parent
PULUMI_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_docker")


def modules_loaded_by(statement: str) -> list[str]:
    """The Pulumi modules a fresh interpreter has loaded after running `statement`."""
    probe = (
        f"{statement}\n"
        "import json, sys\n"
        f"found = [m for m in sys.modules if m.split('.')[0] in {PULUMI_PACKAGES!r}]\n"
        "print(json.dumps(sorted(found)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"`{statement}` failed in a fresh interpreter:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "statement",
    [
        "import stack_config",
        "from stack_config import load_config, ConfigError, SETTINGS, StackConfig",
        "import components.spec",
        "import components",
    ],
)
def test_the_config_contract_loads_no_pulumi_module(statement: str) -> None:
    loaded = modules_loaded_by(statement)
    assert not loaded, f"`{statement}` loads {loaded[:5]}...: it must not need Pulumi's SDK"


def test_loading_a_config_needs_no_pulumi_module() -> None:
    loaded = modules_loaded_by(
        "from stack_config import load_config\n"
        "load_config({'aws:region': 'us-east-1', 'scheduledTasks': "
        "{'job': {'schedule': 'rate(1 day)', 'command': 'true'}}}, stack='test')"
    )
    assert not loaded, f"loading a config imports {loaded[:5]}..."


# --- one home per fact ----------------------------------------------------------------------------


def _default(cls: type, name: str) -> object:
    """A dataclass field's default, without building the class (some need wiring)."""
    (found,) = [f for f in dataclasses.fields(cls) if f.name == name]
    if found.default is not dataclasses.MISSING:
        return found.default
    assert found.default_factory is not dataclasses.MISSING, f"{cls.__name__}.{name} is required"
    return found.default_factory()


def _shared_defaults() -> list[tuple[str, str, object]]:
    """(setting, where a component takes the same default, that default)."""
    from components.alarm_topic import AlarmTopicArgs
    from components.image import ContainerImageArgs
    from components.network import NetworkArgs
    from components.service import FargateServiceArgs, ServicePlacement
    from components.task_definition import AppContainer

    fields = [
        ("vpcCidr", NetworkArgs, "cidr"),
        ("availabilityZones", NetworkArgs, "availability_zones"),
        ("natGateways", NetworkArgs, "nat_gateways"),
        ("vpcEndpoints", NetworkArgs, "vpc_endpoints"),
        ("flowLogs", NetworkArgs, "flow_logs"),
        ("logRetentionDays", NetworkArgs, "flow_log_retention_days"),
        ("logRetentionDays", FargateServiceArgs, "log_retention_days"),
        ("deletionProtection", FargateServiceArgs, "protect"),
        ("cpu", spec.TaskSize, "cpu"),
        ("cpu", spec.ScheduledTask, "cpu"),
        ("memory", spec.TaskSize, "memory"),
        ("memory", spec.ScheduledTask, "memory"),
        ("cpuArchitecture", AppContainer, "cpu_architecture"),
        ("containerPort", AppContainer, "port"),
        ("healthCheckPath", AppContainer, "health_check_path"),
        ("enableExec", AppContainer, "enable_exec"),
        ("containerUser", AppContainer, "user"),
        ("readOnlyRootFilesystem", AppContainer, "read_only_root"),
        ("desiredCount", spec.Scaling, "desired_count"),
        ("minCount", spec.Scaling, "min_count"),
        ("maxCount", spec.Scaling, "max_count"),
        ("cpuTarget", spec.Scaling, "cpu_target"),
        ("spot", ServicePlacement, "spot"),
        ("onDemandBase", ServicePlacement, "on_demand_base"),
        ("deploymentStrategy", spec.Deployment, "strategy"),
        ("bakeTimeMinutes", spec.Deployment, "bake_time_minutes"),
        ("canaryPercent", spec.Deployment, "canary_percent"),
        ("syncTrafficRouting", spec.Deployment, "sync_traffic_routing"),
        ("alarmTopicEncryption", AlarmTopicArgs, "encrypted"),
    ]
    found = [(key, f"{cls.__name__}.{name}", _default(cls, name)) for key, cls, name in fields]
    # The image is built for the default architecture's platform.
    architecture_of = {platform: arch for arch, platform in spec.PLATFORM_BY_ARCHITECTURE.items()}
    platform = _default(ContainerImageArgs, "platform")
    found.append(("cpuArchitecture", "ContainerImageArgs.platform", architecture_of[platform]))
    # The image builds the sample app; the container writes where the sample does.
    image_build = _default(ContainerImageArgs, "build")
    assert isinstance(image_build, spec.ImageBuild)
    found.append(("build", "ContainerImageArgs.build", dataclasses.asdict(image_build)))
    mounts = _default(AppContainer, "mounts")
    assert isinstance(mounts, tuple)
    found.append(("writablePaths", "AppContainer.mounts", [m.path for m in mounts]))
    return found


def test_the_settings_and_the_components_default_alike() -> None:
    disagreements = [
        f"{key} defaults to {SETTINGS_BY_KEY[key].default!r} but {where} to {value!r}"
        for key, where, value in _shared_defaults()
        if SETTINGS_BY_KEY[key].default != value
    ]
    assert not disagreements, "\n".join(disagreements)


def test_the_strategy_table_answers_for_both_spellings() -> None:
    for strategy in spec.STRATEGIES:
        for name in filter(None, (strategy.setting, strategy.ecs)):
            assert spec.shifts_traffic(name) is strategy.shifts_traffic, name
    assert spec.shifts_traffic("rolling") is False and spec.shifts_traffic("ROLLING") is False
    assert spec.shifts_traffic("canary") and spec.shifts_traffic("BLUE_GREEN")
    with pytest.raises(ValueError, match="blue-green"):
        spec.shifts_traffic("blue-green")


def test_the_strategy_table_knows_every_strategy_ecs_reports() -> None:
    """The plan asks about whatever strategy a service has; ECS's API model lists them."""
    ecs = botocore.session.get_session().get_service_model("ecs")
    assert {s.ecs for s in spec.STRATEGIES} == set(ecs.shape_for("DeploymentStrategy").enum)
    assert spec.DEPLOYMENT_STRATEGIES == ("rolling", "blueGreen", "canary")


def test_the_service_tells_ecs_the_strategy_the_table_names() -> None:
    from components.service import deployment_configuration

    for name in spec.DEPLOYMENT_STRATEGIES:
        config = deployment_configuration(name, 5, 10)
        assert config["strategy"] == spec.deployment_strategy(name).ecs, name
        assert ("bake_time_in_minutes" in config) is spec.shifts_traffic(name), name


# The decision "does this strategy shift traffic" once lived in four places as `!= "rolling"` or a
# list of strategy names; it is spec.shifts_traffic now, also for the plan's deploy model.
DECIDING_SOURCES = ("__main__.py", "components", "stack_config", "tools/ops", "tools/plan")
STRATEGY_NAMES = {n for s in spec.STRATEGIES for n in (s.setting, s.ecs) if n}


def _strategy_decisions(path: Path) -> list[str]:
    """Where `path` compares with "rolling"/"ROLLING" or lists strategy names literally."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(
                isinstance(o, ast.Constant) and o.value in ("rolling", "ROLLING") for o in operands
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            names = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(STRATEGY_NAMES.intersection(n for n in names if isinstance(n, str))) >= 2:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_the_spec_decides_which_strategies_shift_traffic() -> None:
    sources = [
        p
        for entry in DECIDING_SOURCES
        for p in ([ROOT / entry] if entry.endswith(".py") else sorted((ROOT / entry).rglob("*.py")))
        if p != ROOT / "components" / "spec.py"
    ]
    decisions = [d for p in sources for d in _strategy_decisions(p)]
    assert not decisions, f"decide with components.spec.shifts_traffic instead: {decisions}"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("none", []), ("single", ["a"]), ("perAz", ["a", "b", "c"])],
)
def test_each_nat_mode_puts_its_gateways_in_the_first_azs(mode: str, expected: list[str]) -> None:
    assert spec.nat_gateway_azs(mode, ["a", "b", "c"]) == expected, mode


def test_the_nat_setting_explains_every_mode_the_network_accepts() -> None:
    description = SETTINGS_BY_KEY["natGateways"].description
    for choice in spec.NAT_MODE_CHOICES:
        assert f"{choice.name} ({choice.meaning})" in description, (
            f"natGateways' description does not explain {choice.name}: {description}"
        )
    assert tuple(c.name for c in spec.NAT_MODE_CHOICES) == spec.NAT_MODES
