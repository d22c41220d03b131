"""The URNs the program registers, kept in tests/snapshots/<variant>.urns so none changes unnoticed.

A resource's URN (type, logical name, parent chain) is its identity to Pulumi: a changed URN is a
delete and a create on `pulumi up`. tests/test_urns.py runs the program under the shared mocks for
each committed stack and for variants that switch on the optional components, and compares the URNs
with the committed files. A refactoring must leave them as they are; a change that means to rename
something keeps the deployed resource with an alias and updates the files on purpose:

    python -m tools.urns --update    rewrite tests/snapshots/<variant>.urns for every variant
    python -m tools.urns             compare, listing what differs (exit status 1 if anything does)

`update_fixtures()` is the same update for a caller such as `python -m tools.plan
--update-snapshots`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.mocks import ProgramRun, Secure, load_stack_config, run_program

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
PROJECT = "fargate-app"
FIXTURE_DIR = ROOT / "tests" / "snapshots"
SUFFIX = ".urns"
UPDATE_COMMAND = "python -m tools.urns --update"

# Settings that switch on the optional components, as the variants below use them.
_JOBS = {
    "nightly-report": {"schedule": "cron(30 2 * * ? *)", "command": "python -m report"},
    "hourly_sync": {"schedule": "rate(1 hour)", "command": ["python", "-m", "sync"]},
}
_DOMAIN = {"domainName": "app.example.com", "hostedZone": "example.com"}
_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
_SECRETS = {"secrets": {"DB_URL": _SECRET_ARN}, "secretValues": Secure({"API_TOKEN": "t0ken"})}
# One service of each kind, with an image of its own built and one prebuilt.
_SERVICES = {
    "api": {"type": "web", "path": ["/api/*"], "containerPort": 9000, "command": "python -m api"},
    "admin": {
        "type": "web",
        "host": ["admin.example.com"],
        "path": ["/admin/*"],
        "build": {"context": "app"},
    },
    "search": {
        "type": "internal",
        "containerPort": 8080,
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/search:1.4.0",
    },
    "mailer": {"type": "worker", "command": "python -m mailer", "minCount": 0, "maxCount": 4},
}
_CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
)


@dataclass(frozen=True, kw_only=True)
class Variant:
    """A committed stack's config with some settings changed (bare keys are the project's)."""

    stack: str
    overrides: Mapping[str, Any] = field(default_factory=dict)


VARIANTS: dict[str, Variant] = {
    "dev": Variant(stack="dev"),
    "prod": Variant(stack="prod"),
    "dev-scheduled": Variant(stack="dev", overrides={"scheduledTasks": _JOBS}),
    "dev-blueGreen": Variant(stack="dev", overrides={"deploymentStrategy": "blueGreen"}),
    "dev-canary": Variant(stack="dev", overrides={"deploymentStrategy": "canary"}),
    "dev-domain": Variant(stack="dev", overrides=_DOMAIN),
    "dev-certificate": Variant(stack="dev", overrides={"certificateArn": _CERTIFICATE_ARN}),
    "dev-secrets": Variant(stack="dev", overrides=_SECRETS),
    "dev-exec": Variant(stack="dev", overrides={"enableExec": True}),
    # Private tasks without a NAT: the endpoints, with the extra ones secrets and exec need.
    "dev-endpoints": Variant(
        stack="dev", overrides={"vpcEndpoints": True, "enableExec": True, **_SECRETS}
    ),
    "dev-services": Variant(stack="dev", overrides={"services": _SERVICES}),
    # Everything at once, on prod's resilient network.
    "prod-all": Variant(
        stack="prod",
        overrides={
            "scheduledTasks": _JOBS,
            "deploymentStrategy": "canary",
            "enableExec": True,
            "vpcEndpoints": True,
            "services": _SERVICES,
            **_DOMAIN,
            **_SECRETS,
        },
    ),
}


def variant_config(name: str) -> dict[str, Any]:
    """The full config of a variant: Pulumi.yaml's defaults, the stack file, the overrides."""
    variant = VARIANTS[name]
    config = load_stack_config(ROOT, variant.stack)
    for key, value in variant.overrides.items():
        config[key if ":" in key else f"{PROJECT}:{key}"] = value
    return config


def run_variant(name: str, *, preview: bool = False) -> ProgramRun:
    return run_program(
        PROGRAM,
        project=PROJECT,
        stack=VARIANTS[name].stack,
        config=variant_config(name),
        preview=preview,
        cwd=ROOT,
    )


def urns(run: ProgramRun) -> list[str]:
    """Every URN the run registered (components, resources, providers), sorted."""
    if run.error is not None:
        raise RuntimeError(f"the program failed under the mocks: {run.error}")
    return sorted(r.urn for r in run.resources)


def fixture_path(name: str) -> Path:
    return FIXTURE_DIR / f"{name}{SUFFIX}"


def render(found: Iterable[str]) -> str:
    return "".join(f"{urn}\n" for urn in found)


def read_fixture(name: str) -> list[str]:
    return fixture_path(name).read_text().splitlines()


def update_fixtures(names: Iterable[str] = VARIANTS) -> list[Path]:
    """Rewrite the fixture of each variant named (all by default); returns the files written."""
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = fixture_path(name)
        path.write_text(render(urns(run_variant(name))))
        written.append(path)
    return written


def differences(name: str) -> tuple[list[str], list[str]]:
    """(URNs the program registers that the fixture lacks, URNs of the fixture it no longer has)."""
    now, then = set(urns(run_variant(name))), set(read_fixture(name))
    return sorted(now - then), sorted(then - now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.urns", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--update", action="store_true", help="rewrite the fixtures")
    args = parser.parse_args(argv)
    if args.update:
        for path in update_fixtures():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    status = 0
    for name in VARIANTS:
        added, gone = differences(name)
        for urn in added:
            print(f"{name}: new      {urn}")
        for urn in gone:
            print(f"{name}: missing  {urn}")
        status |= bool(added or gone)
    if status:
        print(f"URNs changed; if on purpose (with aliases for what is deployed): {UPDATE_COMMAND}")
    return status


if __name__ == "__main__":
    sys.exit(main())
