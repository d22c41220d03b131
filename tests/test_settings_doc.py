"""Pulumi.yaml's config schema and docs/settings.md's table say what stack_config.SETTINGS says."""

from __future__ import annotations

import re

import yaml

from components.spec import FARGATE_MEMORY_BY_CPU
from stack_config import SETTINGS
from tools import settings_doc

SIZE_ROW = re.compile(r"^\| (\d+) \| ([^|]+) \|$")  # a row of the page's Fargate table


def test_pulumi_yaml_and_the_settings_page_are_in_step_with_the_settings():
    assert settings_doc.main([]) == 0, "run `python -m tools.settings_doc --write`"


def test_pulumi_yaml_declares_every_typed_setting_with_its_default():
    declared = yaml.safe_load((settings_doc.ROOT / "Pulumi.yaml").read_text())["config"]
    typed = {s.key: s for s in SETTINGS if s.type != "map"}
    assert set(declared) == set(typed)
    for key, decl in declared.items():
        assert decl["type"] == typed[key].type, key
        assert decl["default"] == typed[key].default, key
        assert decl["description"] == typed[key].description, key


def test_the_settings_page_lists_every_setting_including_maps():
    page = settings_doc.SETTINGS_PAGE.read_text()
    for setting in SETTINGS:
        assert f"| `{setting.key}` | {setting.type} |" in page, (
            f"{setting.key} is missing from the table in docs/settings.md"
        )


def memory_from_page(cell: str) -> tuple[int, ...]:
    """A memory cell of the page's Fargate table back to its MiB choices."""
    if ", in steps of " in cell:
        span, step = cell.split(", in steps of ")
        low, high = (int(x) for x in span.split("-"))
        return tuple(range(low, high + 1, int(step)))
    return tuple(int(x) for x in cell.split(", "))


def test_the_limits_on_the_settings_page_list_every_fargate_size_the_config_accepts():
    page = settings_doc.SETTINGS_PAGE.read_text()
    limits = page[page.index(settings_doc.LIMITS_BEGIN) : page.index(settings_doc.LIMITS_END)]
    rows = (SIZE_ROW.match(line) for line in limits.splitlines())
    on_page = {int(row[1]): memory_from_page(row[2]) for row in rows if row}
    assert on_page == FARGATE_MEMORY_BY_CPU, (
        "docs/settings.md's Fargate sizes differ from what the config accepts"
    )


def test_the_limits_follow_the_constants_they_come_from(monkeypatch):
    """A changed limit in components.spec makes the page stale, so the check above catches it."""
    monkeypatch.setattr(settings_doc, "MAX_AZS", 5)
    assert settings_doc.main([]) == 1, "the page did not go stale when MAX_AZS changed"
