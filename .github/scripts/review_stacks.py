"""Review stacks (docs/review-stacks.md): a pull request's own short-lived stack, `pr-<number>`.

    python .github/scripts/review_stacks.py stack-file --stack pr-12 --secrets-provider URL \\
        [--permissions-boundary ARN]     # write Pulumi.pr-12.yaml (with a boundary: to deploy it)
    python .github/scripts/review_stacks.py wanted --stack pr-12 --repository OWNER/NAME
    python .github/scripts/review_stacks.py cap --stack pr-12 --backend-url s3://... \\
        [--repository OWNER/NAME]        # refused: comment why on the pull request
    python .github/scripts/review_stacks.py sweep --backend-url s3://... --repository OWNER/NAME
    python .github/scripts/review_stacks.py state --stack pr-12 --backend-url s3://...
    python .github/scripts/review_stacks.py comment --stack pr-12 --url URL --repository ...
    python .github/scripts/review_stacks.py removed --stack pr-12 --reason ... --repository ...

What the workflows (review-stack.yml, review-sweep.yml and the pulumi-stack action) need, here
where the tests can call it:
- `.github/review-stacks.yml`, the settings (base stack, label, cap, idle limit), checked whole;
- a review stack's Pulumi.pr-<n>.yaml, never committed: the base stack's settings with the review
  overrides (REVIEW_OVERRIDES: cheap, and nothing the sweep could not delete), without the base's
  secrets (REVIEW_DROPPED), with the review stacks' boundary and secrets key;
- whether the pull request still wants its stack when the deploy starts (a run queued or waiting
  for approval outlives a close or an unlabel, and its event says how things were);
- the review stacks alive, read from the state bucket's listing (names, never contents: a review
  role may read no other stack's state, so `pulumi stack ls`, which opens every checkpoint, would
  fail), the cap on how many may live at once, and the sweep's decisions (closed, unlabelled,
  idle, or gone);
- before the sweep destroys a review stack, its checkpoint checked for what a destroy would run
  (only this repository's providers, at versions requirements.txt allows, from Pulumi's source);
- the pull-request comments: the stack's URL and the offline plan's idle cost, and its removal.

Outputs for the workflows go to $GITHUB_OUTPUT as `key=value` lines (JSON for `fromJSON`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "bootstrap", Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from ci_bootstrap.stack_names import (  # noqa: E402
    REVIEW,
    StackNameError,
    promotion_order,
    review_pull_request,
)

SETTINGS_FILE = Path(".github") / "review-stacks.yml"
# GitHub: a label name is at most 50 characters (the REST API refuses longer ones).
LABEL_MAX = 50
LIST_TIMEOUT_S = 60  # listing a prefix of the state bucket answers in well under a second
GITHUB_TIMEOUT_S = 30
GITHUB_API = "https://api.github.com"
# The comments this script writes start with this marker, so each is found and edited in place.
COMMENT_MARKER = "<!-- review-stack:{stack} -->"


class ReviewStackError(Exception):
    """A problem the workflow reports as it is, one per line, and fails on."""


# --- the settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewSettings:
    """.github/review-stacks.yml, checked: see the file for what each setting means."""

    base: str
    label: str
    max_live: int
    idle_days: int


def load_settings(root: Path = ROOT) -> ReviewSettings:
    """The review settings, or ReviewStackError listing every problem."""
    path = root / SETTINGS_FILE
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ReviewStackError(f"cannot read {SETTINGS_FILE}: {err}") from None
    if not isinstance(document, dict):
        raise ReviewStackError(
            f"{SETTINGS_FILE} must map base, label, max-live and idle-days to their values"
        )
    problems = [
        f"{SETTINGS_FILE}: {key!r} is not a setting (base, label, max-live, idle-days)"
        for key in document
        if key not in ("base", "label", "max-live", "idle-days")
    ]
    try:
        order = promotion_order(root)
    except StackNameError as err:
        order = []
        problems.append(str(err))
    base, label = document.get("base"), document.get("label")
    if base not in order:
        problems.append(
            f"{SETTINGS_FILE}: base {base!r} is not a committed stack of the promotion order "
            f"({', '.join(order) or 'none'}); name the stack whose settings review stacks copy"
        )
    if not isinstance(label, str) or not 0 < len(label.strip()) <= LABEL_MAX:
        problems.append(
            f"{SETTINGS_FILE}: label {label!r} must be a GitHub label name of 1 to {LABEL_MAX} "
            "characters"
        )
    numbers = {}
    for key in ("max-live", "idle-days"):
        value = document.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{SETTINGS_FILE}: {key} {value!r} must be a whole number, 1 or more")
            value = 1
        numbers[key] = value
    if problems:
        raise ReviewStackError("\n".join(problems))
    return ReviewSettings(
        base=str(base),
        label=str(label).strip(),
        max_live=numbers["max-live"],
        idle_days=numbers["idle-days"],
    )


# --- a review stack's settings -------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    value: Any
    why: str


def review_overrides() -> dict[str, Override]:
    """What a review stack changes from its base, and why (the program's own limits, read from
    stack_config so that they have one home)."""
    from stack_config import LOG_RETENTION_DAYS, MIN_AZS

    shortest_days = min(LOG_RETENTION_DAYS)
    return {
        "natGateways": Override(
            "none",
            "no NAT gateway (about $33 a month each, plus data): tasks in public subnets, "
            "reachable only from the load balancer",
        ),
        "vpcEndpoints": Override(False, "interface endpoints bill per AZ and hour"),
        "availabilityZones": Override(MIN_AZS, "the load balancer's minimum"),
        "desiredCount": Override(1, "one task"),
        "minCount": Override(1, "one task"),
        "maxCount": Override(1, "no autoscaling"),
        "onDemandBase": Override(0, "no on-demand base: with spot, every task on Fargate Spot"),
        "deletionProtection": Override(
            False, "nothing protected: the sweep must be able to delete all of it"
        ),
        "logRetentionDays": Override(
            shortest_days, f"{shortest_days} day of logs, the shortest CloudWatch keeps"
        ),
        "containerInsights": Override(False, "billed per metric"),
        "accessLogs": Override(False, "a bucket of logs to store and empty"),
        "flowLogs": Override(False, "log ingestion"),
        "alarmTopicEncryption": Override(
            False, "a KMS key costs $1 a month and lingers 7 to 30 days after its deletion"
        ),
        "alarmEmail": Override("", "nobody is mailed about a throwaway stack"),
        "enableExec": Override(
            False,
            "no shell into a review stack's tasks: its session key would be a KMS key, which the "
            "review roles may not create (it would also bill $1 a month and linger 30 days)",
        ),
        "domainName": Override(
            "",
            "the base's domain is the base's: a review stack answers on its own address "
            "(its distribution's https://<id>.cloudfront.net with edge cloudfront, else its load "
            "balancer's DNS name)",
        ),
        "hostedZone": Override("", "with domainName"),
        "certificateArn": Override("", "the base's certificate names the base's domain"),
    }


# Settings a review stack never copies: its base's secrets are readable only with the base's key
# and tags, which the review roles cannot reach (and must not).
REVIEW_DROPPED = ("secretValues", "secrets")
# Fargate Spot runs X86_64 tasks only (stack_config refuses spot with ARM64): an ARM64 base stays
# on on-demand Fargate, already about 20% cheaper.
SPOT_ARCHITECTURE = "X86_64"
SECURE_FIELD = "secure"


def _holds_secret(value: Any) -> bool:
    if isinstance(value, dict):
        if set(value) == {SECURE_FIELD}:
            return True
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def _project(root: Path) -> str:
    return str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])


def review_config(
    root: Path, base: str, permissions_boundary: str
) -> tuple[dict[str, Any], list[str]]:
    """A review stack's `config:` from its base stack's, and the base's keys it leaves out."""
    project = _project(root)
    stack_file = root / f"Pulumi.{base}.yaml"
    try:
        document = yaml.safe_load(stack_file.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ReviewStackError(f"cannot read the base stack's {stack_file.name}: {err}") from None
    base_config = document.get("config") or {}

    def full(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    config: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in base_config.items():
        name = full(str(key))
        if name.removeprefix(f"{project}:") in REVIEW_DROPPED or _holds_secret(value):
            dropped.append(name)
            continue
        config[name] = value
    for key, override in review_overrides().items():
        config[f"{project}:{key}"] = override.value
    architecture = config.get(f"{project}:cpuArchitecture", SPOT_ARCHITECTURE)
    config[f"{project}:spot"] = architecture == SPOT_ARCHITECTURE
    tags = config.get(f"{project}:tags")
    config[f"{project}:tags"] = {
        **(tags if isinstance(tags, dict) else {}),
        "environment": "review",
    }
    config[f"{project}:permissionsBoundary"] = permissions_boundary
    return config, dropped


def stack_file_document(
    root: Path,
    stack: str,
    secrets_provider: str,
    permissions_boundary: str | None = None,
    settings: ReviewSettings | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Pulumi.<stack>.yaml for a review stack: to deploy it (given its boundary), the base's
    settings with the overrides; to destroy it, only its secrets provider. Either way no data key:
    Pulumi makes a new one under the review stacks' key each run, and opens the state with the
    one the state records."""
    problems = []
    if review_pull_request(stack) is None:
        problems.append(f"{stack!r} is not a review stack (pr-<pull request number>)")
    if not secrets_provider.startswith("awskms://"):
        problems.append(
            f"the review stacks' secrets provider is {secrets_provider!r}: set the variable "
            f"{REVIEW.secrets_provider_variable} to the bootstrap output "
            f"githubVariables.{REVIEW.secrets_provider_variable} (bootstrap with reviewStacks)"
        )
    if permissions_boundary is not None and not permissions_boundary.startswith("arn:"):
        problems.append(
            f"the review stacks' permissions boundary is {permissions_boundary!r}: set the "
            f"variable {REVIEW.boundary_variable} to the bootstrap output "
            f"githubVariables.{REVIEW.boundary_variable}"
        )
    if problems:
        raise ReviewStackError("\n".join(problems))
    document: dict[str, Any] = {"secretsprovider": secrets_provider}
    dropped: list[str] = []
    if permissions_boundary is not None:
        settings = settings or load_settings(root)
        document["config"], dropped = review_config(root, settings.base, permissions_boundary)
    return document, dropped


def review_summary(config: Mapping[str, Any], project: str) -> str:
    """What a review stack's settings make of its base, in words, read from the settings
    themselves (an ARM64 base stays off Spot)."""

    def get(key: str) -> Any:
        return config.get(f"{project}:{key}")

    days = get("logRetentionDays")
    parts = [
        "no NAT gateway" if get("natGateways") == "none" else None,
        "Fargate Spot" if get("spot") else "on-demand Fargate (Spot runs X86_64 tasks only)",
        "one task" if get("desiredCount") == 1 else None,
        f"{days} day{'s' if days != 1 else ''} of logs" if isinstance(days, int) else None,
        "nothing protected" if get("deletionProtection") is False else None,
    ]
    return ", ".join(p for p in parts if p)


def write_stack_file(root: Path, stack: str, document: Mapping[str, Any], base: str | None) -> Path:
    path = root / f"Pulumi.{stack}.yaml"
    source = f"Pulumi.{base}.yaml with the review overrides" if base else "nothing: to destroy it"
    header = (
        f"# The review stack {stack}, written by .github/scripts/review_stacks.py from {source}.\n"
        "# Never committed (.gitignore): every run writes it afresh.\n"
    )
    path.write_text(header + yaml.safe_dump(dict(document), sort_keys=False))
    return path


# --- the review stacks alive ---------------------------------------------------------------------


@dataclass(frozen=True)
class LiveStack:
    stack: str
    pull_request: int
    last_update: datetime


def backend_bucket(backend_url: str) -> tuple[str, str | None]:
    """The bucket and region of `s3://bucket?region=...`; ReviewStackError for anything else
    (review stacks keep their state in the bootstrap's bucket: docs/review-stacks.md)."""
    parsed = urllib.parse.urlparse(backend_url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ReviewStackError(
            f"the review stacks' backend is {backend_url!r}: set the variable "
            f"{REVIEW.backend_variable} to the bootstrap output "
            f"githubVariables.{REVIEW.backend_variable} (s3://...; review stacks need the "
            "self-managed backend, whose bucket policy keeps the review roles to their state)"
        )
    region = urllib.parse.parse_qs(parsed.query).get("region", [None])[0]
    return parsed.netloc, region


def checkpoint_prefix(project: str) -> str:
    """Where Pulumi's self-managed backend keeps the review stacks' checkpoints
    (ci_bootstrap.state_bucket.PULUMI_STACK_STATE_KEYS)."""
    return f".pulumi/stacks/{project}/{REVIEW.names.stack.removesuffix('*')}"


def live_stacks(listing: Mapping[str, Any], project: str) -> list[LiveStack]:
    """The review stacks in an `aws s3api list-objects-v2` answer for checkpoint_prefix: each
    checkpoint (`pr-<n>.json`, `.json.gz` or `.json.zst`; a `.bak` is what `pulumi stack rm`
    leaves) with the time it was last written."""
    pattern = re.compile(
        rf"^\.pulumi/stacks/{re.escape(project)}/(?P<stack>[^/]+)\.json(?:\.gz|\.zst)?$"
    )
    found: dict[str, LiveStack] = {}
    for item in listing.get("Contents") or []:
        m = pattern.match(str(item.get("Key", "")))
        number = review_pull_request(m.group("stack")) if m else None
        if m is None or number is None:
            continue
        when = datetime.fromisoformat(str(item["LastModified"]).replace("Z", "+00:00"))
        previous = found.get(m.group("stack"))
        if previous is None or when > previous.last_update:
            found[m.group("stack")] = LiveStack(m.group("stack"), number, when)
    return sorted(found.values(), key=lambda s: s.pull_request)


ListObjects = Callable[[str, str, "str | None"], Mapping[str, Any]]


def aws_list_objects(bucket: str, prefix: str, region: str | None) -> Mapping[str, Any]:
    """The AWS CLI's listing (it pages through every result itself), with the job's credentials."""
    command = ["aws", "s3api", "list-objects-v2", "--bucket", bucket, "--prefix", prefix]
    command += ["--output", "json", *(["--region", region] if region else [])]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=LIST_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise ReviewStackError(f"cannot list the review stacks in {bucket}: {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else {}


def list_live_stacks(
    backend_url: str, root: Path = ROOT, list_objects: ListObjects = aws_list_objects
) -> list[LiveStack]:
    bucket, region = backend_bucket(backend_url)
    project = _project(root)
    return live_stacks(list_objects(bucket, checkpoint_prefix(project), region), project)


def cap_problem(stack: str, live: Sequence[LiveStack], max_live: int) -> str | None:
    """Why `stack` may not be created now, or None: a stack that lives is always updated."""
    alive = [s.stack for s in live]
    if stack in alive or len(alive) < max_live:
        return None
    return (
        f"{stack} is not deployed: {len(alive)} review stacks live already ({', '.join(alive)}), "
        f"the most {SETTINGS_FILE} allows (max-live: {max_live}; each has its own VPC, 5 a "
        "region by default). Remove the label from a pull request that no longer needs its "
        "stack, then push or label this one again; or raise max-live with the VPC quota."
    )


# --- what a destroy would run --------------------------------------------------------------------
#
# `pulumi destroy` does not run the program: it starts the provider plugins the stack's state
# names, at the versions and from the download servers the state records, and a Python dynamic
# resource's Delete is code unpickled from the state. A review stack's state is written by its pull
# request's program, so before main's sweep destroys one, it reads the checkpoint and refuses
# anything but this repository's own providers (requirements.txt, main's) from Pulumi's default
# plugin source; the destroy then runs with automatic plugin acquisition off, with only the
# plugins installed here.

REQUIREMENTS_FILE = "requirements.txt"
# A provider SDK on PyPI is `pulumi-<plugin>` (pulumi-aws ships the plugin `aws`).
PROVIDER_SDK_PREFIX = "pulumi-"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
# The engine's own resource types (the stack, stack references), served by no plugin.
ENGINE_PACKAGE = "pulumi"
# Where a provider resource's inputs keep the engine's settings (Pulumi 3.100 and later); older
# states keep them at the top level of the inputs.
INTERNAL_INPUTS = "__internal"
DOWNLOAD_URL_INPUT = "pluginDownloadURL"
PARAMETERIZATION_INPUT = "parameterization"
VERSION_INPUT = "version"
CHECKPOINT_SUFFIXES = (".json", ".json.gz")
GZIP_MAGIC = b"\x1f\x8b"


def provider_requirements(root: Path = ROOT) -> dict[str, Any]:
    """The provider plugins this repository uses, each with the versions requirements.txt allows
    (a packaging SpecifierSet), by plugin name."""
    from packaging.requirements import InvalidRequirement, Requirement

    allowed: dict[str, Any] = {}
    for line in (root / REQUIREMENTS_FILE).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            raise ReviewStackError(f"{REQUIREMENTS_FILE}: cannot read {text!r}") from None
        name = requirement.name.lower().replace("_", "-")
        if name.startswith(PROVIDER_SDK_PREFIX):
            allowed[name.removeprefix(PROVIDER_SDK_PREFIX)] = requirement.specifier
    return allowed


def _deployment(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The deployment of a checkpoint file (`checkpoint.latest`) or of `pulumi stack export`."""
    if "checkpoint" in document:
        return (document.get("checkpoint") or {}).get("latest") or {}
    return document.get("deployment") or {}


def _provider_setting(inputs: Mapping[str, Any], key: str) -> Any:
    internal = inputs.get(INTERNAL_INPUTS)
    if isinstance(internal, Mapping) and internal.get(key) not in (None, ""):
        return internal[key]
    return inputs.get(key)


@dataclass(frozen=True)
class StateCheck:
    """What a checkpoint would make `pulumi destroy` run: the problems that refuse it, and the
    plugins (name, version) to install for it."""

    problems: tuple[str, ...]
    plugins: tuple[tuple[str, str], ...]


def check_state(document: Mapping[str, Any], allowed: Mapping[str, Any]) -> StateCheck:
    """Refuse a state whose destroy would run anything but `allowed`'s providers at allowed
    versions from the default source: a dynamic provider, another package, a pluginDownloadURL,
    a parameterized provider, or a version requirements.txt does not allow."""
    deployment = _deployment(document)
    resources = [
        *(deployment.get("resources") or []),
        *((op or {}).get("resource") or {} for op in deployment.get("pending_operations") or []),
    ]
    problems: list[str] = []
    plugins: set[tuple[str, str]] = set()
    for resource in resources:
        urn, kind = str(resource.get("urn", "?")), str(resource.get("type", ""))
        if kind.startswith(PROVIDER_TYPE_PREFIX):
            package = kind.removeprefix(PROVIDER_TYPE_PREFIX)
            inputs = resource.get("inputs") or {}
            if package == ENGINE_PACKAGE:
                continue  # the engine's own (stack references), inside the CLI: no plugin
            if package not in allowed:
                problems.append(
                    f"{urn}: a provider of {package!r}, not one of this repository's "
                    f"({', '.join(sorted(allowed))}; a dynamic provider's Delete is code from "
                    "the state)"
                )
                continue
            url = _provider_setting(inputs, DOWNLOAD_URL_INPUT)
            if url not in (None, ""):
                problems.append(f"{urn}: downloads its plugin from {url!r}, not Pulumi's source")
            if _provider_setting(inputs, PARAMETERIZATION_INPUT) not in (None, ""):
                problems.append(f"{urn}: a parameterized provider")
            version = inputs.get(VERSION_INPUT)
            if not isinstance(version, str) or not version:
                problems.append(f"{urn}: names no plugin version")
            elif not allowed[package].contains(version.removeprefix("v"), prereleases=True):
                problems.append(
                    f"{urn}: {package} {version}, which {REQUIREMENTS_FILE} does not allow "
                    f"(pulumi-{package}{allowed[package]})"
                )
            else:
                plugins.add((package, version.removeprefix("v")))
        elif resource.get("custom"):
            package = kind.split(":", 1)[0]
            if package != ENGINE_PACKAGE and package not in allowed:
                problems.append(f"{urn}: a resource of {package!r}, served by no provider of ours")
    return StateCheck(tuple(problems), tuple(sorted(plugins)))


GetObject = Callable[[str, str, "str | None"], bytes]


def aws_get_object(bucket: str, key: str, region: str | None) -> bytes:
    """An object's bytes, through the AWS CLI with the job's credentials."""
    command = [
        "aws",
        "s3",
        "cp",
        f"s3://{bucket}/{key}",
        "-",
        *(["--region", region] if region else []),
    ]
    done = subprocess.run(command, capture_output=True, timeout=LIST_TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise ReviewStackError(
            f"cannot read s3://{bucket}/{key}: {done.stderr.decode(errors='replace').strip()}"
        )
    return done.stdout


def read_checkpoints(
    stack: str,
    backend_url: str,
    root: Path = ROOT,
    list_objects: ListObjects = aws_list_objects,
    get_object: GetObject = aws_get_object,
) -> list[tuple[str, Mapping[str, Any]]]:
    """Every checkpoint file of `stack` in the state bucket (plain and gzipped: both are checked,
    whichever the CLI reads), decoded."""
    import gzip

    bucket, region = backend_bucket(backend_url)
    base = f".pulumi/stacks/{_project(root)}/{stack}"
    keys = [
        str(item.get("Key"))
        for item in list_objects(bucket, base, region).get("Contents") or []
        if str(item.get("Key")) in {base + suffix for suffix in CHECKPOINT_SUFFIXES}
    ]
    found = []
    for key in sorted(keys):
        data = get_object(bucket, key, region)
        try:
            text = gzip.decompress(data) if data.startswith(GZIP_MAGIC) else data
            found.append((key, json.loads(text)))
        except (OSError, ValueError) as err:
            raise ReviewStackError(f"cannot read the checkpoint {key}: {err}") from None
    return found


def check_stack_state(
    stack: str,
    backend_url: str,
    root: Path = ROOT,
    list_objects: ListObjects = aws_list_objects,
    get_object: GetObject = aws_get_object,
) -> tuple[tuple[str, str], ...]:
    """The plugins to install to destroy `stack`, or ReviewStackError naming everything in its
    state that a destroy by main's sweep must not run."""
    if review_pull_request(stack) is None:
        raise ReviewStackError(f"{stack!r} is not a review stack")
    allowed = provider_requirements(root)
    problems: list[str] = []
    plugins: set[tuple[str, str]] = set()
    for key, document in read_checkpoints(stack, backend_url, root, list_objects, get_object):
        checked = check_state(document, allowed)
        problems += [f"{key}: {p}" for p in checked.problems]
        plugins.update(checked.plugins)
    if problems:
        raise ReviewStackError(
            "\n".join(
                [
                    f"{stack} is not destroyed: its state, written by its pull request's program, "
                    "names what the sweep must not run. Read it (pulumi stack export), then "
                    "destroy it by hand, or delete its resources and `pulumi stack rm --force`.",
                    *problems,
                ]
            )
        )
    return tuple(sorted(plugins))


# --- the sweep -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: str  # open or closed
    labels: tuple[str, ...]


def unwanted_reason(
    number: int, pull_request: PullRequest | None, settings: ReviewSettings
) -> str | None:
    """Why pull request `number` no longer wants its review stack, or None while it does."""
    if pull_request is None:
        return f"pull request #{number} does not exist"
    if pull_request.state != "open":
        return f"pull request #{number} is closed"
    # GitHub's contains(), which the workflows' conditions use, ignores case: so does this.
    if settings.label.casefold() not in {label.casefold() for label in pull_request.labels}:
        return f"pull request #{number} no longer has the label {settings.label}"
    return None


def removal_reason(
    live: LiveStack,
    pull_request: PullRequest | None,
    settings: ReviewSettings,
    now: datetime,
) -> str | None:
    """Why the sweep removes `live`, or None to keep it."""
    unwanted = unwanted_reason(live.pull_request, pull_request, settings)
    if unwanted is not None:
        return unwanted
    idle = now - live.last_update
    if idle > timedelta(days=settings.idle_days):
        return (
            f"not deployed for {idle.days} days (since {live.last_update:%Y-%m-%d %H:%M} UTC; "
            f"the limit is {settings.idle_days})"
        )
    return None


def removals(
    live: Sequence[LiveStack],
    pull_request: Callable[[int], PullRequest | None],
    settings: ReviewSettings,
    now: datetime,
    failures: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The matrix entries of the review stacks to remove, each with its reason. With `failures`,
    a pull request GitHub could not be asked about (a rate limit, a 5xx) keeps its stack this
    time and is listed there, and the others are still decided."""
    out = []
    for stack in live:
        try:
            found = pull_request(stack.pull_request)
        except GitHubError as err:
            if failures is None:
                raise
            failures.append(f"{stack.stack}: kept, pull request #{stack.pull_request}: {err}")
            continue
        reason = removal_reason(stack, found, settings, now)
        if reason is not None:
            out.append({"stack": stack.stack, "pull_request": stack.pull_request, "reason": reason})
    return out


# --- GitHub --------------------------------------------------------------------------------------


NOT_FOUND = 404


class GitHubError(ReviewStackError):
    """A GitHub call that failed: `status` is the HTTP status, None when nothing answered."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class GitHub:
    """The few REST calls the review stacks make, with the job's GITHUB_TOKEN."""

    def __init__(self, repository: str, token: str, api: str = GITHUB_API) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+", repository):
            raise ReviewStackError(f"{repository!r} is not OWNER/NAME")
        self.repository, self.token, self.api = repository, token, api.rstrip("/")

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.api}/repos/{self.repository}/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=GITHUB_TIMEOUT_S) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as err:
            raise GitHubError(
                f"GitHub answered {method} {path} with {err.code}", err.code
            ) from None
        except (urllib.error.URLError, TimeoutError) as err:
            raise GitHubError(f"GitHub did not answer {method} {path}: {err}", None) from None
        return json.loads(text) if text else None

    def pull_request(self, number: int) -> PullRequest | None:
        try:
            found = self.request("GET", f"pulls/{number}")
        except GitHubError as err:
            if err.status == NOT_FOUND:
                return None
            raise
        return PullRequest(
            number=number,
            state=str(found["state"]),
            labels=tuple(str(label["name"]) for label in found.get("labels", [])),
        )

    def comments(self, number: int) -> list[dict[str, Any]]:
        found, page = [], 1
        while True:
            batch = self.request("GET", f"issues/{number}/comments?per_page=100&page={page}")
            found += batch
            if len(batch) < 100:
                return found
            page += 1


def upsert_comment(github: GitHub, number: int, stack: str, body: str) -> None:
    """Write the review stack's one comment on its pull request, edited in place after the first."""
    marker = COMMENT_MARKER.format(stack=stack)
    text = f"{marker}\n{body}"
    mine = [c for c in github.comments(number) if str(c.get("body", "")).startswith(marker)]
    if mine:
        github.request("PATCH", f"issues/comments/{mine[-1]['id']}", {"body": text})
    else:
        github.request("POST", f"issues/{number}/comments", {"body": text})


# --- the comments --------------------------------------------------------------------------------


def idle_cost(stack: str, root: Path = ROOT) -> str:
    """The offline plan's idle cost of the stack's Pulumi.<stack>.yaml, in words (or why the plan
    could not say)."""
    from tools.plan.model import PlanError, Project, build_plan
    from tools.plan.render import money

    try:
        plan = build_plan(stack, Project.at(root))
    except PlanError as err:
        return f"not known: the offline plan failed ({err.message.splitlines()[0]})"
    cost = plan["cost"]
    monthly = float(cost["total"])
    daily = monthly / cost["hours_per_month"] * 24
    return (
        f"about {money(monthly)} a month ({money(daily)} a day) while idle, as "
        f"`python -m tools.plan {stack}` prices it offline; requests, data and logs are extra"
    )


def deployed_comment(
    stack: str,
    url: str,
    cost: str,
    settings: ReviewSettings,
    dropped: Sequence[str],
    *,
    summary: str,
) -> str:
    lines = [
        f"### Review stack `{stack}`",
        "",
        f"- **URL:** {url}",
        f"- **Cost:** {cost}.",
        f"- **Settings:** `{settings.base}`'s, made cheap and disposable ({summary}).",
    ]
    if dropped:
        names = ", ".join(f"`{d.rpartition(':')[2]}`" for d in dropped)
        lines.append(f"- **Not copied:** {names}: the base stack's secrets stay with it.")
    lines += [
        "",
        f"Updated on every push once a reviewer approves the `{REVIEW.deploy_environment}` "
        f"environment; destroyed when this pull request closes or loses the `{settings.label}` "
        f"label, or after {settings.idle_days} days without a deploy.",
    ]
    return "\n".join(lines)


def removed_comment(stack: str, reason: str, settings: ReviewSettings) -> str:
    return "\n".join(
        [
            f"### Review stack `{stack}`: removed",
            "",
            f"Destroyed with its stack because {reason}. Label the pull request "
            f"`{settings.label}` again (or push to it while labelled) for a new one.",
        ]
    )


# --- the command line ----------------------------------------------------------------------------


def _outputs(values: Mapping[str, Any]) -> None:
    lines = [
        f"{k}={v if isinstance(v, str) else json.dumps(v, separators=(',', ':'))}"
        for k, v in values.items()
    ]
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def _github(repository: str) -> GitHub:
    return GitHub(
        repository, os.environ.get("GITHUB_TOKEN", ""), os.environ.get("GITHUB_API_URL", GITHUB_API)
    )


def main(argv: Sequence[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="review_stacks.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    stack_file = commands.add_parser("stack-file", help="write Pulumi.<stack>.yaml")
    stack_file.add_argument("--stack", required=True)
    stack_file.add_argument("--secrets-provider", required=True)
    stack_file.add_argument("--permissions-boundary", help="given: the file to deploy the stack")
    wanted = commands.add_parser(
        "wanted", help="deploy=false when the pull request is closed or unlabelled by now"
    )
    wanted.add_argument("--stack", required=True)
    wanted.add_argument("--repository", required=True)
    cap = commands.add_parser("cap", help="fail when a new review stack would exceed max-live")
    cap.add_argument("--stack", required=True)
    cap.add_argument("--backend-url", required=True)
    cap.add_argument("--repository", help="given: say on the pull request why it is refused")
    sweep = commands.add_parser("sweep", help="the review stacks to remove, as a matrix")
    sweep.add_argument("--backend-url", required=True)
    sweep.add_argument("--repository", required=True)
    state = commands.add_parser(
        "state", help="refuse a state whose destroy would run foreign code; list its plugins"
    )
    state.add_argument("--stack", required=True)
    state.add_argument("--backend-url", required=True)
    comment = commands.add_parser("comment", help="comment the stack's URL and idle cost")
    comment.add_argument("--stack", required=True)
    comment.add_argument("--url", required=True)
    comment.add_argument("--repository", required=True)
    removed = commands.add_parser("removed", help="comment that the stack was removed")
    removed.add_argument("--stack", required=True)
    removed.add_argument("--reason", required=True)
    removed.add_argument("--repository", required=True)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(root)
        if args.command == "stack-file":
            boundary = args.permissions_boundary
            document, dropped = stack_file_document(
                root, args.stack, args.secrets_provider, boundary, settings
            )
            write_stack_file(root, args.stack, document, settings.base if boundary else None)
            from stacks import stack_entry  # the base stack's platform, as the checks read it

            platform = stack_entry(root, _project(root), settings.base)["platform"]
            _outputs({"platform": platform, "dropped": dropped})
        elif args.command == "wanted":
            number = review_pull_request(args.stack)
            if number is None:
                raise ReviewStackError(f"{args.stack!r} is not a review stack")
            reason = unwanted_reason(
                number, _github(args.repository).pull_request(number), settings
            )
            if reason is not None:
                # Not a failure: the run was asked for while the pull request wanted its stack.
                print(f"::notice::{args.stack} is not deployed: {reason} since this run started.")
            _outputs({"deploy": "false" if reason else "true"})
        elif args.command == "cap":
            problem = cap_problem(
                args.stack, list_live_stacks(args.backend_url, root), settings.max_live
            )
            if problem:
                number = review_pull_request(args.stack)
                if args.repository and number is not None:
                    # The run's log is the reviewer's; the pull request's author reads the comment.
                    body = f"### Review stack `{args.stack}`: not deployed\n\n{problem}"
                    upsert_comment(_github(args.repository), number, args.stack, body)
                raise ReviewStackError(problem)
        elif args.command == "sweep":
            github = _github(args.repository)
            failures: list[str] = []
            remove = removals(
                list_live_stacks(args.backend_url, root),
                github.pull_request,
                settings,
                datetime.now(UTC),
                failures,
            )
            # Not a failure of this step: the stacks it could decide are removed, and the
            # workflow's last job fails on `failed` (review-sweep.yml).
            for failure in failures:
                print(f"::warning::{failure}", file=sys.stderr)
            _outputs(
                {
                    "remove": {"include": remove},
                    "any": "true" if remove else "false",
                    "failed": "; ".join(failures),
                }
            )
        elif args.command == "state":
            plugins = check_stack_state(
                args.stack, args.backend_url, root, aws_list_objects, aws_get_object
            )
            _outputs({"plugins": " ".join(f"{name}@{version}" for name, version in plugins)})
        elif args.command == "comment":
            number = review_pull_request(args.stack)
            if number is None:
                raise ReviewStackError(f"{args.stack!r} is not a review stack")
            config, dropped = review_config(root, settings.base, "")
            body = deployed_comment(
                args.stack,
                args.url,
                idle_cost(args.stack, root),
                settings,
                dropped,
                summary=review_summary(config, _project(root)),
            )
            upsert_comment(_github(args.repository), number, args.stack, body)
            print(body)
        elif args.command == "removed":
            number = review_pull_request(args.stack)
            if number is None:
                raise ReviewStackError(f"{args.stack!r} is not a review stack")
            body = removed_comment(args.stack, args.reason, settings)
            github = _github(args.repository)
            if github.pull_request(number) is not None:  # a stack may outlive its pull request
                upsert_comment(github, number, args.stack, body)
            print(body)
    except ReviewStackError as err:
        print(f"::error::{str(err).splitlines()[0]}", file=sys.stderr)
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
