"""Bounded physical names (components/naming.py).

What a user relies on: whatever project and stack names they choose, the names the program gives
resources explicitly stay within AWS's length and character rules, stay the same from one run to
the next (a changed name replaces the resource), and two different long names never collapse into
the same one. (test_program.py checks every name of a whole long-named stack.)
"""

from __future__ import annotations

import re

import pytest

from components.naming import bounded

LONG = "a-very-long-project-name-for-testing-feature-branch-with-a-long-name-app"


def test_a_short_valid_name_is_kept_as_it_is() -> None:
    assert bounded("fargate-app-dev", 32) == "fargate-app-dev"


@pytest.mark.parametrize(
    ("name", "want"),
    [("my.project/dev", "my-project-dev"), ("a..b", "a-b"), ("-edge-", "edge"), ("x  y", "x-y")],
)
def test_characters_aws_refuses_become_single_separators(name: str, want: str) -> None:
    assert bounded(name, 64) == want


def test_characters_a_caller_allows_are_kept() -> None:
    allowed = r"A-Za-z0-9_./-"
    assert bounded("fargate-app/dev/app", 512, allowed=allowed) == "fargate-app/dev/app"


@pytest.mark.parametrize("max_len", [16, 32, 38, 64, 255])
@pytest.mark.parametrize("length", [1, 15, 16, 17, 31, 33, 64, 100, 300])
def test_a_name_never_exceeds_its_limit(max_len: int, length: int) -> None:
    name = ("abcdefghij-" * 30)[:length].strip("-") or "a"
    result = bounded(name, max_len)
    assert 1 <= len(result) <= max_len, f"{name!r} -> {result!r} ({len(result)} > {max_len})"
    assert re.fullmatch(r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?", result), result


def test_a_long_name_is_cut_with_a_hash_so_it_stays_unique() -> None:
    first, second = bounded(LONG + "-one", 32), bounded(LONG + "-two", 32)
    assert len(first) <= 32 and len(second) <= 32
    assert first != second, "two stacks with long names sharing a prefix must not share a name"
    assert first.startswith(LONG[:20]), "the readable start of the name is kept"
    assert "--" not in first, first


def test_the_same_name_is_bounded_the_same_way_every_time() -> None:
    assert bounded(LONG, 32) == bounded(LONG, 32), "a name that changes replaces the resource"
