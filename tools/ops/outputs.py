"""The stack outputs the tool needs, read from `pulumi stack output --json` or a JSON file.

The keys are the contract with the Pulumi program's exports (camelCase, as Pulumi writes them).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tools.ops.errors import OpsError

# Needed to find anything at all; the other exports are shown when present.
REQUIRED_KEYS = ("clusterName", "serviceName")
OPTIONAL_KEYS = ("logGroupName", "url", "imageRef", "repositoryUrl")
# The stack's other services (docs/services.md): name -> {serviceName, url, ...}.
SERVICES_KEY = "services"
MAIN_SERVICE = "app"  # --service's name for the main service (its component's)

# `pulumi stack output` reads the state backend (a bucket or Pulumi Cloud); a minute is generous,
# and without a bound a hung login prompt would hang the tool.
PULUMI_TIMEOUT_S = 60

# The directory holding Pulumi.yaml: tools/ops/outputs.py -> repository root.
PROJECT_DIR = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class StackOutputs:
    """What the tool reads from a stack; `source` names where it came from, for messages."""

    cluster_name: str
    service_name: str
    log_group_name: str | None = None
    url: str | None = None
    image_ref: str | None = None
    repository_url: str | None = None
    source: str = "stack outputs"
    services: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def select(self, name: str | None) -> StackOutputs:
        """The outputs for service `name` of the stack's services (None or "app": the main
        service's, as they are)."""
        if name in (None, MAIN_SERVICE):
            return self
        if name not in self.services:
            known = ", ".join([MAIN_SERVICE, *sorted(self.services)])
            raise OpsError(f"{self.source}: no service {name!r}; the stack's services are {known}")
        entry = self.services[name]
        return replace(
            self,
            service_name=entry["serviceName"],
            log_group_name=entry.get("logGroupName"),
            url=entry.get("url"),
        )


def parse_outputs(data: object, source: str) -> StackOutputs:
    """Validate decoded JSON; every problem is reported at once, naming the key."""
    if not isinstance(data, Mapping):
        raise OpsError(
            f"{source}: expected a JSON object of stack outputs (as `pulumi stack output --json`"
            f" prints), got {type(data).__name__}"
        )
    problems = [f"missing {key}" for key in REQUIRED_KEYS if key not in data]
    for key in REQUIRED_KEYS + OPTIONAL_KEYS:
        value = data.get(key)
        if key in data and (not isinstance(value, str) or not value):
            problems.append(f"{key} must be a non-empty string, got {value!r}")
    services = data.get(SERVICES_KEY, {})
    if not isinstance(services, Mapping) or not all(
        isinstance(entry, Mapping) and isinstance(entry.get("serviceName"), str)
        for entry in services.values()
    ):
        problems.append(f"{SERVICES_KEY} must map each service's name to its serviceName and more")
        services = {}
    if problems:
        raise OpsError(
            f"{source}: {'; '.join(problems)} (expected the outputs of `pulumi stack output"
            f" --json`: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})"
        )
    return StackOutputs(
        cluster_name=data["clusterName"],
        service_name=data["serviceName"],
        log_group_name=data.get("logGroupName"),
        url=data.get("url"),
        image_ref=data.get("imageRef"),
        repository_url=data.get("repositoryUrl"),
        source=source,
        services={str(k): dict(v) for k, v in services.items()},
    )


def read_outputs_file(path: Path) -> StackOutputs:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OpsError(f"cannot read outputs file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OpsError(
            f"outputs file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}:"
            f" {exc.msg}); write it with `pulumi stack output --json > {path}`"
        ) from None
    return parse_outputs(data, source=str(path))


Runner = Callable[..., subprocess.CompletedProcess[str]]


def read_pulumi_outputs(stack: str | None, run: Runner = subprocess.run) -> StackOutputs:
    """Ask the Pulumi CLI; `run` is injectable so tests need no Pulumi."""
    argv: Sequence[str] = ["pulumi", "stack", "output", "--json"]
    if stack:
        argv = [*argv, "--stack", stack]
    shown = " ".join(argv)
    try:
        done = run(
            argv,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise OpsError(
            "the pulumi CLI is not installed or not on PATH; pass the stack's outputs with"
            " --outputs FILE (write it with `pulumi stack output --json > FILE` where Pulumi"
            " is installed)"
        ) from None
    except subprocess.TimeoutExpired:
        raise OpsError(
            f"`{shown}` did not answer within {PULUMI_TIMEOUT_S} s (logged in? try"
            " `pulumi whoami`), or pass --outputs FILE"
        ) from None
    if done.returncode != 0:
        lines = [line for line in (done.stderr or "").splitlines() if line.strip()]
        detail = lines[-1].strip() if lines else f"exit code {done.returncode}"
        hint = "" if stack else " (choose one with --stack NAME)"
        raise OpsError(f"`{shown}` failed: {detail}{hint}")
    source = f"outputs of stack {stack}" if stack else "outputs of the selected stack"
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise OpsError(f"`{shown}` printed something that is not JSON: {exc.msg}") from None
    return parse_outputs(data, source=source)
