"""What the config contract and the components share (components/spec.py, stack_config/).

What a user relies on: the config can be loaded and checked without Pulumi's SDK (a tool, a test or
a pre-commit hook imports it in milliseconds, and the lazy `import pulumi` in `from_pulumi` means
something); and each default, limit and list of choices is written once, so the settings table, the
components and the plan never disagree about it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PULUMI_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_docker")


def modules_loaded_by(statement: str) -> list[str]:
    """The Pulumi modules a fresh interpreter has loaded after running `statement`."""
    probe = (
        f"{statement}\n"
        "import json, sys\n"
        f"found = [m for m in sys.modules if m.split('.')[0] in {PULUMI_PACKAGES!r}]\n"
        "print(json.dumps(sorted(found)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"`{statement}` failed in a fresh interpreter:\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    "statement",
    [
        "import stack_config",
        "from stack_config import load_config, ConfigError, SETTINGS, StackConfig",
        "import components.spec",
        "import components",
    ],
)
def test_the_config_contract_loads_no_pulumi_module(statement: str) -> None:
    loaded = modules_loaded_by(statement)
    assert not loaded, f"`{statement}` loads {loaded[:5]}...: it must not need Pulumi's SDK"


def test_loading_a_config_needs_no_pulumi_module() -> None:
    loaded = modules_loaded_by(
        "from stack_config import load_config\n"
        "load_config({'aws:region': 'us-east-1', 'scheduledTasks': "
        "{'job': {'schedule': 'rate(1 day)', 'command': 'true'}}}, stack='test')"
    )
    assert not loaded, f"loading a config imports {loaded[:5]}..."
