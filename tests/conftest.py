"""Shared fixtures: run the program (or one component) under the shared AWS-like mocks.

The mocks themselves live in tools/mocks/; this file only decides *what* to run and caches the
runs, so the whole-program tests stay fast. Every run is deterministic, so a cached run is as good
as a fresh one; tests must treat a `ProgramRun` as read-only.

- `run_stack(stack, overrides, preview=)`: `__main__.py` with a committed stack's config
  (Pulumi.yaml's defaults under Pulumi.<stack>.yaml), optionally with some settings changed.
- `run_config(config, project=, stack=, preview=, az_count=)`: `__main__.py` with exactly `config`.
- `run_component(build, preview=)`: just what `build()` creates (a component in isolation).
- `dev`, `prod`, `dev_preview`, `prod_preview`: the committed stacks, run once per session.
- `pulumi_mocks`: installs the mocks for a `@pulumi.runtime.test` test and restores the runtime
  after; yields the recording monitor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings

from tools.mocks import (
    AwsMocks,
    ProgramRun,
    RecordingMonitor,
    load_stack_config,
    run_program,
)
from tools.plan.model import Project

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
PROJECT = "fargate-app"
# The stacks git tracks, as in CI's clean clone (tools.plan's rule): an untracked
# Pulumi.alice.yaml gets no test. Parametrize over this rather than naming stacks.
STACKS = tuple(Project.at(ROOT).committed_stacks())

RunStack = Callable[..., ProgramRun]


def _checked(run: ProgramRun, check: bool, what: str) -> ProgramRun:
    if check and run.error is not None:
        raise AssertionError(f"{what} failed under the mocks: {run.error}")
    return run


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@pytest.fixture(scope="session")
def run_config() -> RunStack:
    """Runs __main__.py with exactly `config` (bare keys are the project's; add `aws:region`)."""
    cache: dict[str, ProgramRun] = {}

    def run(
        config: Mapping[str, Any],
        *,
        project: str = PROJECT,
        stack: str = "test",
        preview: bool = False,
        az_count: int | None = None,
        check: bool = True,
    ) -> ProgramRun:
        key = _key([dict(config), project, stack, preview, az_count])
        if key not in cache:
            cache[key] = run_program(
                PROGRAM,
                project=project,
                stack=stack,
                config=config,
                preview=preview,
                az_count=az_count,
                cwd=ROOT,
            )
        return _checked(cache[key], check, f"stack {stack!r} with config {dict(config)}")

    return run


@pytest.fixture(scope="session")
def run_stack(run_config: RunStack) -> RunStack:
    """Runs __main__.py for a committed stack, with `overrides` (bare or namespaced keys) on top."""

    def run(
        stack: str,
        overrides: Mapping[str, Any] | None = None,
        *,
        preview: bool = False,
        az_count: int | None = None,
        check: bool = True,
    ) -> ProgramRun:
        config = load_stack_config(ROOT, stack)
        for key, value in (overrides or {}).items():
            config[key if ":" in key else f"{PROJECT}:{key}"] = value
        return run_config(config, stack=stack, preview=preview, az_count=az_count, check=check)

    return run


@pytest.fixture(scope="session")
def run_component() -> Callable[..., ProgramRun]:
    """Runs `build` (which creates one component) alone under the mocks; not cached."""

    def run(
        build: Callable[[], Any],
        *,
        stack: str = "test",
        preview: bool = False,
        az_count: int | None = None,
        check: bool = True,
    ) -> ProgramRun:
        result = run_program(
            build, project=PROJECT, stack=stack, preview=preview, az_count=az_count, cwd=ROOT
        )
        return _checked(result, check, "the component")

    return run


@pytest.fixture(scope="session")
def dev(run_stack: RunStack) -> ProgramRun:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod(run_stack: RunStack) -> ProgramRun:
    return run_stack("prod")


@pytest.fixture(scope="session")
def dev_preview(run_stack: RunStack) -> ProgramRun:
    return run_stack("dev", preview=True)


@pytest.fixture(scope="session")
def prod_preview(run_stack: RunStack) -> ProgramRun:
    return run_stack("prod", preview=True)


@pytest.fixture
def pulumi_mocks() -> Iterator[RecordingMonitor]:
    """The shared mocks installed for a `@pulumi.runtime.test` test (stack "test", us-east-1)."""
    mocks = AwsMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config({})
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=False, monitor=monitor)
    yield monitor
    settings.ROOT.set(None)
    pulumi.runtime.set_all_config({})
