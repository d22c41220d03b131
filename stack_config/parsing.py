"""Raw setting values to typed ones, and the list of problems every check adds to.

Parsers take the raw value (a string from Pulumi, or a native value from tests) and return the
typed value, or raise ValueError saying what is allowed.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from components.spec import Issue
from stack_config.settings import SETTINGS_BY_KEY


class Problems:
    """The problems found so far, each naming the setting, the value given and what is allowed."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, value: Any, allowed: str) -> None:
        self.items.append(f"{key}: {show(value)} is not allowed; {allowed}")

    def add_issues(
        self, issues: Sequence[Issue], keys: Mapping[str, str] | None = None, *, suffix: str = ""
    ) -> None:
        """A value's issues (components.spec), each under the setting `keys` maps its field to
        (default: the field, when it is named as the setting already), with `suffix` after what
        is allowed."""
        keys = keys or {}
        for issue in issues:
            key = keys.get(issue.field, issue.field)
            allowed = issue.allowed_for(keys) + suffix
            if issue.value is None:  # a relation, stated whole
                self.items.append(f"{key}: {allowed}")
            else:
                self.add(key, issue.value, allowed)


def show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else repr(value)


def parse_integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected a whole number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+\s*", raw):
        return int(raw)
    raise ValueError("expected a whole number")


def parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise ValueError("expected true or false")


def parse_string(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    raise ValueError("expected a string")


def parse_map(raw: Any) -> dict[str, str]:
    """A map of names to scalar values; numbers and booleans become strings, as env vars are."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError:
            raise ValueError("expected a map of names to values") from None
    if not isinstance(value, dict):
        raise ValueError("expected a map of names to values")
    out: dict[str, str] = {}
    bad: list[tuple[str, str]] = []  # (name, the value as given)
    for k, v in value.items():
        if isinstance(v, bool):
            out[str(k)] = "true" if v else "false"
        elif isinstance(v, str | int | float):
            out[str(k)] = str(v)
        else:
            out[str(k)] = BAD_VALUE
            bad.append((str(k), show(v)))
    if bad:
        raise PartialMap(bad, out)
    return out


def parse_array(raw: Any) -> tuple[str, ...]:
    """A list of strings: as YAML gives it, or as JSON text (how the Pulumi CLI hands a list
    over); a tuple, as frozen as the rest of StackConfig."""
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError:
            raise ValueError('expected a list of strings, such as ["/tmp"]') from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError('expected a list of strings, such as ["/tmp"]')
    return tuple(value)


# A string `command` is split into words as a POSIX shell would, but no shell runs it: these would
# reach the program as literal arguments.
SHELL_OPERATORS = frozenset({"|", "||", "&", "&&", ";", "<", ">", ">>", "2>", "2>&1"})


def parse_command(raw: Any) -> tuple[str, ...]:
    """A list of arguments, or a string split into words like a POSIX shell's (no shell runs it)."""
    if isinstance(raw, str):
        try:
            words = shlex.split(raw)
        except ValueError as err:
            raise ValueError(f"the command could not be split into words ({err})") from None
        operators = sorted(SHELL_OPERATORS.intersection(words))
        if operators:
            raise ValueError(
                f"no shell runs the command, so {', '.join(operators)} would be passed as a "
                'literal argument; for a pipeline use a list: ["sh", "-c", "a | b"]'
            )
    elif isinstance(raw, list) and all(
        isinstance(w, str | int | float) and not isinstance(w, bool) for w in raw
    ):
        words = [str(w) for w in raw]
    else:
        raise ValueError("expected a list of strings or a string (split into words)")
    if not words or not words[0]:
        raise ValueError("expected at least the program to run, e.g. python -m myjob")
    return tuple(words)


BAD_VALUE = "<invalid>"  # stands in for a value of the wrong type while the names are checked


class PartialMap(ValueError):
    """A map with values of the wrong type; `parsed` holds every name, so that the names' own rules
    are checked (and reported) too, with BAD_VALUE for the values that are not."""

    def __init__(self, bad: list[tuple[str, str]], parsed: dict[str, str]) -> None:
        super().__init__(
            "; ".join(f"the value of {k!r} must be a string or number, not {v}" for k, v in bad)
        )
        self.names = [k for k, _ in bad]
        self.parsed = parsed

    def redacted(self) -> str:
        """The message without the values, for a map of secrets."""
        return "; ".join(f"the value of {k!r} must be a string or number" for k in self.names)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "integer": parse_integer,
    "boolean": parse_boolean,
    "string": parse_string,
    "map": parse_map,
    "array": parse_array,
}


def suggest(key: str, known: Iterable[str] = SETTINGS_BY_KEY, label: str = "known settings") -> str:
    """`did you mean ...?` for a misspelt key; case slips (`CPU`) count as misspellings."""
    names = list(known)
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f"did you mean `{by_lower[close[0]]}`?"
    return f"{label} " + ", ".join(names)
