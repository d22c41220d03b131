"""What the stack's own Dockerfile says against its container settings (stack_config/build.py).

What a user relies on: before anything is deployed, the program reads the final stage of the
Dockerfile the stack builds (the stage `docker build` produces) and says, as a warning from
`pulumi up` and in the plan, when the container would not run well on ECS: a writable path its
non-root user cannot write (ECS mounts it owned by root 0755 unless the image declares a VOLUME), a
user other than the image's own, a shell as PID 1 that swallows SIGTERM. A stack that deploys a
prebuilt image gets no such warning: nothing can be read offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stack_config import config_warnings, final_stage, load_config
from tools.mocks import ACCOUNT_ID
from tools.plan import render
from tools.plan.model import Project, plan_of

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
NON_ROOT = "ecs-container-non-root-user"

NON_ROOT_WITH_TMP = """\
FROM python:3.12.12-slim-bookworm
COPY server.py /srv/
VOLUME ["/tmp"]
USER 10001:10001
CMD ["python", "/srv/server.py"]
"""


def warnings_for(tmp_path: Path, dockerfile: str, **settings: Any) -> list[str]:
    """Given a project whose app/Dockerfile is `dockerfile`, the warnings for these settings."""
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "Dockerfile").write_text(dockerfile)
    cfg = load_config({"aws:region": REGION, **settings}, stack="t", project_dir=tmp_path)
    return config_warnings(cfg, tmp_path)


# --- reading the final stage ----------------------------------------------------------------------


def test_the_final_stage_is_what_docker_build_produces() -> None:
    stage = final_stage(
        "FROM python:3.12 AS build\nUSER 0:0\nVOLUME /build\nCMD build\n"
        'FROM python:3.12-slim AS runtime\nUSER 10001:10001\nCMD ["serve"]\n'
    )
    assert stage is not None
    assert stage.user == "10001:10001" and stage.volumes == frozenset()
    assert stage.start is not None and stage.start.arguments == '["serve"]'


def test_a_stage_built_from_an_earlier_one_inherits_its_user_volumes_and_start() -> None:
    stage = final_stage(
        'FROM debian:12 AS base\nUSER 1000:1000\nVOLUME /tmp /var/cache\nENTRYPOINT ["/app"]\n'
        "FROM base\nENV X=1\n"
    )
    assert stage is not None and stage.user == "1000:1000"
    assert stage.volumes == {"/tmp", "/var/cache"} and stage.start is not None


def test_heredoc_bodies_and_continuations_are_not_read_as_instructions() -> None:
    stage = final_stage(
        "FROM debian:12\nRUN <<EOF\nUSER 0:0\nVOLUME /nope\nEOF\n"
        'VOLUME ["/tmp", \\\n  "/data"]\nUSER 1000:1000\n'
    )
    assert stage is not None and stage.user == "1000:1000"
    assert stage.volumes == {"/tmp", "/data"}


def test_a_dockerfile_without_from_has_no_stage() -> None:
    assert final_stage("# empty\nARG X=1\n") is None


# --- warnings -------------------------------------------------------------------------------------


def test_a_dockerfile_that_matches_the_settings_gives_no_warning(tmp_path: Path) -> None:
    assert warnings_for(tmp_path, NON_ROOT_WITH_TMP) == []


def test_the_committed_stacks_build_without_warnings() -> None:
    from tests.conftest import STACKS
    from tools.mocks import config_for_runtime, load_stack_config

    for stack in STACKS:
        raw = config_for_runtime("fargate-app", load_stack_config(ROOT, stack))
        cfg = load_config(raw, stack=stack, project_dir=ROOT)
        assert config_warnings(cfg, ROOT) == [], stack


def test_a_writable_path_the_image_does_not_declare_a_volume_is_a_warning(tmp_path: Path) -> None:
    dockerfile = NON_ROOT_WITH_TMP.replace('VOLUME ["/tmp"]\n', "")
    [warning] = warnings_for(tmp_path, dockerfile)
    assert warning.startswith("writablePaths '/tmp': app/Dockerfile's final stage declares no")
    assert "owned by root with mode 0755" in warning and 'VOLUME ["/tmp"]' in warning


def test_root_can_write_a_path_the_image_does_not_declare(tmp_path: Path) -> None:
    dockerfile = NON_ROOT_WITH_TMP.replace('VOLUME ["/tmp"]\n', "")
    found = warnings_for(
        tmp_path, dockerfile, containerUser="0:0", policyWaivers={NON_ROOT: "x" * 12}
    )
    assert not [w for w in found if w.startswith("writablePaths")], found


def test_a_user_other_than_the_image_s_own_is_a_warning(tmp_path: Path) -> None:
    [warning] = warnings_for(tmp_path, NON_ROOT_WITH_TMP, containerUser="2000:2000")
    assert "runs as USER 10001:10001" in warning
    assert "pulumi config set containerUser 10001:10001" in warning


def test_the_image_s_own_non_root_user_is_checked_against_the_volumes(tmp_path: Path) -> None:
    dockerfile = NON_ROOT_WITH_TMP.replace('VOLUME ["/tmp"]\n', "")
    found = warnings_for(
        tmp_path, dockerfile, containerUser="image", policyWaivers={NON_ROOT: "x" * 12}
    )
    assert [w for w in found if "user 10001 cannot write" in w], found


@pytest.mark.parametrize("start", ["CMD python /srv/server.py", "ENTRYPOINT python -m srv"])
def test_a_shell_form_start_is_a_warning(tmp_path: Path, start: str) -> None:
    dockerfile = NON_ROOT_WITH_TMP.replace('CMD ["python", "/srv/server.py"]', start)
    [warning] = warnings_for(tmp_path, dockerfile)
    assert warning.startswith("app/Dockerfile:5:") and "SIGTERM" in warning
    assert "exec form" in warning


def test_a_shell_form_that_execs_the_app_is_fine(tmp_path: Path) -> None:
    dockerfile = NON_ROOT_WITH_TMP.replace(
        'CMD ["python", "/srv/server.py"]', "CMD exec python /srv/server.py"
    )
    assert warnings_for(tmp_path, dockerfile) == []


def test_a_prebuilt_image_gets_no_warning(tmp_path: Path) -> None:
    image = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/web@sha256:" + "a" * 64
    cfg = load_config({"aws:region": REGION, "image": image}, stack="t", project_dir=tmp_path)
    assert config_warnings(cfg, tmp_path) == []


# --- where the warnings are shown -----------------------------------------------------------------


@pytest.fixture
def project_without_tmp_volume(tmp_path: Path) -> Path:
    """This project with a Dockerfile whose non-root user cannot write /tmp on ECS."""
    for entry in ("__main__.py", "Pulumi.yaml", "components", "stack_config"):
        (tmp_path / entry).symlink_to(ROOT / entry)
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text(NON_ROOT_WITH_TMP.replace('VOLUME ["/tmp"]\n', ""))
    (tmp_path / "Pulumi.t.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  fargate-app:build:\n    context: web\n"
        "  fargate-app:policyWaivers:\n    elb-access-logs: logs are not needed in this test\n"
    )
    return tmp_path


def test_pulumi_up_and_the_plan_print_the_warnings_and_the_waivers(
    project_without_tmp_volume: Path,
) -> None:
    from tools.plan.model import run_stack

    project = Project.at(project_without_tmp_volume)
    run = run_stack(project, "t")
    assert [w for w in run.warnings if w.startswith("writablePaths '/tmp'")], run.warnings
    text = render.render(plan_of(run, project))
    assert "Warnings (pulumi up prints them too)\n  - writablePaths '/tmp'" in text
    assert "Policy waivers" in text and "elb-access-logs: logs are not needed in this test" in text


# --- a service's own build, or the main image run as a service says ------------------------------


def service_warnings(tmp_path: Path, dockerfile: str, service: dict[str, Any]) -> list[str]:
    """Given a project whose app/Dockerfile is the good one and whose api/Dockerfile is
    `dockerfile`, the warnings for a service `api` with these settings."""
    (tmp_path / "api").mkdir(exist_ok=True)
    (tmp_path / "api" / "Dockerfile").write_text(dockerfile)
    entry = {"type": "internal", "containerPort": 8080, **service}
    return warnings_for(tmp_path, NON_ROOT_WITH_TMP, services={"api": entry})


def test_a_services_own_build_is_read_against_its_settings(tmp_path: Path) -> None:
    dockerfile = NON_ROOT_WITH_TMP.replace('VOLUME ["/tmp"]\n', "")
    [warning] = service_warnings(tmp_path, dockerfile, {"build": {"context": "api"}})
    assert warning.startswith(
        "services.api.writablePaths '/tmp': api/Dockerfile's final stage declares no VOLUME"
    ), warning


def test_a_services_own_user_against_its_image_says_how_to_fix_it(tmp_path: Path) -> None:
    [warning] = service_warnings(
        tmp_path, NON_ROOT_WITH_TMP, {"build": {"context": "api"}, "containerUser": "2000:2000"}
    )
    assert warning.startswith("services.api.containerUser '2000:2000'"), warning
    assert "pulumi config set --path 'services.api.containerUser' 10001:10001" in warning


def test_a_service_running_the_main_image_as_another_user_is_read_against_it(
    tmp_path: Path,
) -> None:
    [warning] = service_warnings(tmp_path, NON_ROOT_WITH_TMP, {"containerUser": "2000:2000"})
    assert warning.startswith("services.api.containerUser '2000:2000': app/Dockerfile's"), warning


def test_a_dockerfile_fault_is_said_once_however_many_services_run_it(tmp_path: Path) -> None:
    dockerfile = NON_ROOT_WITH_TMP.replace('CMD ["python", "/srv/server.py"]', "CMD python x.py")
    service = {"type": "internal", "containerPort": 8080, "containerUser": "2000:2000"}
    found = warnings_for(tmp_path, dockerfile, services={"api": service, "search": service})
    assert len([w for w in found if "SIGTERM" in w]) == 1, found
    assert len([w for w in found if "containerUser '2000:2000'" in w]) == 2, found
