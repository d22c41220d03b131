"""The URNs the program registers, kept in tests/snapshots/<variant>.urns so none changes unnoticed.

A resource's URN (type, logical name, parent chain) is its identity to Pulumi: a changed URN is a
delete and a create on `pulumi up`. tests/test_urns.py runs the program under the shared mocks for
each committed stack and for variants that switch on the optional components, and compares the URNs
with the committed files. A refactoring must leave them as they are; a change that means to rename
something keeps the deployed resource with an alias and updates the files on purpose, with the
one command that also rewrites the plan snapshots:

    python -m tools.plan --update-snapshots   the plans and these fixtures (committed stacks)
    python -m tools.urns --update             these fixtures alone, for every variant
    python -m tools.urns                      compare, listing what differs (exit 1 if any)

A variant is built on a committed stack; a project (`root`) whose stack files lack one (a copy with
only dev) has none of the variants built on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.mocks import ProgramRun, Secure, load_stack_config, run_program

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DIR = Path("tests") / "snapshots"  # under the project root, beside the plan snapshots
SUFFIX = ".urns"
UPDATE_COMMAND = "python -m tools.plan --update-snapshots"

# Settings that switch on the optional components, as the variants below use them.
_JOBS = {
    "nightly-report": {"schedule": "cron(30 2 * * ? *)", "command": "python -m report"},
    "hourly_sync": {"schedule": "rate(1 hour)", "command": ["python", "-m", "sync"]},
}
_DOMAIN = {"domainName": "app.example.com", "hostedZone": "example.com"}
_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
_SECRETS = {"secrets": {"DB_URL": _SECRET_ARN}, "secretValues": Secure({"API_TOKEN": "t0ken"})}
# One service of each kind, with an image of its own built and one prebuilt (tests use it too).
# Routed by path: behind CloudFront (the committed stacks) only the distribution's names reach the
# load balancer, so a host rule needs domainName (prod-all routes `admin` by it).
SERVICES: dict[str, dict[str, Any]] = {
    "api": {"type": "web", "path": ["/api/*"], "containerPort": 9000, "command": "python -m api"},
    "admin": {"type": "web", "path": ["/admin/*"], "build": {"context": "app"}},
    "search": {
        "type": "internal",
        "containerPort": 8080,
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/search:1.4.0",
    },
    "mailer": {"type": "worker", "command": "python -m mailer", "minCount": 0, "maxCount": 4},
}
# A file system the main service and a job write and a web service reads (docs/file-systems.md).
FILES = {
    "fileSystems": {"shared": {}},
    "mounts": {"shared": "/data"},
    "services": {
        "files": {"type": "web", "path": ["/files/*"], "mounts": {"shared": {"path": "/data",
                                                                           "readOnly": True}}},
    },
    "scheduledTasks": {
        "nightly": {"schedule": "cron(0 3 * * ? *)", "command": "python -m nightly",
                    "mounts": {"shared": "/data"}},
    },
}  # fmt: skip
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
    # A certificate of one's own serves an internet-facing load balancer (CloudFront cannot use it).
    "dev-certificate": Variant(
        stack="dev", overrides={"edge": "none", "certificateArn": _CERTIFICATE_ARN}
    ),
    "dev-secrets": Variant(stack="dev", overrides=_SECRETS),
    "dev-exec": Variant(stack="dev", overrides={"enableExec": True}),
    # CloudFront in front of an internal load balancer, with a web ACL and cached paths; and a web
    # ACL on an internet-facing load balancer.
    "dev-cloudfront": Variant(
        stack="dev",
        overrides={"edge": "cloudfront", "waf": True, "cachedPaths": ["/static/*"]},
    ),
    "dev-waf": Variant(stack="dev", overrides={"edge": "none", "waf": True}),
    # Private tasks without a NAT: the endpoints, with the extra ones secrets and exec need.
    "dev-endpoints": Variant(
        stack="dev", overrides={"vpcEndpoints": True, "enableExec": True, **_SECRETS}
    ),
    "dev-services": Variant(stack="dev", overrides={"services": SERVICES}),
    # prod: with deletionProtection, so backed up and protected.
    "prod-files": Variant(stack="prod", overrides=FILES),
    # Everything at once, on prod's resilient network.
    "prod-all": Variant(
        stack="prod",
        overrides={
            "scheduledTasks": _JOBS,
            "deploymentStrategy": "canary",
            "enableExec": True,
            "vpcEndpoints": True,
            "services": {
                **SERVICES,
                "admin": {**SERVICES["admin"], "host": [_DOMAIN["domainName"]]},
            },
            **_DOMAIN,
            **_SECRETS,
        },
    ),
}


def project_name(root: Path = ROOT) -> str:
    """The project's name, as Pulumi.yaml gives it (the namespace of its settings)."""
    return str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])


def variants_of(stacks: Iterable[str]) -> list[str]:
    """The variants built on any of `stacks`, in VARIANTS' order."""
    wanted = set(stacks)
    return [name for name, variant in VARIANTS.items() if variant.stack in wanted]


def variant_config(name: str, root: Path = ROOT) -> dict[str, Any]:
    """The full config of a variant: Pulumi.yaml's defaults, the stack file, the overrides."""
    variant = VARIANTS[name]
    config = load_stack_config(root, variant.stack)
    project = project_name(root)
    for key, value in variant.overrides.items():
        config[key if ":" in key else f"{project}:{key}"] = value
    return config


def run_variant(name: str, *, preview: bool = False, root: Path = ROOT) -> ProgramRun:
    return run_program(
        root / "__main__.py",
        project=project_name(root),
        stack=VARIANTS[name].stack,
        config=variant_config(name, root),
        preview=preview,
        cwd=root,
    )


def urns(run: ProgramRun) -> list[str]:
    """Every URN the run registered (components, resources, providers), sorted."""
    if run.error is not None:
        raise RuntimeError(f"the program failed under the mocks: {run.error}")
    return sorted(r.urn for r in run.resources)


def fixture_path(name: str, root: Path = ROOT) -> Path:
    return root / FIXTURE_DIR / f"{name}{SUFFIX}"


def render(found: Iterable[str]) -> str:
    return "".join(f"{urn}\n" for urn in found)


def read_fixture(name: str, root: Path = ROOT) -> list[str]:
    return fixture_path(name, root).read_text().splitlines()


def update_fixture(name: str, root: Path = ROOT) -> str:
    """Rewrite one variant's fixture; says whether it was created, updated or unchanged. Raises
    RuntimeError, leaving the file as it was, when the program fails for the variant."""
    path = fixture_path(name, root)
    text = render(urns(run_variant(name, root=root)))
    before = path.read_text() if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return "unchanged" if before == text else ("created" if before is None else "updated")


def stale_fixtures(root: Path, kept: Iterable[str]) -> list[Path]:
    """Fixtures under `root` of no variant among `kept`: a variant gone, or its stack."""
    keep = set(kept)
    return sorted(p for p in (root / FIXTURE_DIR).glob(f"*{SUFFIX}") if p.stem not in keep)


def update_fixtures(names: Iterable[str] = VARIANTS, root: Path = ROOT) -> list[Path]:
    """Rewrite the fixture of each variant named (all by default); returns the files written."""
    written = []
    for name in names:
        update_fixture(name, root)
        written.append(fixture_path(name, root))
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
