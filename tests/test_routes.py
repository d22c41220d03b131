"""Listener rules on the one load balancer (stack_config/routes.py).

What a user relies on: a request reaches the service whose rule is the most specific one that
matches it, by the ALB's own matching (`*` any run, `?` one character, hosts without case), and
rules that would hide all or part of a service are found; each rule's priority stays put when
another service is added.
"""

from __future__ import annotations

import re

import pytest

from stack_config.routes import (
    BAND_WIDTH,
    RULE_PRIORITY_MAX,
    RuleRequests,
    holds,
    meet,
    overlap_problems,
    priorities,
    rule_holds,
    slot_of,
)


def glob(pattern: str) -> re.Pattern[str]:
    """The ALB's matching of one pattern, as a regular expression (the reference)."""
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    )


SAMPLES = ["/", "/api", "/api/", "/api/v1", "/api/v1/users", "/a.jpg", "/img/a.jpg", "/apix", "/b"]


@pytest.mark.parametrize(
    ("outer", "inner", "held"),
    [
        ("/*", "/api/*", True),
        ("/api/*", "/api/v1/*", True),
        ("/api/v1/*", "/api/*", False),
        ("/api*", "/api/*", True),
        ("/a?i/*", "/api/*", True),
        ("/api/*", "/a?i/*", False),
        ("*.jpg", "/img/*.jpg", True),
        ("/img/*", "*.jpg", False),
        ("/api", "/api", True),
    ],
)
def test_one_pattern_holds_another_exactly_when_every_match_of_the_inner_matches(
    outer: str, inner: str, held: bool
) -> None:
    assert holds([outer], [inner]) is held, f"{outer} holds {inner}: expected {held}"
    for sample in SAMPLES:  # never claimed where a sample disproves it
        if glob(inner).fullmatch(sample) and not glob(outer).fullmatch(sample):
            assert not holds([outer], [inner]), f"{sample} matches {inner} but not {outer}"


def test_patterns_meet_when_some_path_matches_both() -> None:
    assert meet(["/a*/x"], ["/ab/*"]), "/ab/x matches both"
    assert not meet(["/api/*"], ["/img/*"])


def test_a_set_of_patterns_holds_what_its_union_matches() -> None:
    assert holds(["/api", "/api/*"], ["/api/users", "/api"])
    assert not holds(["/api/*"], ["/api"])


def test_a_rule_holds_another_when_both_its_hosts_and_paths_do() -> None:
    site = RuleRequests("site", hosts=("*.example.com",))
    api = RuleRequests("api", hosts=("api.example.com",), paths=("/v1/*",))
    assert rule_holds(site, api) and not rule_holds(api, site)


def test_hosts_match_without_case() -> None:
    a = RuleRequests("a", hosts=("API.Example.com",))
    b = RuleRequests("b", hosts=("api.example.com",))
    assert rule_holds(a, b) and rule_holds(b, a)


def test_a_path_starting_with_a_wildcard_matches_only_paths_from_the_root() -> None:
    everything = RuleRequests("main")
    assert rule_holds(everything, RuleRequests("jpg", paths=("*.jpg",)))
    assert rule_holds(RuleRequests("all", paths=("/*",)), everything), "/* is every request path"


def test_rules_that_nest_or_stay_apart_are_fine() -> None:
    rules = [
        RuleRequests("api", paths=("/api/*",)),
        RuleRequests("admin", paths=("/api/admin/*",)),
        RuleRequests("img", paths=("/img/*",)),
    ]
    assert overlap_problems(rules) == []


def test_rules_that_share_some_requests_are_reported() -> None:
    rules = [RuleRequests("a", paths=("/a*/x",)), RuleRequests("b", paths=("/ab/*",))]
    [(name, why)] = overlap_problems(rules)
    assert name == "b" and "overlap a's" in why, why


def test_inner_rules_come_before_the_rules_that_hold_them() -> None:
    rules = [
        RuleRequests("api", paths=("/api/*",)),
        RuleRequests("v1", paths=("/api/v1/*",)),
        RuleRequests("users", paths=("/api/v1/users/*",)),
    ]
    order = priorities(rules)
    assert order["users"] < order["v1"] < order["api"], order
    assert all(1 <= p < RULE_PRIORITY_MAX for p in order.values()), order


def test_priorities_are_unique_even_when_names_hash_alike() -> None:
    slots: dict[int, str] = {}
    for i in range(BAND_WIDTH + 1):  # by the pigeonhole principle, two names share a slot
        name = f"s{i}"
        if slot_of(name) in slots:
            break
        slots[slot_of(name)] = name
    pair = [slots[slot_of(name)], name]
    order = priorities([RuleRequests(n, paths=(f"/{n}/*",)) for n in pair])
    assert len(set(order.values())) == 2, f"{pair} share a priority: {order}"


def test_an_unrelated_rule_leaves_the_others_priorities_alone() -> None:
    before = priorities([RuleRequests("api", paths=("/api/*",))])
    after = priorities(
        [RuleRequests("api", paths=("/api/*",)), RuleRequests("docs", paths=("/d/*",))]
    )
    assert after["api"] == before["api"]
