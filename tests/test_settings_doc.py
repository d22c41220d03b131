"""Pulumi.yaml's config schema and docs/settings.md's table say what stack_config.SETTINGS says."""

from __future__ import annotations

import yaml

from stack_config import SETTINGS
from tools import settings_doc


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
