"""`build`, the image a stack builds from source, and what its Dockerfile says about how it runs.

- `check_build`: one `build` value ({context, dockerfile}, paths relative to the project) to an
  `ImageBuild`, each problem naming the key it was given under: the top-level `build` and each
  `services.<name>.build` are read by it alike. Given the project's root, it also checks what only
  the project's files can tell (`build_file_problems`: the context is a directory, the Dockerfile
  exists and has a FROM).
- `final_stage` reads a Dockerfile's last stage (what `docker build` produces without --target):
  its USER, VOLUMEs and how it starts, following `FROM <earlier stage>`. What a base image from a
  registry declares cannot be seen offline, and stays unknown.
- `dockerfile_warnings`: the container settings against that stage (a writable path the non-root
  user cannot write, a user other than the image's own, a shell that would swallow SIGTERM).

Reads files only when asked to (never at import), and loads no Pulumi module.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from components.spec import (
    CONTAINER_USER,
    DEFAULT_BUILD_CONTEXT,
    DOCKERFILE_NAME,
    ROOT_UID,
    ImageBuild,
)
from stack_config.parsing import Problems, suggest

BUILD_FIELDS = ("context", "dockerfile")
# `RUN <<EOF` (BuildKit's heredocs): the lines up to the delimiter are the command's, not
# instructions. https://docs.docker.com/reference/dockerfile/#here-documents
HEREDOC = re.compile(r"<<-?\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")


def parse_build(raw: Any) -> dict[str, Any]:
    """A `build` value as Pulumi hands it over (JSON text) or as a native map; its fields are
    checked by `check_build`."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        raise ValueError("expected a map {context, dockerfile}, such as {context: app}")
    return {str(k): v for k, v in value.items()}


def check_build(
    raw: Any, problems: Problems, key: str = "build", root: str | Path | None = None
) -> ImageBuild:
    """The build `raw` describes (a map, or its JSON text); adds a problem naming `key` for each
    field that is wrong (the default stands in for it, so that later checks still run). Given
    `root`, the project's directory, the files are checked too (`build_file_problems`), once the
    paths themselves are right."""
    try:
        value = parse_build(raw)
    except ValueError as err:
        problems.add(key, raw, str(err))
        return ImageBuild()
    before = len(problems.items)
    for name in value:
        if name not in BUILD_FIELDS:
            problems.add(
                f"{key}.{name}",
                name,
                "unknown field of build; " + suggest(name, BUILD_FIELDS, label="fields are"),
            )
    paths: dict[str, str] = {}
    for name in BUILD_FIELDS:
        if name not in value:
            continue
        path = value[name]
        if not isinstance(path, str) or not path.strip():
            problems.add(f"{key}.{name}", path, "expected a path relative to the project")
        elif path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path):
            problems.add(
                f"{key}.{name}",
                path,
                "expected a path relative to the project (the directory of Pulumi.yaml): an "
                "absolute one differs from machine to machine, and every `pulumi up` elsewhere "
                "would rebuild",
            )
        else:
            paths[name] = posixpath.normpath(path)
    context = paths.get("context", DEFAULT_BUILD_CONTEXT)
    dockerfile = paths.get("dockerfile") or posixpath.join(context, DOCKERFILE_NAME)
    build = ImageBuild(context=context, dockerfile=dockerfile)
    if root is not None and len(problems.items) == before:
        problems.items.extend(build_file_problems(build, root, key))
    return build


def build_file_problems(build: ImageBuild, root: str | Path, key: str = "build") -> list[str]:
    """What the project's files say about `build`: the context is a directory and the Dockerfile a
    file with a FROM (paths relative to `root`, where Pulumi runs the program)."""
    root = Path(root)
    found = []
    if not (root / build.context).is_dir():
        found.append(
            f"{key}.context: {build.context!r} is not a directory under {root}; set it to the "
            f"directory your image is built from: `pulumi config set --path '{key}.context' "
            "<dir>` (relative to Pulumi.yaml)"
        )
    dockerfile = root / build.dockerfile
    if not dockerfile.is_file():
        found.append(
            f"{key}.dockerfile: {build.dockerfile!r} does not exist under {root}; add it, or "
            f"point at yours: `pulumi config set --path '{key}.dockerfile' <path>` (relative to "
            "Pulumi.yaml)"
        )
    elif final_stage(dockerfile.read_text(errors="replace")) is None:
        found.append(f"{key}.dockerfile: {build.dockerfile!r} has no FROM instruction")
    return found


# --- the Dockerfile's final stage -----------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    arguments: str
    line: int


@dataclass(frozen=True, kw_only=True)
class FinalStage:
    """What a Dockerfile's last stage (and the earlier stages it is built FROM) declares.

    user: its last USER, or None: the base image's (root, unless that image says otherwise).
    volumes: every VOLUME path.
    start: the instruction that decides PID 1 (ENTRYPOINT, else CMD), or None: the base image's.
    """

    user: str | None = None
    volumes: frozenset[str] = field(default_factory=frozenset)
    start: Instruction | None = None


def instructions(text: str) -> list[Instruction]:
    """The instructions, continuation lines joined, comments and heredoc bodies dropped."""
    found: list[Instruction] = []
    pending, start, heredoc = "", 0, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if heredoc is not None:
            if line == heredoc:
                heredoc = None
            continue
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        start = start or number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip(), start))
        m = HEREDOC.search(arguments)
        heredoc = m[1] if m and keyword.upper() in ("RUN", "COPY", "ADD") else None
        pending, start = "", 0
    return found


def _paths(arguments: str) -> list[str]:
    """VOLUME's paths: a JSON array, or words."""
    if arguments.startswith("["):
        try:
            return [str(p) for p in json.loads(arguments)]
        except json.JSONDecodeError:
            pass
    return shlex.split(arguments)


def final_stage(text: str) -> FinalStage | None:
    """The last stage of a Dockerfile, or None when it has no FROM."""
    stages: dict[str, FinalStage] = {}
    current: FinalStage | None = None
    name: str | None = None
    for ins in instructions(text):
        if ins.keyword == "FROM":
            words = [w for w in ins.arguments.split() if not w.startswith("--")]
            # FROM <an earlier stage> starts from what that stage declared
            current = stages.get(words[0].lower() if words else "", FinalStage())
            name = words[2].lower() if len(words) == 3 and words[1].upper() == "AS" else None
        elif current is None:
            continue  # ARG before the first FROM
        elif ins.keyword == "USER":
            current = replace(current, user=ins.arguments)
        elif ins.keyword == "VOLUME":
            volumes = {posixpath.normpath(p) for p in _paths(ins.arguments)}
            current = replace(current, volumes=current.volumes | volumes)
        elif ins.keyword == "ENTRYPOINT" or (
            ins.keyword == "CMD" and (current.start is None or current.start.keyword == "CMD")
        ):
            current = replace(current, start=ins)
        if name and current is not None:
            stages[name] = current
    return current


def shell_form(ins: Instruction) -> bool:
    """Whether CMD/ENTRYPOINT runs through /bin/sh -c (not a JSON array), which then is PID 1 and
    does not pass SIGTERM on; `exec ...` hands PID 1 over, so it is fine."""
    if ins.arguments.startswith("["):
        try:
            json.loads(ins.arguments)
            return False
        except json.JSONDecodeError:
            pass  # Docker runs a malformed array through the shell too
    return not ins.arguments.startswith("exec ")


def numeric_uid(user: str | None) -> int | None:
    """The uid of a `uid` or `uid:gid` user; None for a name, a variable or no user."""
    if user is None:
        return None
    uid = user.split(":", 1)[0]
    return int(uid) if uid.isdigit() else None


def dockerfile_warnings(
    stage: FinalStage,
    *,
    dockerfile: str,
    user: str | None,
    writable_paths: tuple[str, ...],
    prefix: str = "",
) -> list[str]:
    """What the container settings and the Dockerfile's final stage disagree about, or what would
    stop the container from running well on ECS; each says what to change.

    user: the task definition's uid:gid, or None for the image's own. writable_paths: the task
    storage mounted over a read-only root (empty with a writable root). prefix: where the settings
    are (`services.api`), the main service's top-level keys when empty.
    """
    user_key = f"{prefix}.containerUser" if prefix else "containerUser"
    paths_key = f"{prefix}.writablePaths" if prefix else "writablePaths"
    set_user = (
        f"pulumi config set --path '{user_key}'" if prefix else f"pulumi config set {user_key}"
    )
    found = []
    image_user = stage.user
    if user is not None and CONTAINER_USER.match(image_user or "") and image_user != user:
        found.append(
            f"{user_key} {user!r}: {dockerfile}'s final stage runs as USER {image_user}, and "
            f"ECS runs the container as {user} instead, so files the image gave its own user may "
            f"be out of reach; set `{set_user} {image_user}`"
        )
    uid = numeric_uid(user if user is not None else image_user)
    if uid is not None and uid != ROOT_UID:
        for path in writable_paths:
            if path not in stage.volumes:
                found.append(
                    f"{paths_key} {path!r}: {dockerfile}'s final stage declares no VOLUME "
                    f"{path}, so ECS mounts it owned by root with mode 0755 and user {uid} cannot "
                    f'write there; add `VOLUME ["{path}"]` to the final stage (after creating the '
                    "directory with the owner and mode the app needs)"
                )
    if stage.start is not None and shell_form(stage.start):
        found.append(
            f"{dockerfile}:{stage.start.line}: {stage.start.keyword} {stage.start.arguments!r} "
            "is in shell form: /bin/sh runs as PID 1 and does not pass ECS's SIGTERM on, so the "
            "app is killed at the stop timeout instead of stopping cleanly; use the exec form, "
            f'{stage.start.keyword} ["program", "arg"]'
        )
    return found
