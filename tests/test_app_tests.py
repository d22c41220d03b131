"""The app's own tests, in the app's own environment: the README's test command runs them too.

The infrastructure never imports the app or installs its requirements; what it builds is the
`build` setting's context (app/ for the sample). For each build context of the committed stacks
that has Python tests (tests/test_*.py or tests/*_test.py) and a requirements file
(requirements-test.txt, else requirements.txt), this creates a virtualenv of its own under the
cache directory (reused while the requirement files and this Python stay the same), installs them
and runs `python -m pytest` in the context. Any other app gets a skip that says why, and how its
tests can run instead (a `test` stage in its Dockerfile, for one).

The cache: $FARGATE_APP_CACHE, else $XDG_CACHE_HOME/fargate-app, else ~/.cache/fargate-app.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.plan.model import Project
from tools.smoke import stack_builds

ROOT = Path(__file__).resolve().parent.parent
CONTEXTS = sorted({b.context for b in stack_builds(Project.at(ROOT))})
REQUIREMENT_FILES = ("requirements-test.txt", "requirements.txt")  # the first that exists
TEST_FILES = ("test_*.py", "*_test.py")
INSTALL_TIMEOUT_S = 600  # a cold install downloads every wheel; pip's cache makes it seconds
APP_TESTS_TIMEOUT_S = 600  # the sample's take about 15 s


def cache_dir() -> Path:
    if os.environ.get("FARGATE_APP_CACHE"):
        return Path(os.environ["FARGATE_APP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fargate-app"


def requirements_of(context: Path) -> Path | None:
    return next((context / f for f in REQUIREMENT_FILES if (context / f).is_file()), None)


def has_tests(context: Path) -> bool:
    tests = context / "tests"
    return tests.is_dir() and any(f for pattern in TEST_FILES for f in tests.rglob(pattern))


def environment_key(context: Path) -> str:
    """Changes when a requirement file of the app or this Python does."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(context.glob("requirements*.txt")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def app_environment(context: Path, requirements: Path) -> Path:
    """The app's virtualenv with its requirements (and pytest) installed; made once per key, under
    a lock, so that concurrent runs share it."""
    root = cache_dir() / "app-envs"
    root.mkdir(parents=True, exist_ok=True)
    key = environment_key(context)
    venv, done = root / key, root / f"{key}.complete"
    with (root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)
            python = venv / "bin" / "python"
            steps = [
                [sys.executable, "-m", "venv", str(venv)],
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "-r", str(requirements)],
            ]  # fmt: skip
            for step in steps:
                ran = subprocess.run(
                    step, cwd=context, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
                )
                assert ran.returncode == 0, (
                    f"could not set up the app's environment from {requirements.name} "
                    f"(`{' '.join(step[1:4])} ...`):\n{ran.stdout}{ran.stderr}"
                )
            has_pytest = subprocess.run([str(python), "-c", "import pytest"], check=False)
            if has_pytest.returncode != 0:
                # The app's requirements do not name pytest: the version that runs these tests.
                subprocess.run(
                    [
                        str(python),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        f"pytest=={pytest.__version__}",
                    ],
                    check=True,
                    capture_output=True,
                    timeout=INSTALL_TIMEOUT_S,
                )
            done.write_text(str(context))
    return venv


@pytest.mark.parametrize("context", CONTEXTS or [None])
def test_the_app_s_own_tests_pass_in_its_own_environment(context: str | None) -> None:
    if context is None:
        pytest.skip("every committed stack deploys a prebuilt image: no app is built here")
    path = ROOT / context
    if not has_tests(path):
        pytest.skip(f"{context}/ has no tests (tests/test_*.py): nothing of the app's to run")
    requirements = requirements_of(path)
    if requirements is None:
        pytest.skip(
            f"{context}/ has tests but no {' or '.join(REQUIREMENT_FILES)}: not a Python app this "
            "runner sets up; run its tests your own way, e.g. a `test` stage in its Dockerfile"
        )
    venv = app_environment(path, requirements)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST"))}
    ran = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        timeout=APP_TESTS_TIMEOUT_S,
        check=False,
    )
    assert ran.returncode == 0, (
        f"the tests of {context}/ failed in its own environment ({venv}):\n{ran.stdout}{ran.stderr}"
    )
