"""Run a stack's program offline and turn what it registered into a plan (plain, JSON-ready data).

The project is the directory holding Pulumi.yaml (the working directory, like the Pulumi CLI, else
this repository); a stack is any Pulumi.<stack>.yaml beside it, and a committed stack one that git
tracks (the snapshots cover those). The program runs under the shared mocks in tools/mocks/ with
the stack's config (Pulumi.yaml defaults under the stack's values), exactly as the tests run it.
Nothing here calls AWS, Docker or the Pulumi CLI.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from stack_config import PROBLEM_PREFIX, SECRET_SETTINGS, given_twice, listed_problems
from stack_config.parsing import parse_map
from tools.mocks import (
    AZS_CHECKED,
    SECURE_FIELD,
    ProgramRun,
    Unknown,
    load_stack_config,
    region_az_count,
    run_program,
)
from tools.plan import cost, deploy, services, tree
from tools.plan.refs import Index, is_provider

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_FILE_PREFIX, STACK_FILE_SUFFIX = "Pulumi.", ".yaml"
GIT_TIMEOUT_S = 10  # `git ls-files` answers in milliseconds; a hung git must not hang the plan
# How the Pulumi CLI reports a stack value that does not fit Pulumi.yaml's config schema, before it
# runs the program (pulumi/pulumi: sdk/go/common/workspace/config.go, validateStackConfigValue;
# `pulumi up` in pkg/cmd/pulumi wraps it as "validating stack config: %w").
PULUMI_CONFIG_ERROR_PREFIX = "validating stack config: "
PULUMI_TYPE_ERROR = "Stack '{stack}' with configuration key '{key}' must be of type '{type}'"
PULUMI_SECRET_ERROR = (
    "Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret"
)
GO_INT = re.compile(r"[+-]?[0-9]+")  # what Go's strconv.Atoi accepts...
GO_INT_MAX = 2**63 - 1  # ...within a 64-bit int
SUBNET = "aws:ec2/subnet:Subnet"


class PlanError(Exception):
    """An expected failure, printed as `message` with exit status `exit_code`."""

    exit_code = 1

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class UsageError(PlanError):
    exit_code = 2


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    main: Path

    @classmethod
    def at(cls, root: Path) -> Project:
        spec_file = root / "Pulumi.yaml"
        try:
            spec = yaml.safe_load(spec_file.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise UsageError(f"cannot read {spec_file}: {err}") from None
        if not isinstance(spec, dict) or not isinstance(spec.get("config") or {}, dict):
            raise UsageError(
                f"{spec_file} is not a Pulumi project file: expected a mapping with name, "
                "runtime and a `config:` mapping of settings"
            )
        main = root / str(spec.get("main", "."))
        return cls(root=root, name=str(spec.get("name", root.name)), main=main / "__main__.py")

    def stack_file(self, stack: str) -> Path:
        return self.root / f"{STACK_FILE_PREFIX}{stack}{STACK_FILE_SUFFIX}"

    def stacks(self) -> list[str]:
        """Every stack with a Pulumi.<stack>.yaml here, sorted."""
        return sorted(
            p.name[len(STACK_FILE_PREFIX) : -len(STACK_FILE_SUFFIX)]
            for p in self.root.glob(f"{STACK_FILE_PREFIX}*{STACK_FILE_SUFFIX}")
        )

    def committed_stacks(self) -> list[str]:
        """The stacks whose Pulumi.<stack>.yaml git tracks (committed or staged), sorted: the ones
        a clean clone, and so CI, has. A developer's own untracked Pulumi.alice.yaml is not among
        them. Outside a git work tree (a copy, a tarball) every stack here counts."""
        pattern = f"{STACK_FILE_PREFIX}*{STACK_FILE_SUFFIX}"
        try:
            listed = subprocess.run(
                ["git", "-C", str(self.root), "ls-files", "-z", "--", pattern],
                capture_output=True,
                text=True,
                check=True,
                timeout=GIT_TIMEOUT_S,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return self.stacks()
        tracked = {
            name[len(STACK_FILE_PREFIX) : -len(STACK_FILE_SUFFIX)]
            for name in listed.split("\0")
            if name and "/" not in name  # git's * also matches across directories
        }
        return [s for s in self.stacks() if s in tracked]

    def check_stack(self, stack: str) -> None:
        known = self.stacks()
        if stack not in known:
            hint = f"stacks here: {', '.join(known)}" if known else "this project has no stacks"
            raise UsageError(
                f"no stack {stack!r}: {self.root / f'Pulumi.{stack}.yaml'} does not exist ({hint})"
            )


def find_project(start: Path | None = None) -> Project:
    """The nearest directory at or above `start` with a Pulumi.yaml, else this repository."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "Pulumi.yaml").is_file():
            return Project.at(directory)
    return Project.at(REPO_ROOT)


def pulumi_error_text(error: BaseException) -> str:
    """The error as `pulumi up` reports it: a RunError's message alone, anything else with its
    traceback (Pulumi's Python host prints an unhandled exception's traceback)."""
    if isinstance(error, pulumi.RunError):
        return str(error)
    trace = "".join(traceback.format_exception(error)).rstrip()
    return f"Program failed with an unhandled exception:\n{trace}"


def read_stack_file(project: Project, stack: str) -> dict[str, yaml.Node]:
    """The stack file's `config:` as {full key: YAML node}, after checking its shape: a mapping
    whose `config:` maps setting names to values. A file of another shape is a PlanError that
    names the file, not a traceback from deeper down."""
    path = project.stack_file(stack)
    name = path.name
    try:
        document = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise PlanError(f"{name} is not valid YAML: {err}") from None
    except OSError as err:
        raise PlanError(f"cannot read {path}: {err}") from None
    example = f"config:\n  {project.name}:cpu: 512"
    if document is None or _is_null(document):
        return {}
    if not isinstance(document, yaml.MappingNode):
        raise PlanError(
            f"{name} must be a mapping with a `config:` key, not {_kind(document)}; "
            f"for example:\n{example}"
        )
    config = next(
        (v for k, v in document.value if isinstance(k, yaml.ScalarNode) and k.value == "config"),
        None,
    )
    if config is None or _is_null(config):
        return {}
    if not isinstance(config, yaml.MappingNode):
        raise PlanError(
            f"{name}: `config:` must map setting names to values, not {_kind(config)}; "
            f"for example:\n{example}"
        )
    out = {}
    first: dict[str, tuple[str, int]] = {}  # full key -> (the key as first written, its line)
    twice = []
    for key, value in config.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
            raise PlanError(
                f"{name}: config key {_source(key)!r} (line {key.start_mark.line + 1}) is not a "
                f"setting name; write names such as {project.name}:cpu or aws:region"
            )
        full = key.value if ":" in key.value else f"{project.name}:{key.value}"
        line = key.start_mark.line + 1
        written, seen = first.setdefault(full, (key.value, line))
        if written != key.value:  # one bare, one namespaced
            at = {written: seen, key.value: line}
            setting = full.rpartition(":")[2]
            bare, namespaced = (f"line {at[setting]}", f"line {at[full]}")
            twice.append(given_twice(setting, project.name, stack, bare, namespaced))
        out[full] = value
    if twice:
        raise PlanError(
            f"{name} gives settings twice, which `pulumi up` would not refuse:\n"
            + "\n".join(PROBLEM_PREFIX + p for p in twice),
            twice,
        )
    return out


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a mapping" if isinstance(node, yaml.MappingNode) else f"the value {node.value!r}"


def _source(node: yaml.Node) -> str:
    return node.value if isinstance(node, yaml.ScalarNode) else _kind(node)


def _go_value(node: yaml.Node) -> Any:
    """The value as the Pulumi CLI checks it: a scalar is its text as written (the CLI reads
    `cpu: 512` and `cpu: "512"` alike, as the string 512), a list or mapping its JSON value."""
    if isinstance(node, yaml.ScalarNode):
        return "" if _is_null(node) else node.value
    return json.loads(json.dumps(yaml.safe_load(yaml.serialize(node)), default=str))


def _is_secure(node: yaml.Node) -> bool:
    return (
        isinstance(node, yaml.MappingNode)
        and len(node.value) == 1
        and node.value[0][0].value == SECURE_FIELD
    )


def _matches(type_name: str, items: Any, value: Any) -> bool:
    """Pulumi's ValidateConfigValue (sdk/go/common/workspace/project.go), for one value."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return value == int(value)
        return (
            isinstance(value, str)
            and GO_INT.fullmatch(value) is not None
            and -GO_INT_MAX - 1 <= int(value) <= GO_INT_MAX
        )
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(_matches(str(items.get("type")), items.get("items"), v) for v in value)


def _type_name(type_name: str, items: Any) -> str:
    """Pulumi's InferFullTypeName: array<string>, array<array<integer>>, ..."""
    if isinstance(items, dict):
        return f"array<{_type_name(str(items.get('type')), items.get('items'))}>"
    return type_name


def check_config_types(project: Project, stack: str, values: dict[str, yaml.Node]) -> None:
    """What the Pulumi CLI checks before it runs the program: each stack value against the type
    Pulumi.yaml declares for it, keys in sorted order, stopping at the first mismatch (so one
    error, not a list). Encrypted values cannot be decrypted offline and are not checked."""
    spec = yaml.safe_load((project.root / "Pulumi.yaml").read_text()) or {}
    schema = spec.get("config") or {}
    for key in sorted(schema):
        declared = schema[key]
        if not isinstance(declared, dict):
            continue  # shorthand `key: value`: a default or value, no type
        node = values.get(key if ":" in key else f"{project.name}:{key}")
        if node is None:
            continue  # the default applies, which Pulumi checks when it loads Pulumi.yaml
        problem = None
        if declared.get("secret") and not _is_secure(node):
            problem = PULUMI_SECRET_ERROR.format(stack=stack, key=key)
        elif (
            "type" in declared
            and not _is_secure(node)
            and not _matches(str(declared["type"]), declared.get("items"), _go_value(node))
        ):
            type_name = _type_name(str(declared["type"]), declared.get("items"))
            problem = PULUMI_TYPE_ERROR.format(stack=stack, key=key, type=type_name)
        if problem:
            raise PlanError(PULUMI_CONFIG_ERROR_PREFIX + problem, [problem])


def check_plain_secrets(project: Project, stack: str, values: dict[str, yaml.Node]) -> None:
    """Values of a secret map (secretValues) left in plain text beside encrypted ones. `pulumi up`
    cannot see them: the CLI marks the whole map secret once one value in it is, so the program's
    own check passes; the plan reads the stack file, and refuses them."""
    for key in sorted(SECRET_SETTINGS):
        node = values.get(f"{project.name}:{key}", values.get(key))
        if not isinstance(node, yaml.MappingNode) or not any(_is_secure(v) for _, v in node.value):
            continue  # all plain text: the program itself refuses it
        plain = [k.value for k, v in node.value if not _is_secure(v)]
        if plain:
            problems = [
                f"{key}.{name}: stored in plain text in Pulumi.{stack}.yaml; set it encrypted "
                f"with `pulumi config set --secret --path '{key}.{name}' VALUE`"
                for name in plain
            ]
            raise PlanError(
                f"Stack '{stack}': values in plain text beside encrypted ones, which `pulumi up` "
                "would accept:\n" + "\n".join(PROBLEM_PREFIX + p for p in problems),
                problems,
            )


def run_stack(project: Project, stack: str) -> ProgramRun:
    """Run the stack's program under the mocks; raise PlanError as `pulumi up` would fail:
    first the stack file's shape, then the CLI's own type check against Pulumi.yaml's schema,
    then the program (whose config validation reports every problem at once)."""
    project.check_stack(stack)
    values = read_stack_file(project, stack)
    check_config_types(project, stack, values)
    check_plain_secrets(project, stack, values)
    try:
        config = load_stack_config(project.root, stack)
    except yaml.YAMLError as err:  # e.g. a tag safe_load refuses
        raise PlanError(f"Pulumi.{stack}.yaml is not valid YAML: {err}") from None
    # Pulumi runs a program with its directory importable; so does the plan.
    if str(project.main.parent) not in sys.path:
        sys.path.insert(0, str(project.main.parent))
    # ...and from the project's directory, which the build paths are relative to (`main` may be a
    # link to a program elsewhere).
    run = run_program(
        project.main, project=project.name, stack=stack, config=config, cwd=project.root
    )
    if run.error is not None:
        text = pulumi_error_text(run.error)
        raise PlanError(text, listed_problems(text))
    return run


def _region(run: ProgramRun, config: dict[str, Any]) -> str:
    for r in run.resources:
        if r.type == "pulumi:providers:aws" and r.inputs.get("region"):
            return str(r.inputs["region"])
    return str(config.get("aws:region", "unknown"))


def _notes(run: ProgramRun, region: str) -> list[str]:
    """What the plan could not check offline, in plain words."""
    zones = {r.inputs.get("availabilityZone") for r in run.resources if r.type == SUBNET} - {None}
    if zones and region_az_count(region) is None:
        return [
            f"availabilityZones not checked: {region} is not in the offline table of Regions' "
            f"AZs (tools/mocks/regions.py, checked {AZS_CHECKED}), so the {len(zones)} AZs "
            "planned here are assumed to exist; `pulumi up` checks them against AWS"
        ]
    return []


def _waivers(config: dict[str, Any], project: str) -> dict[str, str]:
    """The stack's policyWaivers (policy -> reason): the controls the policy pack reports as
    advisory for it. The program has already refused a malformed one."""
    raw = config.get(f"{project}:policyWaivers")
    return dict(sorted(parse_map(raw).items())) if raw else {}


def plan_of(run: ProgramRun, project: Project) -> dict[str, Any]:
    """The plan of one program run, as plain data."""
    index = Index(run.resources, run.looked_up)
    config = load_stack_config(project.root, run.stack)
    region = _region(run, config)
    resources = tree.tree(index)
    custom = [r for r in run.resources if r.custom and not is_provider(r)]
    estimate = cost.estimate(index, region)
    deploys = deploy.model(index)
    return {
        "project": run.project,
        "stack": run.stack,
        "region": region,
        "notes": _notes(run, region),
        "summary": {
            "resources": len(custom),
            "components": sum(1 for r in run.resources if not r.custom),
            "monthly_idle_usd": estimate["total"],
            "deploy_seconds": deploys["total"],
            # ...and until ECS marks it completed, after watching the deployment alarms.
            "deploy_completed_seconds": deploys["until_completed"],
        },
        # What `pulumi up` prints as warnings (the stack's Dockerfile against its settings).
        "warnings": list(run.warnings),
        "resources": resources,
        "outputs": {
            key: "(known after deploy)"
            if isinstance(value, Unknown)
            else index.label(value, attribute=True)
            for key, value in sorted(run.outputs.items())
        },
        "cost": estimate,
        "deploy": deploys,
        "services": services.model(index, estimate, deploys),
        "waivers": _waivers(config, project.name),
    }


def build_plan(stack: str, project: Project | None = None) -> dict[str, Any]:
    project = project or find_project()
    return plan_of(run_stack(project, stack), project)
