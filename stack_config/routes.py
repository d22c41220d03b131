"""Web services' listener rules on the stack's one load balancer: which requests each rule takes,
whether two rules overlap, and the priorities that let the more specific rule win.

A rule takes the requests whose host matches one of its host patterns (any host without any) and
whose path matches one of its path patterns (any path without any). Patterns are the ALB's: `*`
matches any run of characters, `?` exactly one; hosts compare without case, paths with it.
Whether one set of patterns holds another is decided exactly: each pattern is a small automaton,
and the two are walked together over the characters that appear in them (and one character
standing for every other).

The rules must nest or stay apart: when one rule's requests all fall inside another's, the inner
one gets the lower priority (ELB evaluates rules lowest first), so the more specific service is
reached; two rules with the same requests, or that share some requests while each also has its own,
would hide all or part of one service behind the other, and are config errors.

Priorities depend only on a rule's own name and how many rules hold it, so adding a service leaves
the others' priorities alone (ELB refuses a priority another rule still has, and `pulumi up`
updates rules one at a time): rules held by `depth` others take band `MAX_DEPTH - depth`, and
within a band a slot from a hash of the service's name (the next free one if taken). The main
service's catch-all rule goes last, at ELB's highest priority.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from components.spec import ALB_RULES_MAX

RULE_PRIORITY_MAX = 50000  # ELB's highest priority (its range is 1 to 50000)
CATCH_ALL_PRIORITY = RULE_PRIORITY_MAX  # the main service's /* rule, once there are others
MAX_DEPTH = ALB_RULES_MAX - 1  # a rule is held by at most every other rule but itself
BAND_WIDTH = (RULE_PRIORITY_MAX - 1) // (MAX_DEPTH + 1)  # 499 priorities a band
ANY = "*"  # the pattern every host matches
ROOT_PATHS = "/*"  # ...and every request path
OTHER = "\0"  # stands for every character that appears in no pattern compared
WILDCARDS = "*?"


@dataclass(frozen=True)
class RuleRequests:
    """The requests a service's rule takes: host patterns and path patterns (empty: any)."""

    name: str
    hosts: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()

    @property
    def host_patterns(self) -> tuple[str, ...]:
        return tuple(h.lower() for h in self.hosts) or (ANY,)

    @property
    def path_patterns(self) -> tuple[str, ...]:
        """The paths as requests have them: every request path starts with /, so a pattern that
        starts with a wildcard matches only such paths (`*.jpg` is `/*.jpg`)."""
        return tuple(rooted(p) for p in self.paths) or (ROOT_PATHS,)


def rooted(pattern: str) -> str:
    """`pattern`, matched against paths that all start with /."""
    if pattern.startswith("*"):
        return "/" + pattern
    if pattern.startswith("?"):
        return "/" + pattern[1:]
    return pattern


# --- patterns as automata -------------------------------------------------------------------------
State = tuple[frozenset[int], ...]  # the positions reached in each pattern of a set


def _closure(pattern: str, positions: Iterable[int]) -> frozenset[int]:
    """`positions` and every position after runs of `*` (which may match nothing)."""
    out = set()
    for i in positions:
        out.add(i)
        while i < len(pattern) and pattern[i] == "*":
            i += 1
            out.add(i)
    return frozenset(out)


def _step(pattern: str, positions: frozenset[int], char: str) -> frozenset[int]:
    after = set()
    for i in positions:
        if i == len(pattern):
            continue
        token = pattern[i]
        if token == "*":
            after.add(i)
        elif token == "?" or token == char:
            after.add(i + 1)
    return _closure(pattern, after)


def _start(patterns: Sequence[str]) -> State:
    return tuple(_closure(p, [0]) for p in patterns)


def _advance(patterns: Sequence[str], state: State, char: str) -> State:
    return tuple(_step(p, s, char) for p, s in zip(patterns, state, strict=True))


def _accepts(patterns: Sequence[str], state: State) -> bool:
    return any(len(p) in s for p, s in zip(patterns, state, strict=True))


def _alphabet(*pattern_sets: Sequence[str]) -> list[str]:
    chars = {c for patterns in pattern_sets for p in patterns for c in p if c not in WILDCARDS}
    return [*sorted(chars), OTHER]


def _walk(a: Sequence[str], b: Sequence[str]) -> Iterable[tuple[bool, bool]]:
    """(a accepts, b accepts) for every string, by the states the two pattern sets reach."""
    alphabet = _alphabet(a, b)
    start = (_start(a), _start(b))
    seen = {start}
    queue = deque([start])
    while queue:
        sa, sb = queue.popleft()
        yield _accepts(a, sa), _accepts(b, sb)
        for char in alphabet:
            nxt = (_advance(a, sa, char), _advance(b, sb, char))
            if nxt not in seen and any(nxt[0]):  # a dead end for `a` decides nothing more
                seen.add(nxt)
                queue.append(nxt)


def holds(outer: Sequence[str], inner: Sequence[str]) -> bool:
    """Does every string some pattern of `inner` matches match some pattern of `outer`?"""
    return not any(a and not b for a, b in _walk(inner, outer))


def meet(a: Sequence[str], b: Sequence[str]) -> bool:
    """Does some string match a pattern of `a` and a pattern of `b`?"""
    return any(x and y for x, y in _walk(a, b))


# --- rules ----------------------------------------------------------------------------------------
def rule_holds(outer: RuleRequests, inner: RuleRequests) -> bool:
    """Does `outer` take every request `inner` takes?"""
    return holds(outer.host_patterns, inner.host_patterns) and holds(
        outer.path_patterns, inner.path_patterns
    )


def rules_meet(a: RuleRequests, b: RuleRequests) -> bool:
    """Is there a request both rules take?"""
    return meet(a.host_patterns, b.host_patterns) and meet(a.path_patterns, b.path_patterns)


def describe(rule: RuleRequests) -> str:
    parts = []
    if rule.hosts:
        parts.append("host " + ", ".join(rule.hosts))
    if rule.paths:
        parts.append("path " + ", ".join(rule.paths))
    return " and ".join(parts) or "every request"


def overlap_problems(rules: Sequence[RuleRequests]) -> list[tuple[str, str]]:
    """(service, what is wrong) for each pair of rules that would hide all or part of a service:
    the same requests, or some shared while neither holds the other."""
    found = []
    for i, a in enumerate(rules):
        for b in rules[i + 1 :]:
            if not rules_meet(a, b):
                continue
            a_holds_b, b_holds_a = rule_holds(a, b), rule_holds(b, a)
            if a_holds_b and b_holds_a:
                found.append(
                    (
                        b.name,
                        f"it takes the same requests as {a.name} ({describe(b)}), so one of the "
                        "two would never be reached; give each its own paths or hosts",
                    )
                )
            elif not a_holds_b and not b_holds_a:
                found.append(
                    (
                        b.name,
                        f"its requests ({describe(b)}) overlap {a.name}'s ({describe(a)}) without "
                        "either holding the other, so part of one would be hidden behind the "
                        "other; make one of them more specific (e.g. add the host to the path "
                        "rule) or keep them apart",
                    )
                )
    return found


def depths(rules: Sequence[RuleRequests]) -> dict[str, int]:
    """How many other rules hold each rule (the rules must nest: see `overlap_problems`)."""
    return {
        r.name: sum(1 for o in rules if o is not r and rule_holds(o, r) and not rule_holds(r, o))
        for r in rules
    }


def slot_of(name: str) -> int:
    """A rule's place in its band, from its name alone."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % BAND_WIDTH


def priorities(rules: Sequence[RuleRequests]) -> dict[str, int]:
    """Each rule's priority: inner rules before the rules that hold them, each from its own name
    and depth (see the module's docstring). The rules must have no overlap problems."""
    depth = depths(rules)
    taken: set[int] = set()
    out = {}
    for rule in sorted(rules, key=lambda r: r.name):
        band = MAX_DEPTH - depth[rule.name]
        first = 1 + band * BAND_WIDTH
        slot = slot_of(rule.name)
        while first + slot in taken:  # a hash collision: the next free slot in the band
            slot = (slot + 1) % BAND_WIDTH
        taken.add(first + slot)
        out[rule.name] = first + slot
    return out
