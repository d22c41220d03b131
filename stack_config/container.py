"""Who a container runs as and what it may write: `containerUser`, `readOnlyRootFilesystem` and
`writablePaths`, read alike for the main service (top-level keys) and for each service of
`services` (`services.<name>.containerUser`, ...), each problem naming the key it was given under.

Running as root, or writing the root file system, gives up a mandatory control of the policy pack:
the stack must say so, and why, in policyWaivers (where a reviewer of the stack file sees it), or
it is refused. The waivers are the stack's: one waiver covers every container that needs it.
"""

from __future__ import annotations

from collections.abc import Collection

from components.spec import (
    DEFAULT_CONTAINER_USER,
    EXEC_AGENT_VOLUMES,
    IMAGE_USER,
    runs_as_root,
    user_problem,
    writable_path_problem,
    writable_volume_name,
)
from stack_config.parsing import Problems
from stack_config.settings import NON_ROOT_POLICY, READ_ONLY_ROOT_POLICY


def _set(prefix: str, name: str, value: str) -> str:
    """The command that sets `name` under `prefix` (the main service's when empty)."""
    if not prefix:
        return f"pulumi config set {name} {value}"
    return f"pulumi config set --path '{prefix}.{name}' {value}"


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def check_user(
    given: str, waivers: Collection[str], problems: Problems, prefix: str = ""
) -> str | None:
    """The task definition's user for a `containerUser` value: None for the image's own; a problem
    when it is not a uid:gid, or runs as root without the waiver."""
    key = _key(prefix, "containerUser")
    user = None if given == IMAGE_USER else given
    bad = user_problem(user)
    if bad:
        problems.add(key, given, bad)
    elif runs_as_root(user) and NON_ROOT_POLICY not in waivers:
        what = (
            "the task definition then names no user, so the container runs as whatever the "
            "image says, which the policy pack cannot see"
            if user is None
            else "that runs the container as root"
        )
        problems.add(
            key,
            given,
            f"{what} (policy {NON_ROOT_POLICY}, Security Hub ECS.20); name the image's non-root "
            f"uid:gid (`{_set(prefix, 'containerUser', DEFAULT_CONTAINER_USER)}`), or give the "
            "control up with the reason: `pulumi config set --path "
            f"'policyWaivers.{NON_ROOT_POLICY}' '<why it must run as root>'`",
        )
    return user


def check_read_only(
    read_only: bool, waivers: Collection[str], problems: Problems, prefix: str = ""
) -> None:
    """A writable root needs the waiver."""
    if not read_only and READ_ONLY_ROOT_POLICY not in waivers:
        problems.add(
            _key(prefix, "readOnlyRootFilesystem"),
            False,
            f"a writable root file system gives up policy {READ_ONLY_ROOT_POLICY} (Security Hub "
            "ECS.5); list the paths the app writes in writablePaths instead, or give the control "
            "up with the reason: `pulumi config set --path "
            f"'policyWaivers.{READ_ONLY_ROOT_POLICY}' '<why the app writes its root>'`",
        )


def check_writable_paths(
    paths: tuple[str, ...],
    *,
    read_only: bool,
    given: bool,
    enable_exec: bool,
    problems: Problems,
    prefix: str = "",
) -> tuple[str, ...]:
    """The writable paths the task mounts: `paths` with a read-only root, none with a writable one
    (then paths the stack `given` explicitly are a problem)."""
    key = _key(prefix, "writablePaths")
    if not read_only:
        if given:
            rm = f"pulumi config rm --path '{key}'" if prefix else f"pulumi config rm {key}"
            problems.add(
                key,
                list(paths),
                "with readOnlyRootFilesystem false the whole file system is writable; remove it "
                f"(`{rm}`)",
            )
        return ()
    exec_paths = set(EXEC_AGENT_VOLUMES.values()) if enable_exec else set()
    names: dict[str, str] = {}
    for path in paths:
        bad = writable_path_problem(path)
        if bad:
            problems.add(key, path, bad)
            continue
        if path in exec_paths:
            problems.add(key, path, "enableExec mounts ECS Exec's agent there already")
        name = writable_volume_name(path)
        if name in names:
            problems.add(
                key,
                path,
                "it is listed twice"
                if names[name] == path
                else f"its task volume would be named {name!r}, as {names[name]!r}'s is; "
                "keep one of them",
            )
        names.setdefault(name, path)
    return paths
