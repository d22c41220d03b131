"""The container image (components/image.py): ECR repository, build and push, what tasks run.

What a user relies on: a repository that scans, encrypts, keeps tags immutable and prunes old
images; an image built for the CPU the tasks run on (also from an Apple Silicon laptop); a tag
that changes exactly when the image content does, so the immutable repository accepts every real
change and a deploy happens only then; credentials from ECR kept secret; and the task definition
pinned to the pushed image's digest, or to a prebuilt image's digest.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.image import ContainerImage, ContainerImageArgs, image_tag
from components.spec import ImageBuild, ImageRef
from stack_config import load_config
from tests.conftest import STACKS
from tools.mocks import (
    ACCOUNT_ID,
    UNKNOWN,
    ProgramRun,
    RegisteredResource,
    Unknown,
    config_for_runtime,
    load_stack_config,
)

ROOT = Path(__file__).resolve().parent.parent
# A small build context of the tests' own: what the tag hashes, whatever app the project holds.
CONTEXT = ROOT / "tests" / "fixtures" / "image-context"
REGION = "us-east-1"
REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
DOCKER_IMAGE = "docker:index/image:Image"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
GET_TOKEN = "aws:ecr/getAuthorizationToken:getAuthorizationToken"
GET_IMAGE = "aws:ecr/getImage:getImage"
DIGEST_REF = re.compile(
    rf"^{ACCOUNT_ID}\.dkr\.ecr\.{REGION}\.amazonaws\.com/[a-z0-9._/-]+@sha256:[0-9a-f]{{64}}$"
)
PREBUILT_REPO = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/team/web"
PREBUILT_DIGEST = "sha256:" + "ab" * 32


def image_component(run: ProgramRun) -> RegisteredResource:
    found = [r for r in run.of_type("fargate-app:image:ContainerImage") if r.name == "app"]
    assert len(found) == 1, f"expected the ContainerImage 'app', found {len(found)}"
    return found[0]


def child(run: ProgramRun, type_token: str) -> RegisteredResource:
    """The one resource of `type_token` inside the app's ContainerImage component."""
    found = [r for r in run.children(image_component(run)) if r.type == type_token]
    assert len(found) == 1, f"expected one {type_token} in the image component, got {len(found)}"
    return found[0]


def app_task_definition(run: ProgramRun) -> RegisteredResource:
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "app-svc")
    return next(
        t
        for t in run.of_type(TASK_DEFINITION)
        if t.outputs.get("arn") == service.inputs["taskDefinition"]
    )


def container_image(run: ProgramRun) -> str:
    containers = json.loads(app_task_definition(run).inputs["containerDefinitions"])
    return containers[0]["image"]


def is_secret(value: Any) -> bool:
    """Whether the engine received `value` marked secret (so state stores it encrypted)."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


# --- the repository -------------------------------------------------------------------------------


def test_the_repository_keeps_tags_immutable_scans_on_push_and_encrypts(dev: ProgramRun) -> None:
    repo = child(dev, REPOSITORY)
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE", (
        f"{repo.urn}: a pushed tag must never be overwritten by other content"
    )
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}, repo.urn
    encryption = repo.inputs.get("encryptionConfigurations") or []
    assert encryption and encryption[0]["encryptionType"] in ("AES256", "KMS"), repo.urn


def lifecycle_rules(run: ProgramRun) -> list[dict[str, Any]]:
    policy = child(run, LIFECYCLE)
    repo = child(run, REPOSITORY)
    assert policy.inputs["repository"] == repo.outputs["name"], f"{policy.urn} is for another repo"
    return json.loads(policy.inputs["policy"])["rules"]


def test_the_lifecycle_policy_keeps_the_last_ten_images_by_default(dev: ProgramRun) -> None:
    rules = lifecycle_rules(dev)
    assert len(rules) == 1, rules
    rule = rules[0]
    assert rule["selection"]["tagStatus"] == "any"
    assert rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["selection"]["countNumber"] == 10 and rule["action"] == {"type": "expire"}


def test_the_lifecycle_policy_keeps_as_many_images_as_asked(run_component) -> None:
    run = run_component(
        lambda: ContainerImage(
            "app", ContainerImageArgs(keep_images=3, prebuilt=ImageRef(
                uri=f"{PREBUILT_REPO}@{PREBUILT_DIGEST}", account=ACCOUNT_ID, region=REGION,
                repository="team/web", digest=PREBUILT_DIGEST,
            ))
        )
    )  # fmt: skip
    assert [r["selection"]["countNumber"] for r in lifecycle_rules(run)] == [3]


# --- the build: platform and tag ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "platform"), [("X86_64", "linux/amd64"), ("ARM64", "linux/arm64")]
)
def test_the_image_is_built_for_the_tasks_cpu_architecture(
    run_stack, arch: str, platform: str
) -> None:
    run = run_stack("dev", {"cpuArchitecture": arch, "spot": False})
    image = child(run, DOCKER_IMAGE)
    assert image.inputs["build"]["platform"] == platform, (
        f"{image.urn}: tasks run {arch}, so the image must be built for {platform} "
        "whatever machine runs `pulumi up`"
    )
    runtime = app_task_definition(run).inputs["runtimePlatform"]
    assert runtime == {"cpuArchitecture": arch, "operatingSystemFamily": "LINUX"}


def build_of(stack: str) -> ImageBuild:
    """What the stack's config says to build (the program's own loader)."""
    raw = config_for_runtime("fargate-app", load_stack_config(ROOT, stack))
    return load_config(raw, stack=stack, project_dir=ROOT).build


@pytest.mark.parametrize("stack", STACKS)
def test_the_image_is_built_from_the_stack_s_build_setting(run_stack, stack: str) -> None:
    build = child(run_stack(stack), DOCKER_IMAGE).inputs["build"]
    want = build_of(stack)
    assert (build["context"], build["dockerfile"]) == (want.context, want.dockerfile), (
        "the context and Dockerfile the stack names, relative to the project, so that the state "
        "is the same on every machine"
    )


def test_another_context_and_dockerfile_are_built_as_the_setting_says(run_stack) -> None:
    setting = {
        "context": "tests/fixtures/image-context",
        "dockerfile": "tests/fixtures/web.Dockerfile",
    }
    run = run_stack("dev", {"build": setting})
    image = child(run, DOCKER_IMAGE)
    assert image.inputs["build"]["context"] == setting["context"]
    assert image.inputs["build"]["dockerfile"] == setting["dockerfile"]
    tag = image_tag(ROOT / setting["context"], "linux/amd64", ROOT / setting["dockerfile"])
    assert image.inputs["imageName"].endswith(f":{tag}"), image.inputs["imageName"]


def test_the_pushed_tag_is_the_content_tag_of_the_build(dev: ProgramRun) -> None:
    image = child(dev, DOCKER_IMAGE)
    repo_url = child(dev, REPOSITORY).outputs["repositoryUrl"]
    build = build_of("dev")
    tag = image_tag(ROOT / build.context, "linux/amd64", ROOT / build.dockerfile)
    assert image.inputs["imageName"] == f"{repo_url}:{tag}", image.urn


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A copy of the tests' build context (its .dockerignore included), without local caches."""
    copy = tmp_path / "context"
    shutil.copytree(CONTEXT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return copy


def test_the_tag_is_the_same_for_the_same_content_anywhere(context: Path, tmp_path: Path) -> None:
    elsewhere = shutil.copytree(context, tmp_path / "elsewhere" / "context")
    assert image_tag(context, "linux/amd64") == image_tag(elsewhere, "linux/amd64")
    assert image_tag(context, "linux/amd64") == image_tag(CONTEXT, "linux/amd64")


@pytest.mark.parametrize("path", ["src/server.py", "requirements.txt"])
def test_the_tag_changes_when_a_file_the_image_copies_changes(context: Path, path: str) -> None:
    before = image_tag(context, "linux/amd64")
    with (context / path).open("a") as f:
        f.write("\n# changed\n")
    assert image_tag(context, "linux/amd64") != before, (
        f"changing {path} keeps the tag {before}: the immutable repository refuses the "
        "new image under the old tag, or the service keeps running the old one"
    )


def test_the_tag_changes_when_the_dockerfile_changes(context: Path) -> None:
    before = image_tag(context, "linux/amd64")
    with (context / "Dockerfile").open("a") as f:
        f.write('\nLABEL changed="yes"\n')
    assert image_tag(context, "linux/amd64") != before, (
        "a Dockerfile change builds a different image, so it needs a new tag"
    )


def test_the_tag_changes_when_a_dockerfile_outside_the_context_changes(
    context: Path, tmp_path: Path
) -> None:
    dockerfile = tmp_path / "docker" / "web.Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text("FROM scratch\nCOPY src/ /srv/src/\n")
    before = image_tag(context, "linux/amd64", dockerfile)
    assert before != image_tag(context, "linux/amd64"), "another Dockerfile is another image"
    with dockerfile.open("a") as f:
        f.write('LABEL changed="yes"\n')
    assert image_tag(context, "linux/amd64", dockerfile) != before, (
        "a Dockerfile outside the context still decides the image, so it is hashed too"
    )


def test_a_dockerfile_inside_the_context_counts_once_however_it_is_named(context: Path) -> None:
    assert image_tag(context, "linux/amd64", context / "Dockerfile") == image_tag(
        context, "linux/amd64"
    )


def test_the_tag_changes_in_a_context_without_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (tmp_path / "app.py").write_text("print('v1')\n")
    before = image_tag(tmp_path, "linux/amd64")
    (tmp_path / "app.py").write_text("print('v2')\n")
    assert image_tag(tmp_path, "linux/amd64") != before


def test_python_caches_do_not_change_the_tag(context: Path) -> None:
    before = image_tag(context, "linux/amd64")
    cache = context / "src" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "server.cpython-312.pyc").write_bytes(b"\x00compiled")
    (context / ".pytest_cache").mkdir(exist_ok=True)
    (context / ".pytest_cache" / "README.md").write_text("cache")
    assert image_tag(context, "linux/amd64") == before, "a local cache would force a rebuild"


def test_files_the_dockerignore_leaves_out_do_not_change_the_tag(context: Path) -> None:
    before = image_tag(context, "linux/amd64")
    (context / "NOTES.md").write_text("not part of the image\n")
    assert image_tag(context, "linux/amd64") == before


def test_the_tag_differs_by_platform(context: Path) -> None:
    amd, arm = image_tag(context, "linux/amd64"), image_tag(context, "linux/arm64")
    assert amd != arm and amd.endswith("-amd64") and arm.endswith("-arm64")


# --- push credentials and what the task runs ------------------------------------------------------


def test_the_push_uses_a_secret_ecr_authorization_token_for_this_registry(dev: ProgramRun) -> None:
    repo = child(dev, REPOSITORY)
    tokens = [args for token, args in dev.invokes if token == GET_TOKEN]
    assert tokens, "the registry credentials must come from aws.ecr.get_authorization_token"
    assert all(a.get("registryId") == repo.outputs["registryId"] for a in tokens), tokens
    image = child(dev, DOCKER_IMAGE)
    registry = image.inputs["registry"]
    assert registry["username"] == "AWS" and registry["password"] == "mock-ecr-password", (
        f"{image.urn} does not log in with the token's user and password"
    )
    assert registry["server"].startswith(repo.outputs["registryId"]), registry["server"]
    wire = image.outputs["registry"]
    assert is_secret(wire) or is_secret(wire.get("password")), (
        f"{image.urn}: the registry password would be stored in plain text in the state"
    )


def test_the_task_runs_the_pushed_image_by_digest(dev: ProgramRun) -> None:
    pushed = child(dev, DOCKER_IMAGE).outputs["repoDigest"]
    assert DIGEST_REF.match(pushed), pushed
    assert container_image(dev) == pushed, (
        f"{app_task_definition(dev).urn} runs {container_image(dev)}, not the pushed {pushed}: "
        "by digest, a deploy happens exactly when the image changed"
    )
    assert dev.outputs["imageRef"] == pushed


def test_a_prebuilt_image_by_digest_is_deployed_as_is_without_a_build(run_stack) -> None:
    uri = f"{PREBUILT_REPO}@{PREBUILT_DIGEST}"
    run = run_stack("dev", {"image": uri})
    assert not run.of_type(DOCKER_IMAGE), "a prebuilt image must not be built again"
    assert container_image(run) == uri and run.outputs["imageRef"] == uri
    assert not [t for t, _ in run.invokes if t == GET_IMAGE], "a digest needs no lookup"


def test_a_prebuilt_image_by_tag_is_pinned_to_its_digest_at_deploy_time(run_stack) -> None:
    run = run_stack("dev", {"image": f"{PREBUILT_REPO}:v1.2.3"})
    assert not run.of_type(DOCKER_IMAGE), "a prebuilt image must not be built again"
    lookups = [a for t, a in run.invokes if t == GET_IMAGE]
    assert len(lookups) == 1, f"expected one ecr getImage lookup, got {lookups}"
    lookup = lookups[0]
    assert (lookup["repositoryName"], lookup["imageTag"]) == ("team/web", "v1.2.3"), lookup
    assert lookup.get("registryId") == ACCOUNT_ID, lookup
    image = container_image(run)
    assert image.startswith(f"{PREBUILT_REPO}@sha256:") and DIGEST_REF.match(image), (
        f"the task must run the tag's digest, not the movable tag: {image}"
    )
    assert run.outputs["imageRef"] == image


@pulumi.runtime.test
def test_the_component_exposes_a_prebuilt_digest_as_its_image_ref(pulumi_mocks) -> pulumi.Output:
    uri = f"{PREBUILT_REPO}@{PREBUILT_DIGEST}"
    ref = ImageRef(uri=uri, account=ACCOUNT_ID, region=REGION, repository="team/web",
                   digest=PREBUILT_DIGEST)  # fmt: skip
    image = ContainerImage("app", ContainerImageArgs(prebuilt=ref))

    def check(values: list[str]) -> None:
        image_ref, repository_url = values
        assert image_ref == uri
        assert repository_url.startswith(f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/")

    return pulumi.Output.all(image.image_ref, image.repository_url).apply(check)


# --- preview: what `pulumi preview` shows before the image is pushed ------------------------------

PREBUILT_BY_DIGEST = ImageRef(
    uri=f"{PREBUILT_REPO}@{PREBUILT_DIGEST}",
    account=ACCOUNT_ID,
    region=REGION,
    repository="team/web",
    digest=PREBUILT_DIGEST,
)
PREBUILT_BY_TAG = ImageRef(
    uri=f"{PREBUILT_REPO}:v1.2.3",
    account=ACCOUNT_ID,
    region=REGION,
    repository="team/web",
    tag="v1.2.3",
)
IMAGE_VARIANTS = {
    "amd64": ContainerImageArgs(),
    "arm64": ContainerImageArgs(platform="linux/arm64"),
    "protected": ContainerImageArgs(protect=True),
    "prebuilt-digest": ContainerImageArgs(prebuilt=PREBUILT_BY_DIGEST),
    "prebuilt-tag": ContainerImageArgs(prebuilt=PREBUILT_BY_TAG),
}


def planned_task_definition(run: ProgramRun) -> RegisteredResource:
    """The task definition the app's service is planned with (read from its dependencies, since
    its ARN is unknown in preview)."""
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "app-svc")
    found = [t for t in run.of_type(TASK_DEFINITION) if t.urn in service.depends_on]
    assert len(found) == 1, f"{service.urn} is planned with {len(found)} task definitions, want 1"
    return found[0]


@pytest.mark.parametrize("variant", IMAGE_VARIANTS)
def test_preview_plans_exactly_the_image_resources_an_update_creates(
    run_component, variant: str
) -> None:
    def build() -> None:
        ContainerImage("app", IMAGE_VARIANTS[variant])

    up = {r.urn for r in run_component(build).resources}
    planned = {r.urn for r in run_component(build, preview=True).resources}
    assert planned == up, (
        f"{variant}: `pulumi preview` hides {sorted(up - planned)} that `pulumi up` creates "
        f"and shows {sorted(planned - up)} that it does not"
    )


@pytest.mark.parametrize(
    ("arch", "platform"), [("X86_64", "linux/amd64"), ("ARM64", "linux/arm64")]
)
def test_preview_shows_the_image_built_for_the_tasks_cpu_architecture(
    run_stack, arch: str, platform: str
) -> None:
    run = run_stack("dev", {"cpuArchitecture": arch, "spot": False}, preview=True)
    image = child(run, DOCKER_IMAGE)
    assert image.inputs["build"]["platform"] == platform, (
        f"preview shows {image.urn} built for {image.inputs['build']['platform']}, but tasks "
        f"run {arch}: want {platform}"
    )
    runtime = planned_task_definition(run).inputs["runtimePlatform"]
    assert runtime == {"cpuArchitecture": arch, "operatingSystemFamily": "LINUX"}, runtime


def test_preview_shows_the_tasks_image_as_known_after_the_push(dev_preview: ProgramRun) -> None:
    image = child(dev_preview, DOCKER_IMAGE)
    definition = planned_task_definition(dev_preview)
    assert image.urn in definition.depends_on, (
        f"{definition.urn} is not planned with the pushed image {image.urn}"
    )
    containers = definition.inputs.get("containerDefinitions")
    assert containers == UNKNOWN, (
        f"{definition.urn}: until the image is pushed its digest is unknown, so preview must "
        f"show the container definitions as known after apply, not {containers!r}"
    )
    assert dev_preview.outputs["imageRef"] == Unknown(), (
        f"imageRef shows {dev_preview.outputs['imageRef']!r} before the image is pushed"
    )
    assert image.inputs.get("buildOnPreview") is not True, (
        f"{image.urn}: `pulumi preview` (read-only in pull requests) must not build and push"
    )


def test_preview_shows_the_exact_prebuilt_image_the_tasks_will_run(run_stack) -> None:
    uri = f"{PREBUILT_REPO}@{PREBUILT_DIGEST}"
    run = run_stack("dev", {"image": uri}, preview=True)
    assert not run.of_type(DOCKER_IMAGE), "preview plans a build of a prebuilt image"
    containers = json.loads(planned_task_definition(run).inputs["containerDefinitions"])
    assert [c["image"] for c in containers] == [uri], (
        f"preview shows the tasks running {[c['image'] for c in containers]}, want {uri}"
    )
    assert run.outputs["imageRef"] == uri


def test_preview_pins_a_prebuilt_tag_to_the_digest_an_update_deploys(run_stack) -> None:
    config = {"image": f"{PREBUILT_REPO}:v1.2.3"}
    run = run_stack("dev", config, preview=True)
    containers = json.loads(planned_task_definition(run).inputs["containerDefinitions"])
    image = containers[0]["image"]
    assert DIGEST_REF.match(image) and image.startswith(f"{PREBUILT_REPO}@sha256:"), (
        f"preview shows the tasks running {image}, not the tag's digest"
    )
    assert image == container_image(run_stack("dev", config)), (
        "preview shows another digest than `pulumi up` deploys"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_shows_the_repositorys_protections(run_stack, stack: str) -> None:
    run = run_stack(stack, preview=True)
    repo = child(run, REPOSITORY)
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE", repo.urn
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}, repo.urn
    assert repo.inputs["encryptionConfigurations"][0]["encryptionType"] in ("AES256", "KMS")
    assert repo.protect is (stack == "prod"), (
        f"preview of {stack} shows {repo.urn} with protect={repo.protect}"
    )
    policy = child(run, LIFECYCLE)
    assert repo.urn in policy.depends_on, f"{policy.urn} is planned for another repository"
    [rule] = json.loads(policy.inputs["policy"])["rules"]
    assert rule["selection"]["countNumber"] == 10, f"{policy.urn} keeps {rule['selection']}"
