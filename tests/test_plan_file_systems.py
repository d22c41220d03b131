"""The offline plan of a stack with a file system (tools/plan: the EFS formatters and prices).

What a user relies on: the plan shows each file system, that its files outlive the tasks, what it
bills by use (storage, elastic throughput) with the source and date of those prices, and that an
empty, idle one adds nothing to the idle cost; each task definition says which file system it
mounts, where, and how (read-only, TLS, IAM through the access point).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.plan import cost, model, render
from tools.urns import run_variant

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return model.plan_of(run_variant("prod-files"), model.Project.at(ROOT))


def settings(plan: dict[str, Any], name: str, type_token: str) -> dict[str, str]:
    [found] = [r for r in plan["resources"] if r["name"] == name and r["type"] == type_token]
    return found["settings"]


def test_the_file_system_says_its_files_outlive_the_tasks(plan: dict[str, Any]) -> None:
    shown = settings(plan, "shared-efs", "aws:efs/fileSystem:FileSystem")
    assert "kept when tasks stop" in shown["files"]
    assert shown["encrypted at rest"] == "yes"
    assert shown["throughput"] == "elastic"
    assert shown["infrequent access"].startswith("after 30 days without access")


def test_what_a_file_system_bills_by_is_named_with_its_source_and_date(
    plan: dict[str, Any],
) -> None:
    named = [e for e in plan["cost"]["excluded"] if e.startswith("EFS storage")]
    assert len(named) == 1, plan["cost"]["excluded"]
    for words in ("/GB-month Standard", "/GB read", "/GB written", "costs $0",
                  cost.EFS_PRICING, cost.EFS_PRICES_CHECKED):  # fmt: skip
        assert words in named[0], f"{words!r} missing from {named[0]!r}"
    assert "Not included" in render.render(plan)


def test_an_empty_idle_file_system_adds_nothing_to_the_idle_cost(plan: dict[str, Any]) -> None:
    efs = [
        line for line in plan["cost"]["lines"] if "efs" in line["resource"] or "EFS" in line["item"]
    ]
    assert efs == [], efs


def test_each_task_definition_says_what_it_mounts_and_how(plan: dict[str, Any]) -> None:
    web = settings(plan, "files-task", "aws:ecs/taskDefinition:TaskDefinition")
    assert web["app: file systems"] == (
        "/data: shared-efs through shared-efs-ap (read-only, TLS, IAM)"
    ), web["app: file systems"]
    app = settings(plan, "app-task", "aws:ecs/taskDefinition:TaskDefinition")
    assert "(read-write, TLS, IAM)" in app["app: file systems"]


def test_the_access_point_says_whom_it_acts_as(plan: dict[str, Any]) -> None:
    shown = settings(plan, "shared-efs-ap", "aws:efs/accessPoint:AccessPoint")
    assert shown["acts as"] == "10001:10001"
    assert shown["directory"].startswith("/shared (created 10001:10001 0750)")


def test_a_stack_without_file_systems_plans_no_efs_line() -> None:
    text = (ROOT / "tests" / "snapshots" / "prod.txt").read_text()
    assert "EFS" not in text and "file systems:" not in text


def test_a_file_system_nothing_mounts_is_a_warning_in_the_plan(run_stack) -> None:
    plan = model.plan_of(run_stack("dev", {"fileSystems": {"spare": {}}}), model.Project.at(ROOT))
    assert any("fileSystems.spare" in w and "no task mounts it" in w for w in plan["warnings"])
    assert "fileSystems.spare: no task mounts it" in render.render(plan)
