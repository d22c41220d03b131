"""Keep Pulumi.yaml's `config:` block, and the settings table and the limits in docs/settings.md,
in step with `stack_config.SETTINGS` and the limits in `components.spec`, their one home.

    python -m tools.settings_doc           # exit 1 and say what is stale
    python -m tools.settings_doc --write   # rewrite them from SETTINGS and components.spec
"""

from __future__ import annotations

import itertools
import json
import sys
import textwrap
from pathlib import Path

from components.spec import (
    ALB_MIN_SUBNET_PREFIX,
    FARGATE_MEMORY_BY_CPU,
    LOG_RETENTION_DAYS,
    MAX_AZS,
    MIN_AZS,
    SPOT_CPU_ARCHITECTURES,
    VPC_PREFIX_MAX,
    VPC_PREFIX_MIN,
    max_azs_for_prefix,
)
from stack_config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PAGE = ROOT / "docs" / "settings.md"
TABLE_BEGIN = "<!-- settings:begin (python -m tools.settings_doc --write) -->"
TABLE_END = "<!-- settings:end -->"
LIMITS_BEGIN = "<!-- limits:begin (python -m tools.settings_doc --write) -->"
LIMITS_END = "<!-- limits:end -->"
CONFIG_MARK = "config:\n"
PAGE_WIDTH = 100  # the docs' line width


def pulumi_yaml_config() -> str:
    """The `config:` block: every setting Pulumi's schema can type (it has no map type)."""
    lines = [CONFIG_MARK.rstrip("\n")]
    for s in SETTINGS:
        if s.type == "map":
            continue
        lines += [f"  {s.key}:", f"    type: {s.type}"]
        if s.type == "array":
            lines += ["    items:", "      type: string"]  # every list setting holds strings
        lines += [
            f"    default: {json.dumps(s.default)}",
            f"    description: {json.dumps(s.description)}",
        ]
    return "\n".join(lines) + "\n"


def settings_table() -> str:
    rows = ["| setting | type | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "(none)" if s.default in ("", {}, []) else f"`{json.dumps(s.default)}`"
        rows.append(f"| `{s.key}` | {s.type} | {default} | {s.description.replace('|', '/')} |")
    return "\n".join(rows)


def memory_choices(memory: tuple[int, ...]) -> str:
    """Fargate's memory choices for one CPU size as a reader scans them: a range with its step
    when the choices are many and evenly spaced, else the list."""
    steps = {b - a for a, b in itertools.pairwise(memory)}
    if len(memory) <= 3 or len(steps) != 1:
        return ", ".join(str(m) for m in memory)
    return f"{memory[0]}-{memory[-1]}, in steps of {steps.pop()}"


def limits() -> str:
    """What the config refuses beyond each setting's type, from components.spec's constants."""
    sizes = ["| cpu (CPU units) | memory (MiB) |", "|---|---|"]
    sizes += [f"| {cpu} | {memory_choices(mem)} |" for cpu, mem in FARGATE_MEMORY_BY_CPU.items()]
    vpcs = "; ".join(
        f"a /{prefix} VPC fits at most {max_azs_for_prefix(prefix)}"
        for prefix in range(VPC_PREFIX_MIN, VPC_PREFIX_MAX + 1)
        if max_azs_for_prefix(prefix) < MAX_AZS
    )
    bullets = [
        "`logRetentionDays`: one of the retention periods CloudWatch Logs accepts, "
        f"{', '.join(str(days) for days in LOG_RETENTION_DAYS)} days.",
        "`minCount <= desiredCount <= maxCount`, and `onDemandBase <= maxCount`.",
        f"`spot` only with `cpuArchitecture` {' or '.join(SPOT_CPU_ARCHITECTURES)}: Fargate Spot "
        "runs no other.",
        f"`vpcCidr` from /{VPC_PREFIX_MIN} to /{VPC_PREFIX_MAX}; `availabilityZones` from "
        f"{MIN_AZS} to {MAX_AZS}, and no more than the VPC's subnets (at least "
        f"/{ALB_MIN_SUBNET_PREFIX} each, the ALB's minimum) fit: {vpcs}.",
    ]
    wrapped = [
        textwrap.fill(b, PAGE_WIDTH, initial_indent="- ", subsequent_indent="  ") for b in bullets
    ]
    intro = "Fargate's task sizes (`cpu` and `memory`, and each service's and job's):"
    return "\n".join([intro, "", *sizes, "", *wrapped])


def render_pulumi_yaml(text: str) -> str:
    return text[: text.index(CONFIG_MARK)] + pulumi_yaml_config()


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + "\n" + body + "\n" + text[stop:]


def render_settings_page(text: str) -> str:
    text = replace_between(text, TABLE_BEGIN, TABLE_END, settings_table())
    return replace_between(text, LIMITS_BEGIN, LIMITS_END, limits())


def main(argv: list[str]) -> int:
    targets = {
        ROOT / "Pulumi.yaml": render_pulumi_yaml,
        SETTINGS_PAGE: render_settings_page,
    }
    stale = []
    for path, render in targets.items():
        current = path.read_text()
        wanted = render(current)
        if wanted != current:
            if "--write" in argv:
                path.write_text(wanted)
                print(f"updated {path.relative_to(ROOT)}")
            else:
                stale.append(str(path.relative_to(ROOT)))
    if stale:
        print(
            f"{', '.join(stale)} out of step with stack_config.SETTINGS or components.spec; "
            "run `python -m tools.settings_doc --write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
