"""`taskEgress`: connections the app's tasks may open beyond HTTPS (a database, an SMTP relay), one
named entry each, checked here into `EgressRule`s (components.spec)."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from components.spec import (
    EGRESS_NAME,
    EGRESS_PROTOCOLS,
    MAX_PORT,
    REQUIRED_TASK_EGRESS,
    EgressRule,
    egress_problems,
    joined,
)
from stack_config.parsing import Problems, parse_integer, suggest

TASK_EGRESS_FIELDS = ("port", "protocol", "cidr", "description")
PORT_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
EXAMPLE = "pulumi config set --path 'taskEgress.postgres.port' 5432"


def parse_task_egress(raw: Any) -> dict[str, Any]:
    """`taskEgress` as Pulumi hands it over (JSON text) or as a native map; entries are checked by
    `check_task_egress`."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        raise ValueError("expected a map of names to {port, protocol, cidr, description}")
    return {str(k): v for k, v in value.items()}


def _ports(value: Any) -> tuple[int, int | None]:
    """A port (5432, "5432") or a range ("8000-8100")."""
    if isinstance(value, str) and (m := PORT_RANGE.match(value)):
        return int(m[1]), int(m[2])
    return parse_integer(value), None


def check_task_egress(
    get: dict[str, Any], ok: set[str], problems: Problems
) -> tuple[EgressRule, ...]:
    """The entries of `taskEgress` as rules; every problem goes to `problems`."""
    if "taskEgress" not in ok:
        return ()
    rules: list[EgressRule] = []
    for name, entry in get["taskEgress"].items():
        key = f"taskEgress.{name}"
        before = len(problems.items)
        if not EGRESS_NAME.match(name):
            problems.add(key, name, "names are 1 to 32 lower-case letters, digits and -")
        if not isinstance(entry, dict):
            problems.add(key, entry, f"expected a map with port and cidr: `{EXAMPLE}`")
            continue
        for field_name in entry:
            if field_name not in TASK_EGRESS_FIELDS:
                hint = suggest(field_name, TASK_EGRESS_FIELDS, label="fields are")
                problems.items.append(f"{key}.{field_name}: unknown field; {hint}")
        port, to_port = 0, None
        if "port" not in entry:
            problems.items.append(f"{key}.port: not set; a port or a range: `{EXAMPLE}`")
        else:
            try:
                port, to_port = _ports(entry["port"])
            except ValueError:
                problems.add(f"{key}.port", entry["port"], "expected a port or a range (8000-8100)")
            else:
                if not 1 <= port <= (to_port or port) <= MAX_PORT:
                    problems.add(
                        f"{key}.port",
                        entry["port"],
                        f"ports are 1 to {MAX_PORT}, a range's first no higher than its last",
                    )
        protocol = str(entry.get("protocol", "tcp")).lower()
        if protocol not in EGRESS_PROTOCOLS:
            problems.add(
                f"{key}.protocol",
                entry.get("protocol"),
                f"expected {joined(EGRESS_PROTOCOLS)} (other protocols carry no port)",
            )
        cidr = entry.get("cidr")
        if cidr is None:
            problems.items.append(
                f"{key}.cidr: not set; say where to, as narrowly as you can: "
                f"`pulumi config set --path '{key}.cidr' 10.1.0.0/16`"
            )
        else:
            try:
                ipaddress.ip_network(str(cidr), strict=True)
            except ValueError:
                problems.add(
                    f"{key}.cidr", cidr, "expected an IPv4 or IPv6 CIDR such as 10.1.0.0/16"
                )
        description = str(entry.get("description", ""))
        if len(problems.items) > before:
            continue
        rule = EgressRule(
            name=name,
            port=port,
            to_port=to_port,
            protocol=protocol,
            cidr=str(cidr),
            description=description or f"taskEgress.{name}",
        )
        problems.items += [f"{key}: {p}" for p in rule.problems()]
        rules.append(rule)
    # Each rule is sound by now: what is left is a clash with another, or with the program's own.
    problems.items += [f"taskEgress.{p}" for p in egress_problems((*REQUIRED_TASK_EGRESS, *rules))]
    return tuple(rules)
