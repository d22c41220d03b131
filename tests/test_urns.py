"""No resource's URN changes unnoticed (tools/urns.py; fixtures in tests/snapshots/*.urns).

What a user relies on: `pulumi up` after an upgrade of this program updates the resources they
have, never deletes and recreates one because its type, name or parent chain moved. The committed
stacks and variants that switch on every optional component (scheduled jobs, blueGreen, canary,
a domain, a certificate, secrets, exec, VPC endpoints) are held, as `pulumi up` and as `pulumi
preview` registers them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.mocks import ProgramRun
from tools.urns import UPDATE_COMMAND, VARIANTS, fixture_path, read_fixture, urns, variant_config

COMPONENTS = Path(__file__).resolve().parent.parent / "components"
COMPONENT_TYPE = re.compile(r'super\(\).__init__\(\s*"(fargate-app:[^"]+)"')


def _run(run_config, name: str, *, preview: bool = False) -> ProgramRun:
    return run_config(variant_config(name), stack=VARIANTS[name].stack, preview=preview)


def _explain(name: str, found: list[str], held: list[str]) -> str:
    added = sorted(set(found) - set(held))
    gone = sorted(set(held) - set(found))
    lines = [f"the URNs of {name} changed: `pulumi up` would delete and recreate these resources"]
    lines += [f"  missing: {u}" for u in gone] + [f"  new:     {u}" for u in added]
    lines.append(f"keep a renamed resource with an alias; if intended, run `{UPDATE_COMMAND}`")
    return "\n".join(lines)


@pytest.mark.parametrize("name", VARIANTS)
def test_every_urn_stays_as_committed(run_config, name: str) -> None:
    path = fixture_path(name)
    assert path.exists(), f"no URN fixture {path.name}: run `{UPDATE_COMMAND}` and commit it"
    found, held = urns(_run(run_config, name)), read_fixture(name)
    assert found == held, _explain(name, found, held)


@pytest.mark.parametrize("name", ["dev", "prod", "prod-all", "dev-cloudfront"])
def test_a_preview_registers_the_same_urns(run_config, name: str) -> None:
    found = urns(_run(run_config, name, preview=True))
    assert found == read_fixture(name), _explain(f"{name} (preview)", found, read_fixture(name))


def test_the_variants_create_every_component_type() -> None:
    """A component type no variant creates would have URNs no fixture holds."""
    held = {
        urn.split("::")[2].rsplit("$", 1)[-1] for name in VARIANTS for urn in read_fixture(name)
    }
    declared = {
        token
        for source in COMPONENTS.glob("*.py")
        for token in COMPONENT_TYPE.findall(source.read_text())
    }
    assert declared, f"no component type found in {COMPONENTS}"
    missing = sorted(declared - held)
    assert not missing, f"no variant in tools/urns.py creates {missing}"
