"""Keep Pulumi.yaml's `config:` block and the settings table in docs/settings.md in step with
`stack_config.SETTINGS`, the one source of truth.

    python -m tools.settings_doc           # exit 1 and say what is stale
    python -m tools.settings_doc --write   # rewrite both from SETTINGS
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from stack_config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PAGE = ROOT / "docs" / "settings.md"
TABLE_BEGIN = "<!-- settings:begin (python -m tools.settings_doc --write) -->"
TABLE_END = "<!-- settings:end -->"
CONFIG_MARK = "config:\n"


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


def render_pulumi_yaml(text: str) -> str:
    return text[: text.index(CONFIG_MARK)] + pulumi_yaml_config()


def render_settings_page(text: str) -> str:
    start, end = text.index(TABLE_BEGIN) + len(TABLE_BEGIN), text.index(TABLE_END)
    return text[:start] + "\n" + settings_table() + "\n" + text[end:]


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
            f"{', '.join(stale)} out of step with stack_config.SETTINGS; "
            "run `python -m tools.settings_doc --write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
