"""Container image: the ECR repository and the app's image, built for the task's architecture.

The image tag is a hash of the build context, the Dockerfile and the platform, so it changes
exactly when the content does (the repository's tags are immutable), and the task definition
refers to the pushed image by digest: a deploy happens exactly when the image changed.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from components.spec import (
    DEFAULT_CPU_ARCHITECTURE,
    DOCKERFILE_NAME,
    PLATFORM_BY_ARCHITECTURE,
    ImageBuild,
    ImageRef,
    check_args,
    joined,
)

TAG_HASH_CHARS = 16  # 64 bits of the content hash: collisions are not a practical concern
# Always left out of the content hash: caches that change without changing the image.
ALWAYS_IGNORED = (
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/.mypy_cache",
    "**/.ruff_cache",
)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: `*` and `?` stay within a path segment, `**`
    spans segments."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            close = pattern.index("]", i)
            out, i = out + "[" + pattern[i + 1 : close].replace("!", "^", 1) + "]", close + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "$")


def dockerignore_rules(context: str | Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(re-include, pattern) pairs in file order, then the caches that never count."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    ignore_file = Path(context) / ".dockerignore"
    lines = ignore_file.read_text().splitlines() if ignore_file.exists() else []
    for line in [*lines, *ALWAYS_IGNORED]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = posixpath.normpath(line.removeprefix("!").strip().lstrip("/"))
        rules.append((negate, _pattern_regex(pattern)))
    return rules


def sent_to_docker(rel: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether Docker sends `rel` in the build context: the last matching rule wins, and a rule
    that matches a directory matches everything under it."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negate, regex in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            excluded = not negate
    return not excluded


def context_hash(context: str | Path, platform: str, dockerfile: str | Path | None = None) -> str:
    """A hash of every file the Docker build sees (as .dockerignore decides), the Dockerfile
    (which Docker always reads, ignored or not, inside the context or not) and the platform.

    `dockerfile` defaults to the context's Dockerfile; a relative one is relative to the working
    directory, as `context` is."""
    root = Path(context)
    chosen = Path(dockerfile) if dockerfile is not None else root / DOCKERFILE_NAME
    inside = _relative_to(chosen, root)
    rules = dockerignore_rules(root)
    digest = hashlib.sha256(platform.encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == inside or sent_to_docker(rel, rules):
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    if inside is None and chosen.is_file():
        # A Dockerfile from outside the context: its content, under a name no context file has.
        digest.update(b"\0dockerfile\0" + chosen.read_bytes() + b"\0")
    return digest.hexdigest()


def _relative_to(path: Path, root: Path) -> str | None:
    """`path` relative to `root` (resolved, so ./app/Dockerfile is inside app), or None."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def image_tag(context: str | Path, platform: str, dockerfile: str | Path | None = None) -> str:
    """`<content hash>-<arch>`: unique per content and platform, readable in the ECR console."""
    digest = context_hash(context, platform, dockerfile)
    return f"{digest[:TAG_HASH_CHARS]}-{platform.split('/')[-1]}"


def lifecycle_policy(keep_images: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Keep the last {keep_images} images; older ones cannot be "
                    "rolled back to anyway once their task definitions are gone",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_images,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )


@dataclass(frozen=True, kw_only=True)
class ContainerImageArgs:
    """Settings of the repository and image.

    build: what to build: the context and the Dockerfile, relative to the project (see
        spec.ImageBuild). Default app/ and app/Dockerfile, the sample app.
    platform: linux/amd64 or linux/arm64, matching the task's CPU architecture, so that a build on
        an Apple Silicon laptop still produces what Fargate runs. Default linux/amd64.
    prebuilt: deploy this ECR image instead of building `build` (for CI-built images); a tag is
        resolved to its digest at deploy time. Default None: build.
    keep_images: images the lifecycle policy keeps. Default 10: enough to roll back a few deploys.
    protect: protect the repository from deletion and keep its images on `pulumi destroy`.
        Default False, so that dev stacks can be destroyed in one step.
    """

    build: ImageBuild = field(default_factory=ImageBuild)
    platform: str = PLATFORM_BY_ARCHITECTURE[DEFAULT_CPU_ARCHITECTURE]
    prebuilt: ImageRef | None = None
    keep_images: int = 10
    protect: bool = False

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        found = []
        platforms = tuple(PLATFORM_BY_ARCHITECTURE.values())
        if self.platform not in platforms:
            found.append(f"platform {self.platform!r}: expected {joined(platforms)}")
        if self.keep_images < 1:
            found.append(f"keep_images {self.keep_images}: the lifecycle policy keeps at least 1")
        if self.prebuilt is None:
            for name, path in (
                ("context", self.build.context),
                ("dockerfile", self.build.dockerfile),
            ):
                if not path:
                    found.append(f"build.{name}: needed to build, unless an image is prebuilt")
                elif Path(path).is_absolute():
                    found.append(
                        f"build.{name} {path!r}: relative to the project, so that the state is "
                        "the same on every machine"
                    )
        return found


class ContainerImage(pulumi.ComponentResource):
    """ECR repository (scan on push, immutable tags, encrypted, lifecycle) and the app's image.

    Outputs:
        repository_url: the repository's URL.
        repository_arn: the repository's ARN.
        image_ref: the image by digest (`<repo>@sha256:...`), for the task definition.
    """

    def __init__(
        self, name: str, args: ContainerImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"ContainerImage {name!r}", args.problems())
        super().__init__("fargate-app:image:ContainerImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repo = aws.ecr.Repository(
            f"{name}-repo",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "AES256"}],
            force_delete=not args.protect,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repo.name,
            policy=lifecycle_policy(args.keep_images),
            opts=child,
        )

        if args.prebuilt is not None:
            image_ref = self._prebuilt(args.prebuilt)
        else:
            token = aws.ecr.get_authorization_token_output(
                registry_id=repo.registry_id, opts=pulumi.InvokeOptions(parent=self)
            )
            build = args.build
            tag = image_tag(build.context, args.platform, build.dockerfile)
            image = docker.Image(
                f"{name}-image",
                image_name=repo.repository_url.apply(lambda url: f"{url}:{tag}"),
                build=docker.DockerBuildArgs(
                    context=build.context,
                    # Relative to the project, like the context (pulumi-docker 4+), and sent
                    # along when it lies outside the context (pulumi/pulumi-docker#542).
                    dockerfile=build.dockerfile,
                    platform=args.platform,
                    builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
                ),
                registry=docker.RegistryArgs(
                    server=repo.repository_url,
                    username=token.user_name,
                    password=pulumi.Output.secret(token.password),
                ),
                opts=child,
            )
            image_ref = image.repo_digest

        self.repository_url: pulumi.Output[str] = repo.repository_url
        self.repository_arn: pulumi.Output[str] = repo.arn
        self.image_ref: pulumi.Output[str] = image_ref
        self.register_outputs(
            {
                "repository_url": self.repository_url,
                "repository_arn": self.repository_arn,
                "image_ref": self.image_ref,
            }
        )

    def _prebuilt(self, ref: ImageRef) -> pulumi.Output[str]:
        base = f"{ref.account}.dkr.ecr.{ref.region}.amazonaws.com/{ref.repository}"
        if ref.digest:
            return pulumi.Output.from_input(f"{base}@{ref.digest}")
        found = aws.ecr.get_image_output(
            repository_name=ref.repository,
            image_tag=ref.tag,
            registry_id=ref.account,
            region=ref.region,
            opts=pulumi.InvokeOptions(parent=self),
        )
        return found.image_digest.apply(lambda digest: f"{base}@{digest}")
