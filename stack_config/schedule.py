"""`scheduledTasks`, jobs run on a timetable (components/scheduled_tasks.py): the EventBridge
Scheduler expression grammar and the checks of each job."""

from __future__ import annotations

import difflib
import json
import re
import zoneinfo
from datetime import datetime
from typing import Any

from components.spec import (
    DEFAULT_TIMEZONE,
    FARGATE_MEMORY_BY_CPU,
    TASK_NAME,
    TASK_NAME_MAX,
    ScheduledTask,
    TaskSize,
)
from stack_config.file_systems import check_mounts, file_system_names, writable_paths
from stack_config.parsing import (
    Problems,
    parse_boolean,
    parse_command,
    parse_integer,
    suggest,
)

# EventBridge Scheduler's expressions.
# Source: https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
SCHEDULE_EXPRESSION = re.compile(r"^(?P<kind>cron|rate|at)\((?P<body>.*)\)$", re.DOTALL)
SCHEDULE_EXPRESSION_MAX = 256  # CreateSchedule's limit
SCHEDULE_EXAMPLES = "cron(0 3 * * ? *) (03:00 daily), rate(6 hours) or at(2030-01-31T09:00:00)"
RATE_UNITS = ("minute", "minutes", "hour", "hours", "day", "days")
CRON_FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
CRON_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
CRON_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # 1 is Sunday
# field -> (lowest, highest, names for lowest.., what the field takes)
CRON_RANGES: dict[str, tuple[int, int, tuple[str, ...], str]] = {
    "minutes": (0, 59, (), "0-59 and the wildcards , - * /"),
    "hours": (0, 23, (), "0-23 and the wildcards , - * /"),
    "day-of-month": (1, 31, (), "1-31 and the wildcards , - * ? / L W"),
    "month": (1, 12, CRON_MONTHS, "1-12 or JAN-DEC and the wildcards , - * /"),
    "day-of-week": (1, 7, CRON_DAYS, "1-7 or SUN-SAT and the wildcards , - * ? L #"),
    "year": (1970, 2199, (), "1970-2199 and the wildcards , - * /"),
}
SCHEDULED_TASK_FIELDS = ("schedule", "command", "cpu", "memory", "timezone", "enabled", "mounts")
SCHEDULE_TIMEZONE_MAX = 50  # CreateSchedule's limit


def parse_scheduled_tasks(raw: Any) -> dict[str, Any]:
    """`scheduledTasks` as Pulumi hands it over (JSON text) or as a native map; entries are checked
    by `check_scheduled_tasks`."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, dict):
        raise ValueError("expected a map of job names to {schedule, command, cpu, memory, ...}")
    return {str(k): v for k, v in value.items()}


def schedule_expression_problems(expression: str) -> list[str]:
    """What is wrong with an EventBridge Scheduler expression (empty when it is valid)."""
    if len(expression) > SCHEDULE_EXPRESSION_MAX:
        return [f"expressions are at most {SCHEDULE_EXPRESSION_MAX} characters"]
    m = SCHEDULE_EXPRESSION.match(expression.strip())
    if not m:
        return [f"expected cron(...), rate(...) or at(...), such as {SCHEDULE_EXAMPLES}"]
    kind, body = m["kind"], m["body"].strip()
    if kind == "rate":
        return _rate_problems(body)
    if kind == "at":
        try:
            datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return [
                "at() takes a valid date and time as yyyy-mm-ddThh:mm:ss, such as "
                "at(2030-01-31T09:00:00), in the schedule's timezone"
            ]
        return []
    return _cron_problems(body)


def _rate_problems(body: str) -> list[str]:
    m = re.fullmatch(r"(\d+)\s+([a-z]+)", body)
    if not m or m[2] not in RATE_UNITS:
        return [
            "rate() takes a whole number and a unit of minute(s), hour(s) or day(s), such as "
            "rate(15 minutes); for weekly or monthly runs use cron(...)"
        ]
    count, unit = int(m[1]), m[2]
    if count < 1:
        return ["rate()'s value must be at least 1"]
    if count == 1 and unit.endswith("s"):
        return [f"with a value of 1 the unit is singular: rate(1 {unit[:-1]})"]
    if count > 1 and not unit.endswith("s"):
        return [f"with a value above 1 the unit is plural: rate({count} {unit}s)"]
    return []


def _cron_problems(body: str) -> list[str]:
    fields = body.split()
    if len(fields) != len(CRON_FIELDS):
        hint = (
            "; a Unix crontab line needs a year and a ? in day-of-month or day-of-week, "
            "e.g. `0 3 * * *` is cron(0 3 * * ? *)"
            if len(fields) == 5
            else ""
        )
        return [f"cron() takes 6 fields ({' '.join(CRON_FIELDS)}), got {len(fields)}{hint}"]
    out = [
        f"cron()'s {name} field {text!r} is not valid; it takes {CRON_RANGES[name][3]}"
        for name, text in zip(CRON_FIELDS, fields, strict=True)
        if not _cron_field_ok(name, text)
    ]
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        out.append(
            "exactly one of day-of-month and day-of-week must be ?, e.g. cron(0 3 * * ? *) "
            "(every day) or cron(0 3 ? * MON-FRI *) (weekdays)"
        )
    return out


def _cron_field_ok(name: str, text: str) -> bool:
    lo, hi, names, _ = CRON_RANGES[name]
    upper = text.upper()
    if name in ("day-of-month", "day-of-week") and text == "?":
        return True
    if name == "day-of-month" and re.fullmatch(r"L|LW|([1-9]|[12]\d|3[01])W", upper):
        return True
    day = r"([1-7]|" + "|".join(CRON_DAYS) + ")"
    if name == "day-of-week" and re.fullmatch(rf"L|{day}L|{day}#[1-5]", upper):
        return True

    def value(token: str) -> int | None:
        if token.isdigit():
            return int(token) if lo <= int(token) <= hi else None
        return names.index(token) + lo if token in names else None

    for item in upper.split(","):
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and 1 <= int(step) <= hi):
            return False
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        if value(first) is None or (dash and value(last) is None):
            return False
    return True


def check_scheduled_tasks(
    get: dict[str, Any], ok: set[str], problems: Problems
) -> tuple[ScheduledTask, ...]:
    if "scheduledTasks" not in ok:
        return ()
    service_cpu = get["cpu"] if "cpu" in ok and get["cpu"] in FARGATE_MEMORY_BY_CPU else None
    service_memory = get["memory"] if "memory" in ok else None
    file_systems, writable = file_system_names(get, ok), writable_paths(get, ok)
    zones = zoneinfo.available_timezones()  # empty without a tz database: then not checked
    tasks: list[ScheduledTask] = []
    for name, entry in get["scheduledTasks"].items():
        key = f"scheduledTasks.{name}"
        before = len(problems.items)
        if not TASK_NAME.match(name) or len(name) > TASK_NAME_MAX:
            problems.add(
                key,
                name,
                f"job names are 1 to {TASK_NAME_MAX} letters, digits, - and _ "
                "(they name the job's AWS resources)",
            )
        if not isinstance(entry, dict):
            problems.add(
                key, entry, "expected a map with schedule and command (see docs/scheduled-jobs.md)"
            )
            continue
        for field_name in entry:
            if field_name not in SCHEDULED_TASK_FIELDS:
                hint = suggest(field_name, SCHEDULED_TASK_FIELDS, label="fields are")
                problems.items.append(f"{key}.{field_name}: unknown field; {hint}")

        schedule = entry.get("schedule")
        if schedule is None:
            problems.items.append(
                f"{key}.schedule: not set; add one such as {SCHEDULE_EXAMPLES}: "
                f"`pulumi config set --path '{key}.schedule' 'cron(0 3 * * ? *)'`"
            )
        elif not isinstance(schedule, str):
            problems.add(
                f"{key}.schedule", schedule, f"expected a string such as {SCHEDULE_EXAMPLES}"
            )
        else:
            for problem in schedule_expression_problems(schedule):
                problems.add(f"{key}.schedule", schedule, problem)

        command: tuple[str, ...] = ()
        if "command" not in entry:
            problems.items.append(
                f"{key}.command: not set; add the command to run, as a list or a string: "
                f"`pulumi config set --path '{key}.command' 'python -m myjob'`"
            )
        else:
            try:
                command = parse_command(entry["command"])
            except ValueError as err:
                problems.add(f"{key}.command", entry["command"], str(err))

        size: dict[str, int | None] = {"cpu": service_cpu, "memory": service_memory}
        for field_name in ("cpu", "memory"):
            if field_name in entry:
                try:
                    size[field_name] = parse_integer(entry[field_name])
                except ValueError as err:
                    problems.add(f"{key}.{field_name}", entry[field_name], str(err))
                    size[field_name] = None
        cpu, memory = size["cpu"], size["memory"]
        if cpu is not None and memory is not None and ("cpu" in entry or "memory" in entry):
            # The service's own size is the service's problem, told under cpu and memory.
            issues = TaskSize(cpu=cpu, memory=memory).issues()
            keys = {"cpu": f"{key}.cpu", "memory": f"{key}.memory"}
            problems.add_issues([i for i in issues if i.field == "cpu" and "cpu" in entry], keys)
            if "memory" not in entry:
                whose = f" (the service's memory; set {key}.memory)"
            elif "cpu" not in entry:
                whose = f" (cpu is the service's; set {key}.cpu to change it)"
            else:
                whose = ""
            problems.add_issues([i for i in issues if i.field == "memory"], keys, suffix=whose)

        timezone = entry.get("timezone", DEFAULT_TIMEZONE)
        if not isinstance(timezone, str) or not timezone or len(timezone) > SCHEDULE_TIMEZONE_MAX:
            problems.add(
                f"{key}.timezone", timezone, "expected an IANA time zone such as Europe/Berlin"
            )
        elif zones and timezone not in zones:
            close = difflib.get_close_matches(timezone, sorted(zones), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.add(
                f"{key}.timezone",
                timezone,
                f"expected an IANA time zone such as UTC, Europe/Berlin or America/New_York{hint}",
            )

        enabled = True
        if "enabled" in entry:
            try:
                enabled = parse_boolean(entry["enabled"])
            except ValueError as err:
                problems.add(f"{key}.enabled", entry["enabled"], str(err))

        mounts = check_mounts(
            entry.get("mounts"), f"{key}.mounts", file_systems, writable, problems
        )

        if len(problems.items) == before and cpu is not None and memory is not None:
            tasks.append(
                ScheduledTask(
                    name=name,
                    schedule=_normalised_expression(str(schedule)),
                    command=command,
                    cpu=cpu,
                    memory=memory,
                    timezone=str(timezone),
                    enabled=enabled,
                    mounts=mounts,
                )
            )
    return tuple(tasks)


def _normalised_expression(expression: str) -> str:
    """The expression with single spaces, as AWS shows it back (so Pulumi sees no diff)."""
    m = SCHEDULE_EXPRESSION.match(expression.strip())
    assert m is not None  # validated
    return f"{m['kind']}({' '.join(m['body'].split())})"
