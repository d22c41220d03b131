"""Plain-text rendering of a plan, and of two plans side by side.

Both work from the plan's plain data (what `--json` prints), so the text and the JSON cannot
disagree. The layout is fixed-width ASCII with one setting a line: it reads in a terminal, pastes
into a pull request inside a code block, and a change to one setting is a one-line diff.
"""

from __future__ import annotations

import textwrap
from typing import Any

WIDTH = 100
INDENT = "  "
ITEM_COL = 28
QTY_COL = 20
AMOUNT_COL = 9
STEP_COL = 11  # "alarm watch"; a longer step name (canary_shift) widens its own table
SERVICE_KIND_COL = 10  # "internal"
TASKS_COL = 9  # "10 tasks"
SECONDS_COL = 6  # a day-long bake is 86400 s
# --compare: label column, then one column per stack.
LABEL_COL = 36
VALUE_COL = 30
WORD_BREAKS = "/:@=,"  # where a word longer than a line is cut: ARNs, URIs, key=value lists


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def number(x: float) -> str:
    """1.0 -> "1", 0.00370275 -> "0.00370275": as short as exact."""
    return f"{x:.8f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def unit_price(usd: float) -> str:
    """Whole cents as money ($0.10, $1.00), finer prices in full ($0.0225)."""
    cents = round(usd * 100, 6)
    return f"${usd:.2f}" if cents == int(cents) else f"${number(usd)}"


def fit(lines: list[str]) -> list[str]:
    """Every line within WIDTH, whatever the settings: a longer one wraps at spaces under its own
    indentation, two levels deeper; a word longer than the room left (a long ARN or image URI) is
    cut after the last /, :, @, = or , that fits, else where the line ends."""
    out = []
    for line in lines:
        if len(line) <= WIDTH:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())][: WIDTH // 2]
        more = indent + INDENT * 2
        wrapped = textwrap.wrap(
            line.strip(),
            WIDTH,
            initial_indent=indent,
            subsequent_indent=more,
            break_on_hyphens=False,
            break_long_words=False,
        )
        for piece in wrapped:
            while len(piece) > WIDTH:
                start = len(piece) - len(piece.lstrip()) + 1
                cut = max(piece.rfind(c, start, WIDTH) for c in WORD_BREAKS) + 1 or WIDTH
                out.append(piece[:cut])
                piece = more + piece[cut:]
            out.append(piece)
    return out


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=f"{INDENT}{label}: ",
        subsequent_indent=INDENT * 3,
        break_on_hyphens=False,
    )


# -- one plan ------------------------------------------------------------------------------------


def _strategy(strategy: str | None) -> str:
    """ECS's spelling of a deployment strategy (BLUE_GREEN) as a reader says it (blue-green)."""
    return (strategy or "no").lower().replace("_", "-")


def headline(plan: dict[str, Any]) -> str:
    s = plan["summary"]
    services = plan["deploy"]["services"]
    # Services deploy in parallel; the slowest sets the pace, so its strategy names the deploy.
    pace = max(services, key=lambda d: d["total"], default=None)
    deploy = (
        f"{_strategy(pace['strategy'])} deploy {s['deploy_seconds']} s" if pace else "no service"
    )
    watch = s["deploy_completed_seconds"] - s["deploy_seconds"]
    if watch > 0:
        deploy += f" + {watch} s alarm watch"
    return (
        f"{s['resources']} resources in {s['components']} components, "
        f"{money(s['monthly_idle_usd'])}/month idle{_priced_elsewhere(plan)}, {deploy}"
    )


def _priced_elsewhere(plan: dict[str, Any]) -> str:
    """Where the prices are from, when that is not the stack's region: cost.py holds one
    region's list prices, so another region's total is a guide, not its bill."""
    prices = plan["cost"]["prices_region"]
    return "" if plan["region"] == prices else f" at {prices} prices"


def render(plan: dict[str, Any]) -> str:
    lines = [
        f"Plan of stack {plan['stack']} (project {plan['project']}, {plan['region']}), "
        "offline: Pulumi mocks, no AWS calls",
        INDENT + headline(plan),
        *(f"{INDENT}Note: {note}" for note in plan["notes"]),
        *_warnings(plan),
        "",
        "Resources",
    ]
    lines += _resources(plan["resources"])
    if len(plan["services"]["services"]) > 1:
        lines += ["", *_services(plan["services"])]
    lines += ["", *_cost(plan["cost"]), "", *_deploy(plan["deploy"]), "", "Outputs"]
    lines += [f"{INDENT}{k}: {v}" for k, v in plan["outputs"].items()] or [f"{INDENT}none"]
    # The policy pack's controls this stack gives up (policyWaivers), each with its reason.
    lines += ["", "Policy waivers"]
    lines += [line for k, v in plan["waivers"].items() for line in _wrapped(k, v)] or [
        f"{INDENT}none"
    ]
    return "\n".join(fit(lines)) + "\n"


def _warnings(plan: dict[str, Any]) -> list[str]:
    """The program's warnings, when there are any."""
    out = []
    if plan.get("warnings"):
        out += ["", "Warnings (pulumi up prints them too)"]
        for warning in plan["warnings"]:
            out += textwrap.wrap(
                warning,
                WIDTH,
                initial_indent=f"{INDENT}- ",
                subsequent_indent=INDENT * 2,
                break_on_hyphens=False,
                break_long_words=False,
            )
    return out


def _resources(resources: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in resources:
        pad = INDENT * (r["depth"] + 1)
        flags = f"  [{'; '.join(r['flags'])}]" if r["flags"] else ""
        out.append(f"{pad}{r['display_type']}  {r['name']}{flags}")
        for key, value in r["settings"].items():
            # A long value wraps under itself; a name or a URL is split only when it is longer
            # than a whole line (fit).
            out += textwrap.wrap(
                f"{key}: {value}",
                WIDTH,
                initial_indent=pad + INDENT * 2,
                subsequent_indent=pad + INDENT * 4,
                break_on_hyphens=False,
                break_long_words=False,
            ) or [f"{pad}{INDENT * 2}{key}: {value}"]
    return out


def _services(services: dict[str, Any]) -> list[str]:
    """Each service: its kind, idle tasks, monthly idle cost and one deploy; then its container."""
    rows = services["services"]
    name_col = max(len(s["name"]) for s in rows) + 2
    out = ["Services: each one's idle cost a month and one deploy (more below)"]
    for s in rows:
        deploy = f"{_strategy(s['strategy'])} deploy {s['deploy_seconds']} s"
        watch = s["deploy_completed_seconds"] - s["deploy_seconds"]
        if watch > 0:
            deploy += f" + {watch} s alarm watch"
        tasks = _count(s["idle_tasks"], "task")
        out.append(
            f"{INDENT}{s['name']:<{name_col}}{s['kind']:<{SERVICE_KIND_COL}}{tasks:<{TASKS_COL}}"
            f"{money(s['monthly_idle_usd']):>{AMOUNT_COL}}  {deploy}"
        )
        out.append(f"{INDENT * 2}{_runs_as(s)}")
    shared = money(services["shared_monthly_idle_usd"])
    out.append(
        f"{INDENT}{'shared':<{name_col + SERVICE_KIND_COL + TASKS_COL}}{shared:>{AMOUNT_COL}}  "
        "load balancer, network, queues and the rest"
    )
    return out


def _runs_as(s: dict[str, Any]) -> str:
    """A service's container: its user, and what it may write."""
    user = s["user"] or "the image's own user"
    paths = s["writable_paths"]
    writes = (
        "writes anywhere (writable root)"
        if paths is None
        else f"read-only root, writes {', '.join(paths) or 'nothing'}"
    )
    return f"runs as {user}, {writes}"


def _cost(cost: dict[str, Any]) -> list[str]:
    out = [
        f"Monthly idle cost: {money(cost['total'])} ({cost['prices_region']} list prices, "
        f"checked {cost['prices_checked']}; {cost['hours_per_month']} h a month)"
    ]
    for item in cost["items"]:
        per = "h" if item["per"] == "hour" else "month"
        qty = f"{number(item['quantity'])} x {unit_price(item['unit_price'])}/{per}"
        where = ", ".join(item["resources"]) + (f" ({item['note']})" if item["note"] else "")
        if "alarms" in item:
            # Alarms are billed per metric they evaluate: say both counts, not just the metrics.
            counts = f"{_count(item['alarms'], 'alarm')}, {_count(item['quantity'], 'metric')}"
            where = f"{counts}: {where}"
        amount = money(item["monthly"])
        head = f"{INDENT}{item['item']:<{ITEM_COL}}{qty:<{QTY_COL}}{amount:>{AMOUNT_COL}}"
        out += textwrap.wrap(
            where,
            WIDTH,
            initial_indent=f"{head}  ",
            subsequent_indent=" " * (len(head) + 2),
            break_on_hyphens=False,
        )
    if not cost["items"]:
        out.append(f"{INDENT}nothing with an idle price")
    rule_at = len(INDENT) + ITEM_COL + QTY_COL
    out.append(" " * rule_at + "-" * AMOUNT_COL)
    out.append(f"{INDENT}{'Total':<{ITEM_COL + QTY_COL}}{money(cost['total']):>{AMOUNT_COL}}")
    out += _wrapped("Not included (traffic or volume)", "; ".join(cost["excluded"]))
    out += _wrapped("Assumes", "; ".join(cost["assumptions"]))
    return out


def _count(n: float, what: str) -> str:
    return f"{number(n)} {what}{'s' * (n != 1)}"


def _step_line(label: str, seconds: int, why: str, width: int = STEP_COL) -> list[str]:
    head = f"{INDENT}{label:<{width}}{seconds:>{SECONDS_COL}} s  "
    if not why:
        return [head.rstrip()]
    return textwrap.wrap(
        why,
        WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_on_hyphens=False,
    )


def _deploy(deploy: dict[str, Any]) -> list[str]:
    if not deploy["services"]:
        return ["Deploy: no ECS service"]
    out = []
    for s in deploy["services"]:
        kind = f"{s['strategy']} deploy" if s["shifts_traffic"] else "Rolling deploy"
        watch = s.get("alarm_watch")
        then = f", then about {watch['seconds']} s of alarm watch" if watch else ""
        out.append(f"{kind} of {s['service']}: {s['total']} s{then}")
        width = max([STEP_COL, *(len(step["step"]) for step in s["steps"])])
        for step in s["steps"]:
            out += _step_line(step["step"], step["seconds"], step["why"], width)
        out += _step_line(
            "total", s["total"], "every user is on the new version" if watch else "", width
        )
        if watch:
            out += _step_line("alarm watch", watch["seconds"], watch["why"], width)
            out += _step_line(
                "completed", s["until_completed"], "when ECS marks the deploy done", width
            )
    edge = deploy.get("edge")
    if edge:
        waits = (
            f"{', '.join(edge['waiting_services'])} wait(s) for it"
            if edge["app_rollout_waits"]
            else "the app's rollout does not wait for it"
        )
        out += [
            "",
            f"First creation of the CloudFront edge: up to {edge['total']} s, once; {waits}",
        ]
        width = max([STEP_COL, *(len(step["step"]) for step in edge["steps"])])
        for step in edge["steps"]:
            out += _step_line(step["step"], step["seconds"], step["why"], width)
    return out


# -- two plans side by side ----------------------------------------------------------------------


def _row(label: str, a: str, b: str, depth: int = 1) -> list[str]:
    head = f"{INDENT * depth}{label}"
    if len(head) < LABEL_COL and len(a) < VALUE_COL and len(b) < VALUE_COL:
        return [f"{head:<{LABEL_COL}}{a:<{VALUE_COL}}{b}".rstrip()]
    return [head, f"{INDENT * (depth + 1)}< {a}", f"{INDENT * (depth + 1)}> {b}"]


def _resource_key(r: dict[str, Any], stack: str) -> str:
    """The URN without the stack, so the same resource in two stacks has the same key."""
    return r["urn"].replace(f"urn:pulumi:{stack}::", "urn:pulumi:", 1)


def render_compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    sa, sb = a["stack"], b["stack"]
    lines = [
        f"Compare stacks {sa} (<) and {sb} (>), project {a['project']}, "
        "offline: Pulumi mocks, no AWS calls",
        "",
        f"{'':<{LABEL_COL}}{sa:<{VALUE_COL}}{sb}",
        "Summary",
    ]
    lines += _row("region", a["region"], b["region"])
    for key, label in (("resources", "resources"), ("components", "components")):
        lines += _row(label, str(a["summary"][key]), str(b["summary"][key]))
    idle_a, idle_b = (money(p["cost"]["total"]) + _priced_elsewhere(p) for p in (a, b))
    lines += _row("monthly idle", idle_a, idle_b)
    lines += _row("deploy", f"{a['deploy']['total']} s", f"{b['deploy']['total']} s")
    done = [p["deploy"]["until_completed"] for p in (a, b)]
    if done != [a["deploy"]["total"], b["deploy"]["total"]]:
        lines += _row("deploy completed (alarm watch)", f"{done[0]} s", f"{done[1]} s")

    lines.append("Monthly idle cost")
    costs = [_cost_by_item(p["cost"]) for p in (a, b)]
    for item in sorted(set(costs[0]) | set(costs[1]), key=_cost_order(a, b)):
        ca, cb = (money(c[item]) if item in c else "-" for c in costs)
        lines += _row(item, ca, cb)
    lines += _row("Total", money(a["cost"]["total"]), money(b["cost"]["total"]))

    lines.append("Deploy")
    steps = [_steps(p["deploy"]) for p in (a, b)]
    for step in list(dict.fromkeys([*steps[0], *steps[1]])):
        da, db = (f"{s[step]} s" if step in s else "-" for s in steps)
        lines += _row(step, da, db)

    ra = {_resource_key(r, sa): r for r in a["resources"]}
    rb = {_resource_key(r, sb): r for r in b["resources"]}
    for stack, mine, theirs in ((sa, ra, rb), (sb, rb, ra)):
        only = [r for k, r in mine.items() if k not in theirs]
        lines.append(f"Resources only in {stack}: {len(only)}")
        lines += [f"{INDENT}{r['display_type']}  {r['name']}" for r in only]

    lines.append("Settings that differ (beyond the stack's name in names and tags)")
    differ = 0
    for k, r in ra.items():
        other = rb.get(k)
        if other is None:
            continue
        keys = list(dict.fromkeys([*r["settings"], *other["settings"]]))
        changed = [
            s for s in keys if _renamed(r["settings"].get(s), sa, sb) != other["settings"].get(s)
        ]
        changed_flags = r["flags"] != other["flags"]
        if not changed and not changed_flags:
            continue
        differ += 1
        lines.append(f"{INDENT}{r['display_type']}  {r['name']}")
        if changed_flags:
            lines += _row(
                "flags", "; ".join(r["flags"]) or "-", "; ".join(other["flags"]) or "-", 2
            )
        for s in changed:
            lines += _row(s, r["settings"].get(s, "-"), other["settings"].get(s, "-"), 2)
    if not differ:
        lines.append(f"{INDENT}none")
    return "\n".join(fit(lines)) + "\n"


def _renamed(value: str | None, old: str, new: str) -> str | None:
    """`value` as it would read in the other stack if only the stack name changed."""
    return value.replace(old, new) if value is not None else None


def _cost_by_item(cost: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in cost["items"]:
        out[item["item"]] = round(out.get(item["item"], 0) + item["monthly"], 2)
    return out


def _cost_order(*plans: dict[str, Any]) -> Any:
    order: dict[str, int] = {}
    for p in plans:
        for item in p["cost"]["items"]:
            order.setdefault(item["item"], len(order))
    return lambda item: order[item]


def _steps(deploy: dict[str, Any]) -> dict[str, int]:
    if not deploy["services"]:
        return {}
    slowest = max(deploy["services"], key=lambda s: s["total"])
    steps = {**{s["step"]: s["seconds"] for s in slowest["steps"]}, "total": slowest["total"]}
    if slowest.get("alarm_watch"):
        steps["alarm watch (estimate)"] = slowest["alarm_watch"]["seconds"]
        steps["completed"] = slowest["until_completed"]
    return steps
