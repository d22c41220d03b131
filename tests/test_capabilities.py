"""keepCapabilities: the Linux capabilities a stack's containers keep (issue 14's review, item 11).

What a user relies on: by default every container drops every capability; a stack that names
capabilities of the runtime's default set keeps exactly those, in every container it runs (the
main service, its jobs and every service of `services`), and still adds none, so the pack's
ecs-no-added-capabilities holds; anything else (a capability outside the default set, which would
have to be added, or a misspelling) is refused before anything is created; the plan says what is
kept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.spec import LINUX_CAPABILITIES, RUNTIME_DEFAULT_CAPABILITIES
from stack_config import ConfigError, load_config
from tests.policy_fixtures import check, resources_from_run
from tools.mocks import ProgramRun
from tools.plan.refs import Index
from tools.plan.tree import tree

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
KEEP = {
    "SETUID": "the image's entrypoint drops from root to its user",
    "SETGID": "the image's entrypoint drops from root to its group",
}
WITH_EVERY_CONTAINER = {
    "keepCapabilities": KEEP,
    "scheduledTasks": {"nightly": {"schedule": "rate(1 day)", "command": "python -m nightly"}},
    "services": {"mailer": {"type": "worker", "command": "python -m mailer"}},
}


def problems_with(keep: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config({"aws:region": "us-east-1", "keepCapabilities": keep}, stack="test")
    return [p for p in caught.value.problems if p.startswith("keepCapabilities.")]


def capabilities_of(run: ProgramRun) -> dict[str, Any]:
    """Each task definition's containers' capabilities, by the task definition's name."""
    return {
        r.name: [
            c.get("linuxParameters", {}).get("capabilities")
            for c in json.loads(r.inputs["containerDefinitions"])
        ]
        for r in run.of_type(TASK_DEFINITION)
    }


def test_the_runtime_default_set_is_named_as_ecs_names_capabilities() -> None:
    assert set(RUNTIME_DEFAULT_CAPABILITIES) <= set(LINUX_CAPABILITIES)


def test_every_container_keeps_exactly_the_named_capabilities(run_stack) -> None:
    run = run_stack("dev", WITH_EVERY_CONTAINER)
    others = [c for c in RUNTIME_DEFAULT_CAPABILITIES if c not in KEEP]
    found = capabilities_of(run)
    assert len(found) >= 3, f"expected the service's, the job's and the worker's: {list(found)}"
    for name, containers in found.items():
        assert containers == [{"drop": others}], (
            f"{name} should drop every default capability but {sorted(KEEP)}: {containers}"
        )


def test_without_the_setting_every_container_drops_all(run_stack) -> None:
    run = run_stack(
        "dev", {k: v for k, v in WITH_EVERY_CONTAINER.items() if k != "keepCapabilities"}
    )
    for name, containers in capabilities_of(run).items():
        assert containers == [{"drop": ["ALL"]}], f"{name}: {containers}"


def test_keeping_capabilities_adds_none_so_the_pack_still_passes(run_stack) -> None:
    run = run_stack("prod", WITH_EVERY_CONTAINER)
    outcome = check("ecs-no-added-capabilities", resources_from_run(run))
    assert not outcome.findings, outcome.report()


def test_the_plan_says_what_the_containers_keep(run_stack) -> None:
    run = run_stack("dev", {"keepCapabilities": KEEP})
    [row] = [
        r
        for r in tree(Index(run.resources))
        if r["name"] == "app-task" and r["type"] == TASK_DEFINITION
    ]
    assert row["settings"]["app: linux capabilities"] == (
        "keeps only SETGID, SETUID of the runtime's default set"
    )


@pytest.mark.parametrize("capability", ["SYS_PTRACE", "SYS_ADMIN", "NET_ADMIN"])
def test_a_capability_outside_the_default_set_is_refused_as_an_addition(capability: str) -> None:
    [found] = problems_with({capability: "the profiler attaches to the app"})
    assert "Fargate admits adding only SYS_PTRACE" in found, found
    assert "ecs-no-added-capabilities" in found, found


@pytest.mark.parametrize(("given", "meant"), [("cap_chown", "CHOWN"), ("SETUDI", "SETUID")])
def test_a_misspelt_capability_is_refused_with_the_likely_name(given: str, meant: str) -> None:
    [found] = problems_with({given: "the entrypoint needs it"})
    assert f"did you mean `{meant}`?" in found, found


def test_all_cannot_be_kept() -> None:
    [found] = problems_with({"ALL": "the entrypoint needs everything"})
    assert "name one capability of the runtime's default set" in found, found


def test_a_kept_capability_says_why() -> None:
    [found] = problems_with({"CHOWN": "needed"})
    assert "say why the container needs it" in found, found
