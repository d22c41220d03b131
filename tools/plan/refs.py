"""Lookups over the registered resources: by URN, by the IDs and ARNs AWS gave them, and labels.

Under the mocks every ID and ARN is a realistic but made-up value (`subnet-95900cdf...`). The plan
never prints them: a value that is another resource's ID or ARN prints as that resource's name
(`network-public-us-east-1a`), and a value built from one (`http://<dns name>`) prints as
`http://{web-alb.dnsName}`, the way `pulumi preview` shows values that are only known after deploy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from tools.mocks import RegisteredResource

# Outputs shorter than this are not treated as references (a `revision` of 1, a region name).
MIN_REF_CHARS = 8
# Attributes that identify a resource; a value equal to one of these is shown as the name alone.
IDENTITY_ATTRS = ("id", "arn", "arnWithoutRevision")
# Computed attributes that are not references to the resource (the account, the region, dates).
NOT_REFERENCES = frozenset(
    {"ownerId", "registryId", "region", "createDate", "uniqueId", "policyId", "baseImageName"}
)


def short_type(type_token: str) -> str:
    """`aws:ec2/vpc:Vpc` -> `aws:ec2:Vpc`, as `pulumi preview` shows types."""
    parts = type_token.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return type_token


def is_provider(resource: RegisteredResource) -> bool:
    return resource.type.startswith("pulumi:providers:")


class Index:
    """The resources of one program run, with reverse lookups from AWS values to resources."""

    def __init__(
        self, resources: Iterable[RegisteredResource], looked_up: Mapping[str, str] | None = None
    ) -> None:
        """`looked_up`: values the program read from data sources, with the label to show."""
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in self.resources}
        self._by_value: dict[str, RegisteredResource] = {}
        self._labels: dict[str, str] = {}
        self._attr_labels: dict[str, str] = {}
        for r in self.resources:
            if not r.custom or is_provider(r):
                continue
            # Values AWS computes (not given as inputs), for substitution inside larger strings;
            # an output that echoes an input (a record's fqdn is its name) is the user's value.
            own_inputs = {v for v in r.inputs.values() if isinstance(v, str)}
            for attr, value in sorted(r.outputs.items()):
                if attr in r.inputs or attr in NOT_REFERENCES or not isinstance(value, str):
                    continue
                if value in own_inputs or value.rstrip(".") in own_inputs:
                    continue
                if len(value) >= MIN_REF_CHARS:
                    self._attr_labels.setdefault(value, f"{{{r.name}.{attr}}}")
            for attr, value in self._identities(r):
                self._by_value.setdefault(value, r)
                self._labels.setdefault(value, r.name)
                self._attr_labels.setdefault(value, f"{{{r.name}.{attr}}}")
        for value, label in self._attr_labels.items():
            self._labels.setdefault(value, label)
        for value, label in (looked_up or {}).items():
            self._labels.setdefault(value, label)
        ordered = sorted(self._labels, key=lambda v: (-len(v), v))
        self._pattern = (
            re.compile("|".join(re.escape(v) for v in ordered)) if ordered else re.compile(r"(?!)")
        )

    @staticmethod
    def _identities(r: RegisteredResource) -> list[tuple[str, str]]:
        # Some IDs are one of the resource's own inputs (a log group's name, a scalable target's
        # resource ID, a capacity-provider attachment's cluster name): those name something else.
        own_inputs = {v for v in r.inputs.values() if isinstance(v, str)}
        found = [("id", r.id)] if r.id and r.id not in own_inputs else []
        for attr in IDENTITY_ATTRS[1:]:
            value = r.outputs.get(attr)
            if isinstance(value, str) and value:
                found.append((attr, value))
        return found

    # -- lookups -------------------------------------------------------------------------------
    def of_type(self, *types: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type in types]

    def resolve(self, value: Any) -> RegisteredResource | None:
        """The resource whose ID or ARN `value` is (any revision of a task definition ARN)."""
        if not isinstance(value, str) or not value:
            return None
        found = self._by_value.get(value)
        if found is None and ":task-definition/" in value:
            found = self._by_value.get(value.rsplit(":", 1)[0])
        return found

    def children(self, parent: RegisteredResource) -> list[RegisteredResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    # -- labels --------------------------------------------------------------------------------
    def label(self, value: Any, *, attribute: bool = False) -> str:
        """A value as the plan prints it: references become resource names (or, with `attribute`,
        `{name.attr}`, as stack outputs show them), lists are joined."""
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list | tuple):
            shown = [self.label(v, attribute=attribute) for v in value]
            return ", ".join(shown) if shown else "none"
        if isinstance(value, dict):
            return ", ".join(
                f"{k}={self.label(v, attribute=attribute)}" for k, v in sorted(value.items())
            )
        text = str(value)
        if attribute and text in self._attr_labels:
            return self._attr_labels[text]
        exact = self.resolve(text)
        if exact is not None and not attribute:
            return exact.name
        return self._pattern.sub(lambda m: self._labels[m.group(0)], text)
