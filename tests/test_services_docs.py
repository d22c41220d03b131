"""docs/services.md stays true: its worked example is a config the program plans, its plan
excerpt is what the plan prints for it, and its tables and limits are the code's.

The example is read from the page itself (the YAML block after the `services-example` marker), so
the page cannot drift from what the tests plan.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.spec import STACK_COMPONENTS, WEB, WORKER, service_name_max
from stack_config.services import SERVICE_FIELDS
from tools.mocks import ProgramRun
from tools.plan import model, render

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "services.md"
MARKER = "<!-- services-example"
FENCED = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def page() -> str:
    return PAGE.read_text()


def example() -> dict[str, Any]:
    """The `config:` of the page's worked example."""
    after = page().split(MARKER, 1)[1]
    language, body = FENCED.search(after).groups()  # type: ignore[union-attr]
    assert language == "yaml", f"the example after the marker is {language}, not yaml"
    return yaml.safe_load(body)["config"]


def plan_excerpt() -> list[str]:
    """The Services lines of the page's `python -m tools.plan` console block."""
    for language, body in FENCED.findall(page()):
        if language == "console" and "python -m tools.plan" in body:
            lines = body.splitlines()
            start = next(i for i, line in enumerate(lines) if line.startswith("Services:"))
            return lines[start:]
    raise AssertionError("docs/services.md has no plan excerpt")


@pytest.fixture(scope="module", params=[False, True], ids=["up", "preview"])
def run(request: pytest.FixtureRequest, run_stack) -> ProgramRun:
    return run_stack("dev", example(), preview=request.param)


def test_the_worked_example_has_a_site_an_api_an_internal_service_and_a_worker() -> None:
    kinds = sorted(s["type"] for s in example()["fargate-app:services"].values())
    assert kinds == ["internal", "web", "worker"], kinds


def test_the_worked_example_plans(run: ProgramRun) -> None:
    assert run.error is None, run.error
    if not run.preview:
        services = run.outputs["services"]
        assert set(services) == set(example()["fargate-app:services"]), set(services)


def test_the_plan_excerpt_is_what_the_plan_prints(run_stack) -> None:
    plan = model.plan_of(run_stack("dev", example()), model.Project.at(ROOT))
    text = render.render(plan).splitlines()
    for line in plan_excerpt():
        assert line in text, f"docs/services.md shows {line!r}; the plan prints:\n" + "\n".join(
            t for t in text if t.startswith(("Services", "  "))
        )


def test_the_fields_table_lists_every_field() -> None:
    table = {m for m in re.findall(r"^\| `([^|]+)` \|", page(), flags=re.MULTILINE)}
    listed = {name.strip("` ") for row in table for name in row.split("`, `")}
    assert set(SERVICE_FIELDS) <= listed, f"fields missing: {set(SERVICE_FIELDS) - listed}"


def test_the_names_section_states_the_codes_limits_and_taken_names() -> None:
    text = page()
    for limit in (
        service_name_max(WEB, shifts=False),
        service_name_max(WEB, shifts=True),
        service_name_max(WORKER, shifts=False),
    ):
        assert str(limit) in text, f"the limit {limit} is not on the page"
    for name in STACK_COMPONENTS:
        assert f"`{name}`" in text, f"the taken name {name} is not on the page"
