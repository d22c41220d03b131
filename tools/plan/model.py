"""Run a stack's program offline and turn what it registered into a plan (plain, JSON-ready data).

The project is the directory holding Pulumi.yaml (the working directory, like the Pulumi CLI, else
this repository); a stack is any Pulumi.<stack>.yaml beside it. The program runs under the shared
mocks in tools/mocks.py with the stack's config (Pulumi.yaml defaults under the stack's values),
exactly as the tests run it. Nothing here calls AWS, Docker or the Pulumi CLI.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml

from tools.mocks import ProgramRun, Unknown, load_stack_config, run_program
from tools.plan import cost, deploy, tree
from tools.plan.refs import Index, is_provider

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_FILE_PREFIX, STACK_FILE_SUFFIX = "Pulumi.", ".yaml"
PROBLEM_PREFIX = "  - "  # how stack_config.ConfigError lists each problem


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
        main = root / str(spec.get("main", "."))
        return cls(root=root, name=str(spec.get("name", root.name)), main=main / "__main__.py")

    def stacks(self) -> list[str]:
        """Every stack with a Pulumi.<stack>.yaml here, sorted."""
        return sorted(
            p.name[len(STACK_FILE_PREFIX) : -len(STACK_FILE_SUFFIX)]
            for p in self.root.glob(f"{STACK_FILE_PREFIX}*{STACK_FILE_SUFFIX}")
        )

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


def run_stack(project: Project, stack: str) -> ProgramRun:
    """Run the stack's program under the mocks; raise PlanError as `pulumi up` would fail."""
    project.check_stack(stack)
    try:
        config = load_stack_config(project.root, stack)
    except yaml.YAMLError as err:
        raise PlanError(f"Pulumi.{stack}.yaml is not valid YAML: {err}") from None
    # Pulumi runs a program with its directory importable; so does the plan.
    if str(project.main.parent) not in sys.path:
        sys.path.insert(0, str(project.main.parent))
    run = run_program(project.main, project=project.name, stack=stack, config=config)
    if run.error is not None:
        text = pulumi_error_text(run.error)
        problems = [
            line[len(PROBLEM_PREFIX) :]
            for line in text.splitlines()
            if line.startswith(PROBLEM_PREFIX)
        ]
        raise PlanError(text, problems)
    return run


def _region(run: ProgramRun, config: dict[str, Any]) -> str:
    for r in run.resources:
        if r.type == "pulumi:providers:aws" and r.inputs.get("region"):
            return str(r.inputs["region"])
    return str(config.get("aws:region", "unknown"))


def plan_of(run: ProgramRun, project: Project) -> dict[str, Any]:
    """The plan of one program run, as plain data."""
    index = Index(run.resources)
    region = _region(run, load_stack_config(project.root, run.stack))
    resources = tree.tree(index)
    custom = [r for r in run.resources if r.custom and not is_provider(r)]
    estimate = cost.estimate(index, region)
    deploys = deploy.model(index)
    return {
        "project": run.project,
        "stack": run.stack,
        "region": region,
        "summary": {
            "resources": len(custom),
            "components": sum(1 for r in run.resources if not r.custom),
            "monthly_idle_usd": estimate["total"],
            "deploy_seconds": deploys["total"],
            # ...and until ECS marks it completed, after watching the deployment alarms.
            "deploy_completed_seconds": deploys["until_completed"],
        },
        "resources": resources,
        "outputs": {
            key: "(known after deploy)"
            if isinstance(value, Unknown)
            else index.label(value, attribute=True)
            for key, value in sorted(run.outputs.items())
        },
        "cost": estimate,
        "deploy": deploys,
    }


def build_plan(stack: str, project: Project | None = None) -> dict[str, Any]:
    project = project or find_project()
    return plan_of(run_stack(project, stack), project)
