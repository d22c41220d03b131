"""The `fileSystems` and `mounts` settings (stack_config/file_systems.py): persistent files.

What a user relies on: a file system given as `{}` takes the defaults (the container user, files to
Infrequent Access after 30 days); the main service, each service and each job mounts what its own
`mounts` names, read-only where it says so; bad input is refused before anything is created, with
the setting named: a mount of an unknown file system, a path that is not absolute or clashes with
another mount or with a writable path of the read-only root, an access point user that cannot agree
with the container user, more security groups than a task's interface takes; a file system nothing
mounts is a warning, not an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.spec import (
    DEFAULT_CONTAINER_USER,
    DEFAULT_INFREQUENT_ACCESS_DAYS,
    DEFAULT_WRITABLE_PATHS,
    EXEC_AGENT_VOLUMES,
    SECURITY_GROUPS_PER_INTERFACE,
    FileSystemMount,
)
from stack_config import ConfigError, StackConfig, load_config

ROOT = Path(__file__).resolve().parent.parent
JOB = {"schedule": "cron(0 3 * * ? *)", "command": "python -m nightly"}


def load(**settings: Any) -> StackConfig:
    return load_config({"aws:region": "us-east-1", **settings}, stack="test", project_dir=ROOT)


def problems_of(**settings: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(**settings)
    return caught.value.problems


def problem(key: str, **settings: Any) -> str:
    """The one problem reported for `key` (exactly one must be)."""
    found = [p for p in problems_of(**settings) if p.startswith(f"{key}:")]
    assert len(found) == 1, f"expected one problem for {key}, got {found}"
    return found[0]


def test_a_file_system_given_as_an_empty_map_takes_the_defaults() -> None:
    (fs,) = load(fileSystems={"shared": {}}, mounts={"shared": "/data"}).file_systems
    assert (fs.name, fs.user, fs.infrequent_access_days) == (
        "shared",
        DEFAULT_CONTAINER_USER,
        DEFAULT_INFREQUENT_ACCESS_DAYS,
    )
    assert fs.directory == "/shared", "the access point's root must not be the file system's /"


def test_the_settings_come_as_pulumi_hands_them_over_json_text() -> None:
    cfg = load(fileSystems='{"shared": {"infrequentAccessDays": 7}}', mounts='{"shared": "/data"}')
    assert cfg.file_systems[0].infrequent_access_days == 7
    assert cfg.mounts == (FileSystemMount(file_system="shared", path="/data"),)


def test_a_mount_may_be_read_only() -> None:
    cfg = load(fileSystems={"shared": {}}, mounts={"shared": {"path": "/data", "readOnly": True}})
    assert cfg.mounts == (FileSystemMount(file_system="shared", path="/data", read_only=True),)


def test_each_service_and_job_mounts_its_own() -> None:
    cfg = load(
        fileSystems={"shared": {}},
        services={"files": {"type": "web", "path": ["/files/*"], "mounts": {"shared": "/srv"}}},
        scheduledTasks={
            "nightly": {**JOB, "mounts": {"shared": {"path": "/in", "readOnly": "true"}}}
        },
    )
    assert cfg.mounts == (), "the main service mounts only what the top-level mounts names"
    assert cfg.services[0].mounts == (FileSystemMount(file_system="shared", path="/srv"),)
    assert cfg.scheduled_tasks[0].mounts == (
        FileSystemMount(file_system="shared", path="/in", read_only=True),
    )
    assert cfg.warnings == ()


def test_a_file_system_nothing_mounts_is_a_warning_not_an_error() -> None:
    cfg = load(fileSystems={"spare": {}})
    assert cfg.unmounted_file_systems == ("spare",)
    assert any(
        w.startswith("fileSystems.spare:") and "no task mounts it" in w for w in cfg.warnings
    )


def test_a_mount_of_an_unknown_file_system_is_refused_naming_the_known_ones() -> None:
    found = problem("scheduledTasks.nightly.mounts.sahred", fileSystems={"shared": {}},
                    scheduledTasks={"nightly": {**JOB, "mounts": {"sahred": "/data"}}})  # fmt: skip
    assert "no file system 'sahred'" in found and "shared" in found


def test_a_mount_without_any_file_systems_is_refused() -> None:
    assert "no file system 'shared'" in problem("mounts.shared", mounts={"shared": "/data"})


@pytest.mark.parametrize("path", ["data", "/", "/data/", "/a/../etc", "/a//b", "/a b"])
def test_a_mount_path_that_is_not_a_plain_absolute_path_is_refused(path: str) -> None:
    found = problem("mounts.shared", fileSystems={"shared": {}}, mounts={"shared": path})
    assert "expected an absolute path" in found


@pytest.mark.parametrize("path", [DEFAULT_WRITABLE_PATHS[0], f"{DEFAULT_WRITABLE_PATHS[0]}/x"])
def test_a_mount_over_a_writable_path_of_the_read_only_root_is_refused(path: str) -> None:
    found = problem("mounts.shared", fileSystems={"shared": {}}, mounts={"shared": path})
    assert "writable path of the container's read-only root" in found


def test_with_exec_the_agents_paths_are_taken_too() -> None:
    agent = next(iter(EXEC_AGENT_VOLUMES.values()))
    settings = {"fileSystems": {"shared": {}}, "mounts": {"shared": agent}}
    assert load(**settings).mounts[0].path == agent, "without exec the path is free"
    assert "read-only root" in problem("mounts.shared", enableExec=True, **settings)


def test_two_mounts_that_would_hide_each_other_are_refused() -> None:
    found = problem(
        "services.api.mounts.b",
        fileSystems={"a": {}, "b": {}},
        services={"api": {"type": "internal", "containerPort": 8080,
                          "mounts": {"a": "/data", "b": "/data/b"}}},
    )  # fmt: skip
    assert "clashes with services.api.mounts.a at /data" in found


def test_an_access_point_user_other_than_the_container_user_is_refused() -> None:
    found = problem("fileSystems.shared.user", fileSystems={"shared": {"user": "1000:1000"}},
                    mounts={"shared": "/data"})  # fmt: skip
    assert f"(mounts) run as {DEFAULT_CONTAINER_USER}" in found


@pytest.mark.parametrize("user", ["app", "10001", "0:0", "1:99999999999"])
def test_an_access_point_user_must_be_a_numeric_non_root_uid_gid(user: str) -> None:
    found = problem("fileSystems.shared.user", fileSystems={"shared": {"user": user}})
    assert "uid" in found


def test_infrequent_access_days_are_those_efs_offers() -> None:
    found = problem("fileSystems.shared.infrequentAccessDays",
                    fileSystems={"shared": {"infrequentAccessDays": 45}})  # fmt: skip
    assert "1, 7, 14, 30, 60, 90, 180, 270, 365" in found


def test_a_file_system_nothing_mounts_takes_the_default_user() -> None:
    (fs,) = load(fileSystems={"spare": {}}).file_systems
    assert fs.user == DEFAULT_CONTAINER_USER


def test_a_given_user_that_is_the_container_users_is_accepted() -> None:
    cfg = load(fileSystems={"shared": {"user": DEFAULT_CONTAINER_USER}}, mounts={"shared": "/d"})
    assert cfg.file_systems[0].user == DEFAULT_CONTAINER_USER


def test_unknown_fields_are_named() -> None:
    found = problems_of(
        fileSystems={"shared": {"throughput": "bursting"}},
        mounts={"shared": {"path": "/data", "readonly": True}},
    )
    assert any(p.startswith("fileSystems.shared.throughput: unknown field") for p in found)
    assert any(p.startswith("mounts.shared.readonly: unknown field") for p in found)


def test_a_file_system_name_must_name_aws_resources() -> None:
    assert "lower-case" in problem("fileSystems.Shared_1", fileSystems={"Shared_1": {}})


def test_a_task_may_not_carry_more_security_groups_than_its_interface_takes() -> None:
    names = [f"fs{i}" for i in range(SECURITY_GROUPS_PER_INTERFACE)]
    found = problem(
        "mounts",
        fileSystems={n: {} for n in names},
        mounts={n: f"/{n}" for n in names},
    )
    assert f"{SECURITY_GROUPS_PER_INTERFACE + 1} security groups" in found


def test_every_problem_is_reported_together() -> None:
    found = problems_of(
        fileSystems={"shared": {"infrequentAccessDays": 2}},
        mounts={"shared": "data", "other": "/x"},
    )
    keys = {p.split(":")[0] for p in found}
    assert {"fileSystems.shared.infrequentAccessDays", "mounts.shared", "mounts.other"} <= keys


# --- against the container settings (containerUser, readOnlyRootFilesystem, writablePaths) -------
WAIVED = {"ecs-container-non-root-user": "the vendor image runs as its own user"}


def test_the_access_point_acts_as_the_containers_user() -> None:
    cfg = load(containerUser="2000:3000", fileSystems={"shared": {}}, mounts={"shared": "/data"})
    assert cfg.file_systems[0].user == "2000:3000"


def test_a_container_running_as_its_images_user_needs_the_user_given() -> None:
    settings = {"containerUser": "image", "policyWaivers": WAIVED, "fileSystems": {"shared": {}}}
    found = problem("fileSystems.shared.user", mounts={"shared": "/data"}, **settings)
    assert "image's own user" in found and "(mounts)" not in found
    given = {**settings, "fileSystems": {"shared": {"user": "1000:1000"}}}
    assert load(mounts={"shared": "/data"}, **given).file_systems[0].user == "1000:1000"


def test_tasks_running_as_different_users_cannot_share_an_access_point() -> None:
    found = problem(
        "fileSystems.shared",
        containerUser="2000:2000",
        fileSystems={"shared": {}},
        mounts={"shared": "/data"},
        services={
            "api": {
                "type": "web",
                "path": ["/api/*"],
                "containerUser": DEFAULT_CONTAINER_USER,
                "mounts": {"shared": "/data"},
            }
        },
    )
    assert f"run as {DEFAULT_CONTAINER_USER} and 2000:2000" in found


def test_a_service_mounts_as_the_user_it_runs_as() -> None:
    """A service runs as the main container unless it says otherwise, and its mounts go through
    the access point as that user."""
    service = {"type": "web", "path": ["/api/*"], "mounts": {"shared": "/data"}}
    cfg = load(
        containerUser="2000:2000",
        fileSystems={"shared": {}},
        mounts={"shared": "/data"},
        services={"api": service},
    )
    assert cfg.file_systems[0].user == "2000:2000", cfg.file_systems


def test_a_services_mount_may_not_lie_over_its_own_writable_path() -> None:
    service = {
        "type": "web",
        "path": ["/api/*"],
        "writablePaths": ["/tmp", "/srv/cache"],
        "mounts": {"shared": "/srv/cache"},
    }
    found = problem(
        "services.api.mounts.shared", fileSystems={"shared": {}}, services={"api": service}
    )
    assert "clashes with /srv/cache" in found


def test_a_mount_over_a_writable_path_the_stack_sets_is_refused() -> None:
    found = problem("mounts.shared", writablePaths=["/tmp", "/var/cache/app"],
                    fileSystems={"shared": {}}, mounts={"shared": "/var/cache/app"})  # fmt: skip
    assert "clashes with /var/cache/app" in found


def test_with_a_writable_root_no_path_is_task_storage() -> None:
    waived = {"ecs-container-read-only-root": "the vendor image writes all over its root"}
    cfg = load(readOnlyRootFilesystem=False, policyWaivers=waived,
               fileSystems={"shared": {}}, mounts={"shared": "/tmp"})  # fmt: skip
    assert cfg.mounts[0].path == "/tmp"


def test_a_writable_path_whose_volume_would_be_the_file_systems_is_refused() -> None:
    found = problem("mounts.shared", writablePaths=["/tmp", "/efs-shared"],
                    fileSystems={"shared": {}}, mounts={"shared": "/data"})  # fmt: skip
    assert "/efs-shared" in found
