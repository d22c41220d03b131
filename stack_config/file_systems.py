"""`fileSystems` and `mounts`: the stack's EFS file systems and where its tasks mount them
(components/file_system.py, docs/file-systems.md).

`fileSystems` maps a name to `{user, infrequentAccessDays}` (both optional: `{}` takes the
defaults). `mounts` maps a file system's name to a path, or to `{path, readOnly}`; it is a
setting of its own for the main service and a field of each service of `services` and each job of
`scheduledTasks`, all read by `check_mounts`. A file system nothing mounts is not an error, but a
warning (`unmounted`), as the program and the plan show it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from components.spec import (
    DEFAULT_CONTAINER_USER,
    DEFAULT_INFREQUENT_ACCESS_DAYS,
    DEFAULT_WRITABLE_PATHS,
    EFS_VOLUME_PREFIX,
    EXEC_AGENT_VOLUMES,
    FILE_SYSTEM_NAME,
    IMAGE_USER,
    INFREQUENT_ACCESS_DAYS,
    MOUNT_PATH,
    MOUNT_PATH_MAX,
    ROOT_UID,
    SECURITY_GROUPS_PER_INTERFACE,
    FileSystemMount,
    FileSystemSpec,
    user_problem,
    writable_volume_name,
)
from stack_config.parsing import Problems, parse_boolean, parse_integer, suggest

DOCS = "docs/file-systems.md"
FILE_SYSTEM_FIELDS = ("user", "infrequentAccessDays")
MOUNT_FIELDS = ("path", "readOnly")


def _json_map(raw: Any, what: str) -> dict[str, Any]:
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        raise ValueError(f"expected a map of {what} (see {DOCS})")
    return {str(k): v for k, v in value.items()}


def parse_file_systems(raw: Any) -> dict[str, Any]:
    """`fileSystems` as Pulumi hands it over (JSON text) or as a native map; entries are checked
    by `check_file_systems`."""
    return _json_map(raw, "file system names to {user, infrequentAccessDays}")


def parse_mounts(raw: Any) -> dict[str, Any]:
    """`mounts` as Pulumi hands it over (JSON text) or as a native map; entries are checked by
    `check_mounts`."""
    return _json_map(raw, "file system names to a path or {path, readOnly}")


def container_user(get: Mapping[str, Any], ok: Collection[str]) -> str | None:
    """The uid:gid the main service's container (and so its jobs') runs as: `containerUser`
    (None: the image's own, which the program cannot see). A bad value is reported as the
    setting's own problem; the default stands in for it here."""
    user = get["containerUser"] if "containerUser" in ok else DEFAULT_CONTAINER_USER
    if user == IMAGE_USER:
        return None
    return user if isinstance(user, str) and user_problem(user) is None else DEFAULT_CONTAINER_USER


def _exec_paths(get: Mapping[str, Any], ok: Collection[str]) -> tuple[str, ...]:
    return tuple(EXEC_AGENT_VOLUMES.values()) if "enableExec" in ok and get["enableExec"] else ()


def writable_paths(get: Mapping[str, Any], ok: Collection[str]) -> tuple[str, ...]:
    """What the main service's read-only root leaves writable (its jobs' too): `writablePaths`,
    none with a writable root, and with ECS Exec its agent's paths."""
    if "readOnlyRootFilesystem" in ok and get["readOnlyRootFilesystem"] is False:
        paths: tuple[str, ...] = ()
    elif "writablePaths" in ok and isinstance(get["writablePaths"], list | tuple):
        paths = tuple(str(p) for p in get["writablePaths"])
    else:
        paths = DEFAULT_WRITABLE_PATHS
    return (*paths, *_exec_paths(get, ok))


def file_system_names(get: Mapping[str, Any], ok: Collection[str]) -> Collection[str] | None:
    """Every name `fileSystems` gives (valid or not), which mounts may name; None when the
    setting itself could not be read (then no mount's name is checked against it)."""
    if "fileSystems" not in ok:
        return None
    return tuple(get["fileSystems"])


def posix_user_problem(user: Any) -> str | None:
    """What is wrong with a numeric uid:gid for an access point (None when nothing is)."""
    if not isinstance(user, str) or user == "" or user_problem(user) is not None:
        return "expected a numeric uid:gid such as 10001:10001"
    if int(user.split(":")[0]) == ROOT_UID:
        return (
            "uid 0 would make every file operation through the access point root's; use the "
            "non-root user the containers run as"
        )
    return None


def check_file_systems(
    raw: Mapping[str, Any],
    mounters: Mapping[str, Collection[tuple[str, str | None]]],
    problems: Problems,
) -> tuple[FileSystemSpec, ...]:
    """Every entry of `fileSystems`, checked. `mounters` holds, by file system, each task that
    mounts it as (its setting, the uid:gid its container runs as, None: the image's own, which
    the program cannot see): the access point's user must agree with every one of them."""
    specs = []
    for name, entry in raw.items():
        key = f"fileSystems.{name}"
        before = len(problems.items)
        if not FILE_SYSTEM_NAME.match(name):
            problems.add(
                key,
                name,
                "file system names are 1 to 32 lower-case letters, digits and -, starting with a "
                "letter (they name its AWS resources and its directory)",
            )
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            problems.add(
                key, entry, f"expected a map such as {{}} or {{user: 10001:10001}}; {DOCS}"
            )
            continue
        for field_name in entry:
            if field_name not in FILE_SYSTEM_FIELDS:
                hint = suggest(field_name, FILE_SYSTEM_FIELDS, label="fields are")
                problems.items.append(f"{key}.{field_name}: unknown field; {hint}")
        user = _access_point_user(key, entry, mounters.get(name, ()), problems)
        days = DEFAULT_INFREQUENT_ACCESS_DAYS
        if "infrequentAccessDays" in entry:
            try:
                days = parse_integer(entry["infrequentAccessDays"])
            except ValueError as err:
                problems.add(f"{key}.infrequentAccessDays", entry["infrequentAccessDays"], str(err))
            else:
                if days not in INFREQUENT_ACCESS_DAYS:
                    problems.add(
                        f"{key}.infrequentAccessDays",
                        days,
                        "EFS moves files to Infrequent Access after "
                        + ", ".join(map(str, INFREQUENT_ACCESS_DAYS))
                        + " days",
                    )
        if len(problems.items) == before and user is not None:
            specs.append(FileSystemSpec(name=name, user=user, infrequent_access_days=days))
    return tuple(specs)


def _access_point_user(
    key: str,
    entry: Mapping[str, Any],
    mounters: Collection[tuple[str, str | None]],
    problems: Problems,
) -> str | None:
    """The access point's uid:gid: `user` when given, else the one user its mounting tasks run
    as (the default container user when none mounts it). None when there is a problem."""
    known = sorted({u for _, u in mounters if u is not None})
    unseen = sorted(k for k, u in mounters if u is None)
    if "user" in entry:
        user = entry["user"]
        if (bad := posix_user_problem(user)) is not None:
            problems.add(f"{key}.user", user, bad)
            return None
        others = sorted(k for k, u in mounters if u is not None and u != user)
        if others:
            problems.add(
                f"{key}.user",
                user,
                f"the tasks that mount it ({', '.join(others)}) run as {', '.join(known)}; an "
                "access point acting as another user writes files the app does not own; remove "
                f"it (it defaults to the container user): `pulumi config rm --path '{key}.user'`",
            )
            return None
        return str(user)
    if len(known) > 1:
        problems.items.append(
            f"{key}: the tasks that mount it run as {' and '.join(known)}, and an access point "
            "acts as one user; run them as one user, or give each its own file system"
        )
        return None
    if unseen:
        problems.items.append(
            f"{key}.user: not set, and {', '.join(unseen)} run as their image's own user, which "
            "the program cannot see; set the numeric uid:gid the image's USER has: "
            f"`pulumi config set --path '{key}.user' 10001:10001`"
        )
        return None
    return known[0] if known else DEFAULT_CONTAINER_USER


def mount_path_problem(path: Any) -> str | None:
    """What is wrong with a mount's path (None when nothing is)."""
    if (
        not isinstance(path, str)
        or not MOUNT_PATH.match(path)
        or len(path) > MOUNT_PATH_MAX
        or any(s in (".", "..") for s in path.split("/"))
    ):
        return (
            "expected an absolute path such as /data or /var/lib/app: letters, digits, . _ @ + -, "
            f"at most {MOUNT_PATH_MAX} characters, not /, no trailing /, no . or .. segments"
        )
    return None


def _overlaps(a: str, b: str) -> bool:
    """One path is the other or lies under it: a mount there would hide the other's files."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def check_mounts(
    raw: Any,
    key: str,
    file_systems: Collection[str] | None,
    writable_paths: Collection[str],
    problems: Problems,
) -> tuple[FileSystemMount, ...]:
    """A `mounts` setting under `key` (`mounts`, `services.api.mounts`, ...): each names a file
    system of `fileSystems` (`file_systems` holds every name given, valid or not, so a bad file
    system is reported once) and a path that is absolute and clashes neither with another mount
    nor with the read-only root's `writable_paths`."""
    if raw is None:
        return ()
    try:
        entries = parse_mounts(raw)
    except ValueError as err:
        problems.add(key, raw, str(err))
        return ()
    mounts: list[FileSystemMount] = []
    for name, entry in entries.items():
        entry_key = f"{key}.{name}"
        if file_systems is not None and name not in file_systems:
            known = (
                f"; {suggest(name, file_systems, label='file systems are')}" if file_systems else ""
            )
            problems.items.append(
                f"{entry_key}: no file system {name!r} in fileSystems{known}; add it "
                f"(`pulumi config set --path 'fileSystems.{name}.infrequentAccessDays' 30`) or "
                "remove the mount"
            )
            continue
        read_only = False
        if isinstance(entry, dict):
            for field_name in entry:
                if field_name not in MOUNT_FIELDS:
                    hint = suggest(field_name, MOUNT_FIELDS, label="fields are")
                    problems.items.append(f"{entry_key}.{field_name}: unknown field; {hint}")
            path = entry.get("path")
            if "readOnly" in entry:
                try:
                    read_only = parse_boolean(entry["readOnly"])
                except ValueError as err:
                    problems.add(f"{entry_key}.readOnly", entry["readOnly"], str(err))
            path_key = f"{entry_key}.path"
        else:
            path, path_key = entry, entry_key
        if path is None:
            problems.items.append(
                f"{path_key}: not set; where the container sees the file system: "
                f"`pulumi config set --path '{entry_key}' /data`"
            )
            continue
        if (bad := mount_path_problem(path)) is not None:
            problems.add(path_key, path, bad)
            continue
        clash = next(
            (
                w
                for w in writable_paths
                if _overlaps(path, w) or writable_volume_name(w) == f"{EFS_VOLUME_PREFIX}{name}"
            ),
            None,
        )
        other = next((m for m in mounts if _overlaps(path, m.path)), None)
        if clash is not None:
            problems.add(
                path_key,
                path,
                f"it clashes with {clash}, a writable path of the container's read-only root "
                "(task storage); choose a path outside it",
            )
        elif other is not None:
            problems.add(
                path_key,
                path,
                f"it clashes with {key}.{other.file_system} at {other.path}: one mount would hide "
                "the other's files; choose separate paths",
            )
        else:
            mounts.append(FileSystemMount(file_system=name, path=path, read_only=read_only))
    return tuple(mounts)


def security_group_problem(key: str, mounts: int, service_connect: bool) -> str | None:
    """A task mounting `mounts` file systems carries its own security group, the members' group
    when the stack has Service Connect, and each file system's clients group: more than its
    network interface takes is an error."""
    groups = 1 + int(service_connect) + mounts
    if groups <= SECURITY_GROUPS_PER_INTERFACE:
        return None
    return (
        f"{key}: its tasks would carry {groups} security groups (their own"
        + (", Service Connect's" if service_connect else "")
        + f" and one per file system); a network interface takes {SECURITY_GROUPS_PER_INTERFACE} "
        "(the VPC quota); mount fewer file systems"
    )


def unmounted(
    file_systems: Collection[FileSystemSpec], mounts: Collection[FileSystemMount]
) -> tuple[str, ...]:
    """The file systems no task mounts (a warning: they still cost their storage)."""
    used = {m.file_system for m in mounts}
    return tuple(fs.name for fs in file_systems if fs.name not in used)
