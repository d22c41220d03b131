"""The offline plan of a stack of several services (tools/plan/services.py and the formatters of
the new resource types).

What a user relies on: the plan shows each service with its kind, idle tasks, its own monthly cost
and its deploy, and what is shared; the costs add up to the stack's total; each new resource says
what it does (queues, Cloud Map, Service Connect, the worker's scaling); a single-service stack's
plan is as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.plan import model, render
from tools.urns import run_variant

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return model.plan_of(run_variant("dev-services"), model.Project.at(ROOT))


@pytest.fixture(scope="module")
def text(plan: dict[str, Any]) -> str:
    return render.render(plan)


def settings(plan: dict[str, Any], name: str) -> dict[str, str]:
    [found] = [r for r in plan["resources"] if r["name"] == name and not r["component"]]
    return found["settings"]


def test_each_service_is_listed_with_its_kind(plan: dict[str, Any]) -> None:
    kinds = {s["name"]: s["kind"] for s in plan["services"]["services"]}
    assert kinds == {
        "app": "web",
        "api": "web",
        "admin": "web",
        "search": "internal",
        "mailer": "worker",
    }, kinds


def test_the_services_and_the_shared_cost_add_up_to_the_total(plan: dict[str, Any]) -> None:
    services = plan["services"]
    parts = [s["monthly_idle_usd"] for s in services["services"]]
    total = sum(parts) + services["shared_monthly_idle_usd"]
    assert round(total, 2) == round(plan["cost"]["total"], 2), (parts, plan["cost"]["total"])


def test_an_idle_worker_runs_no_task(plan: dict[str, Any]) -> None:
    [mailer] = [s for s in plan["services"]["services"] if s["name"] == "mailer"]
    assert mailer["idle_tasks"] == 0
    fargate = [
        line
        for line in plan["cost"]["lines"]
        if line["resource"] == "mailer-svc" and line["item"].startswith("Fargate")
    ]
    assert not fargate, fargate


def test_each_services_deploy_is_its_own(plan: dict[str, Any]) -> None:
    deploys = {s["name"]: s["deploy_seconds"] for s in plan["services"]["services"]}
    assert deploys["search"] < deploys["api"], "no target group to pass: a shorter deploy"


def test_the_text_has_a_services_section(text: str) -> None:
    section = text.split("Services:", 1)[1].split("Monthly idle cost", 1)[0]
    for name in ("app", "api", "admin", "search", "mailer", "shared"):
        assert f"\n  {name} " in section, f"{name} missing from:\n{section}"


def test_a_single_service_stack_has_no_services_section(run_stack) -> None:
    plan = model.plan_of(run_stack("dev"), model.Project.at(ROOT))
    assert "Services:" not in render.render(plan)


def test_the_plan_shows_service_connect_and_the_proxys_room(plan: dict[str, Any]) -> None:
    assert "publishes http://search:8080" in settings(plan, "search-svc")["service connect"]
    assert "+256 CPU units" in settings(plan, "app-svc")["service connect"]


def test_the_plan_shows_the_queue_and_its_dead_letters(plan: dict[str, Any]) -> None:
    queue = settings(plan, "mailer-queue")
    assert queue["encryption"].startswith("SQS-managed")
    assert queue["dead letters"] == "to mailer-dlq after 5 receives", queue


def test_the_plan_shows_how_a_worker_scales(plan: dict[str, Any]) -> None:
    assert "per running task" in settings(plan, "mailer-backlog")["holds"]
    assert settings(plan, "mailer-from-zero")["when"] == "mailer-idle-with-work"


def test_the_plan_names_cloud_maps_charges_as_excluded(plan: dict[str, Any]) -> None:
    assert any("Cloud Map" in e for e in plan["cost"]["excluded"]), plan["cost"]["excluded"]


def test_each_service_says_who_its_container_runs_as(plan: dict[str, Any]) -> None:
    for s in plan["services"]["services"]:
        assert (s["user"], s["read_only_root"], s["writable_paths"]) == (
            "10001:10001",
            True,
            ["/tmp"],
        ), f"{s['name']}: {s}"


def test_the_services_section_shows_each_containers_user_and_writable_paths(run_stack) -> None:
    overrides = {
        "services": {
            "vendor": {"type": "internal", "containerPort": 8080, "containerUser": "image"},
            "cache": {"type": "worker", "readOnlyRootFilesystem": False},
        },
        "policyWaivers": {
            "ecs-container-non-root-user": "the vendor image picks its own user at start",
            "ecs-container-read-only-root": "the cache writes under its own install directory",
        },
    }
    text = render.render(model.plan_of(run_stack("dev", overrides), model.Project.at(ROOT)))
    section = text.split("Services:", 1)[1].split("Monthly idle cost", 1)[0]
    lines = section.splitlines()
    after = {line.split()[0]: lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if line}
    assert after["app"] == "runs as 10001:10001, read-only root, writes /tmp", section
    assert after["vendor"] == "runs as the image's own user, read-only root, writes /tmp", section
    assert after["cache"] == "runs as 10001:10001, writes anywhere (writable root)", section
