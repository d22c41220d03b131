"""Pulumi.<stack>.yaml as the Pulumi CLI hands it to a program: the project's defaults under the
stack's values, namespaced keys, string values, and secrets decrypted (offline, placeholders).

Reads files and nothing else: no Pulumi engine, no mocks. The harness (harness.py) passes what
these functions return to `pulumi.runtime.set_all_config`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Secure:
    """A config value kept encrypted (`pulumi config set --secret`): the program gets the plain
    value, and its key is among the secret keys, as the CLI hands them over."""

    value: Any


# Pulumi.<stack>.yaml's form of an encrypted value. Offline there is no key to decrypt it, so the
# program gets a placeholder: any non-empty string, or one of the right form where a setting's
# form is checked.
SECURE_FIELD = "secure"
OFFLINE_SECRET = "secret-not-decrypted-offline"
OFFLINE_SECRET_PLACEHOLDERS = {"alarmEmail": "secret-not-decrypted@offline.invalid"}


def _reveal(value: Any, placeholder: str) -> tuple[Any, bool]:
    """`value` as the program sees it, and whether any of it was a secret."""
    if isinstance(value, Secure):
        return _reveal(value.value, placeholder)[0], True
    if isinstance(value, dict):
        if set(value) == {SECURE_FIELD} and isinstance(value[SECURE_FIELD], str):
            return placeholder, True
        pairs = {k: _reveal(v, OFFLINE_SECRET) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_reveal(v, OFFLINE_SECRET) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _runtime_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def config_for_runtime(project: str, config: Mapping[str, Any]) -> dict[str, str]:
    """Config as the Pulumi CLI hands it to a program: namespaced keys, string values, JSON for
    maps and lists (Pulumi.<stack>.yaml's `fargate-app:cpu: 256` arrives as "256"), secrets
    decrypted (`Secure` values; `{secure: ...}` ones become placeholders offline).

    A setting given both bare and namespaced is handed over in both forms: the CLI would pass one
    of the two, which one is not defined, and the program's config check refuses the pair."""
    out = {}
    for key, value in config.items():
        full = _full_key(project, key)
        name = key if key != full and full in config else full  # both forms: both handed over
        placeholder = OFFLINE_SECRET_PLACEHOLDERS.get(full.rpartition(":")[2], OFFLINE_SECRET)
        out[name] = _runtime_value(_reveal(value, placeholder)[0])
    return out


def config_secret_keys(project: str, config: Mapping[str, Any]) -> list[str]:
    """The keys whose values are (or hold) secrets, as the CLI lists them in
    PULUMI_CONFIG_SECRET_KEYS."""
    return sorted(_full_key(project, key) for key, value in config.items() if _reveal(value, "")[1])


def load_stack_config(project_dir: str | Path, stack: str) -> dict[str, Any]:
    """A committed stack's config (Pulumi.<stack>.yaml), with Pulumi.yaml's defaults under it."""

    project_dir = Path(project_dir)
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    name = project["name"]

    def full(key: str) -> str:
        return key if ":" in key else f"{name}:{key}"

    values: dict[str, Any] = {}
    for key, decl in (project.get("config") or {}).items():
        if isinstance(decl, dict) and "default" in decl:
            values[full(key)] = decl["default"]
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    stack_values = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    for key, value in stack_values.items():
        given_twice = key != full(key) and full(key) in stack_values
        # Both forms stay as written, for the program's config check to refuse the pair.
        values[key if given_twice else full(key)] = value
    return values
