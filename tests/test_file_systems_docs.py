"""docs/file-systems.md stays true: its example is a config the program plans, its fields and
prices are the code's; docs/services.md's worked example shares a file system between a web
service and a nightly job."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from components.spec import DEFAULT_INFREQUENT_ACCESS_DAYS, INFREQUENT_ACCESS_DAYS
from stack_config.file_systems import FILE_SYSTEM_FIELDS, MOUNT_FIELDS
from tests.test_services_docs import example as services_example
from tools.plan import cost

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "file-systems.md"
FENCED = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def page() -> str:
    return PAGE.read_text()


def example() -> dict[str, Any]:
    language, body = FENCED.search(page()).groups()  # type: ignore[union-attr]
    assert language == "yaml"
    return yaml.safe_load(body)["config"]


def test_the_pages_example_plans(run_stack) -> None:
    run = run_stack("dev", example())
    assert run.error is None, run.error
    assert run.of_type("aws:efs/fileSystem:FileSystem"), "the example creates no file system"
    assert run.warnings == [], run.warnings


def test_the_page_lists_every_field_and_its_choices() -> None:
    text = page()
    for name in (*FILE_SYSTEM_FIELDS, *MOUNT_FIELDS):
        assert f"`{name}`" in text, f"{name} is not on the page"
    assert ", ".join(map(str, INFREQUENT_ACCESS_DAYS[:-1])) in text
    assert f"| {DEFAULT_INFREQUENT_ACCESS_DAYS} |" in text


def test_the_pages_prices_are_the_plans() -> None:
    text = page()
    for price in (
        cost.EFS_STANDARD_GB_MONTH.usd,
        cost.EFS_INFREQUENT_GB_MONTH.usd,
        cost.EFS_INFREQUENT_READ_GB,
        cost.EFS_ELASTIC_READ_GB,
        cost.EFS_ELASTIC_WRITE_GB,
    ):
        assert f"${price}" in text, f"${price} is not on the page"
    assert cost.EFS_PRICES_CHECKED in text


def test_the_services_worked_example_shares_a_file_system_between_a_web_service_and_a_job() -> None:
    config = services_example()
    services = config["fargate-app:services"]
    jobs = config["fargate-app:scheduledTasks"]
    web = {m for s in services.values() if s["type"] == "web" for m in s.get("mounts", {})}
    nightly = {m for j in jobs.values() for m in j.get("mounts", {})}
    assert web & nightly & set(config["fargate-app:fileSystems"]), (web, nightly)
