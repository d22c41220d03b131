"""The sample's Dockerfile: multi-stage, pinned, non-root, and started the way ECS stops it.

No Docker engine is needed: these read its instructions. What holds for any app's Dockerfile
(hadolint, a VOLUME for each writable path, the user the task runs) the infrastructure's own
tests check, for the Dockerfile each stack builds.
"""

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[1]
DOCKERFILE = APP_DIR / "Dockerfile"
DOCKERIGNORE = APP_DIR / ".dockerignore"
# python:<major>.<minor>.<patch>-slim[-<debian release>], optionally with a digest
PINNED_SLIM_PYTHON = re.compile(r"^python:\d+\.\d+\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?$")


@dataclass
class Instruction:
    keyword: str
    arguments: str
    line: int


def parse(text):
    """Instructions with continuation lines joined and comments dropped."""
    instructions, pending, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        start = start or number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending, start = "", 0
    return instructions


def stages(instructions):
    """Instructions grouped by FROM, in order."""
    groups = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(instruction)
    return groups


@pytest.fixture(scope="module")
def instructions():
    return parse(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def runtime(instructions):
    return stages(instructions)[-1]


def test_builds_in_one_stage_and_ships_another(instructions):
    all_stages = stages(instructions)
    runtime_copies = [
        i.arguments for i in all_stages[-1] if i.keyword == "COPY" and "--from=" in i.arguments
    ]

    assert len(all_stages) >= 2, "the Dockerfile is single-stage: build tools would ship"
    assert runtime_copies, "the runtime stage copies nothing from the build stage"


def test_base_images_are_pinned_slim_python_patch_releases(instructions):
    stage_names = {i.arguments.split()[-1] for i in instructions if " AS " in i.arguments.upper()}
    images = [i.arguments.split()[0] for i in instructions if i.keyword == "FROM"]
    external = [image for image in images if image not in stage_names]

    assert external, "no base image found"
    for image in external:
        assert PINNED_SLIM_PYTHON.match(image), (
            f"base image {image} is not a slim Python image pinned to a patch release "
            "(e.g. python:3.12.12-slim-bookworm)"
        )


def test_runtime_runs_as_a_non_root_numeric_user(runtime):
    users = [i.arguments for i in runtime if i.keyword == "USER"]

    assert users, "the runtime stage has no USER: the app would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), (
        f"USER {users[-1]} is not numeric: only a numeric id proves non-root without /etc/passwd"
    )
    assert int(uid) != 0, "the runtime stage runs as root (uid 0)"


def test_runtime_exposes_port_8000(runtime):
    exposed = [port for i in runtime if i.keyword == "EXPOSE" for port in i.arguments.split()]

    assert "8000" in exposed or "8000/tcp" in exposed, f"EXPOSE lists {exposed}, not 8000"


def test_cmd_execs_gunicorn_with_its_config_file(runtime):
    commands = [i.arguments for i in runtime if i.keyword == "CMD"]
    assert commands, "the runtime stage has no CMD"
    try:
        command = json.loads(commands[-1])
    except json.JSONDecodeError:
        pytest.fail(
            f"CMD {commands[-1]} is shell form: /bin/sh would be PID 1 and swallow ECS's SIGTERM"
        )

    assert command[0] == "gunicorn", f"CMD starts {command[0]!r}, not gunicorn"
    assert "--config" in command or "-c" in command, f"CMD {command} passes no config file"
    assert any(arg.endswith("gunicorn.conf.py") for arg in command), f"CMD {command}"
    entrypoints = [i for i in runtime if i.keyword == "ENTRYPOINT"]
    assert not entrypoints, "an ENTRYPOINT wraps the CMD; gunicorn would not be PID 1"


def test_runtime_writes_no_bytecode_on_the_read_only_filesystem(runtime):
    env = {}
    for instruction in runtime:
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                name, _, value = pair.partition("=")
                env[name] = value

    assert env.get("PYTHONDONTWRITEBYTECODE") == "1", (
        "PYTHONDONTWRITEBYTECODE=1 is not set: Python would try to write __pycache__ "
        "on the read-only root filesystem"
    )


def test_files_copied_from_the_context_exist_and_are_not_ignored(instructions):
    ignored = DOCKERIGNORE.read_text().splitlines()
    allowlist = "*" in ignored  # everything excluded, then "!path" lines let files back in
    sources = []
    for instruction in instructions:
        if instruction.keyword != "COPY" or "--from=" in instruction.arguments:
            continue
        sources += [a for a in instruction.arguments.split()[:-1] if not a.startswith("--")]

    assert sources, "the Dockerfile copies nothing from the build context"
    for source in sources:
        assert (APP_DIR / source).exists(), f"COPY {source}: app/{source} does not exist"
        if allowlist:
            assert f"!{source}" in ignored, f"app/.dockerignore keeps {source} out of the context"
