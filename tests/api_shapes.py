"""What AWS's API would say to a resource's inputs: the request pulumi-aws makes, built from the
registered inputs by walking the operation's botocore shape, then checked against that shape.

`request(inputs, shape)` maps each input to the shape's member of the same name (case aside, with
`renames` for the names pulumi-aws spells its own way), and turns lists into CloudFront's
`{Quantity, Items}` wrappers where the shape has them. An input the shape has no member for fails
the conversion: a misspelt or invented argument is as much an error as a bad value.
`problems(request, shape)` adds to botocore's own validator (types, required members, minimums)
what it leaves out: enums, string patterns and maximum lengths and values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator

# Inputs the provider itself consumes rather than sending them in the request.
PROVIDER_INPUTS = frozenset({"region", "tags", "tagsAll", "__defaults", "waitForDeployment"})


def operation(service: str, name: str) -> OperationModel:
    return botocore.session.get_session().get_service_model(service).operation_model(name)


def request(value: Any, shape: Shape, renames: Mapping[str, str] | None = None) -> Any:
    """`value` (registered inputs, camelCase) as the API's request for `shape`."""
    renames = renames or {}
    if shape.type_name == "structure":
        members = shape.members
        if isinstance(value, list) and "Quantity" in members and "Items" in members:
            return {
                "Quantity": len(value),
                "Items": [request(v, members["Items"].member, renames) for v in value],
            }
        assert isinstance(value, Mapping), f"{shape.name}: expected a structure, got {value!r}"
        by_lower = {m.lower(): m for m in members}
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in PROVIDER_INPUTS or item is None:
                continue
            member = by_lower.get(renames.get(key, key).lower())
            assert member, f"{shape.name} has no member for the input {key!r}: {sorted(members)}"
            out[member] = request(item, members[member], renames)
        return out
    if shape.type_name == "list":
        return [request(v, shape.member, renames) for v in value]
    return value


def problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Everything AWS's model refuses in `value`, botocore's validator and the checks it skips."""
    found = []
    if not path:
        report = ParamValidator().validate(value, shape)
        if report.has_errors():
            found.append(report.generate_report())
    meta = shape.metadata
    if shape.type_name == "structure" and isinstance(value, Mapping):
        for key, item in value.items():
            if key in shape.members:
                found += problems(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for n, item in enumerate(value):
            found += problems(item, shape.member, f"{path}[{n}]")
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"{path}: {len(value)} items, at most {meta['max']}")
    elif shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of {shape.enum}")
        if "pattern" in meta and not re.search(meta["pattern"], value):
            found.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if "max" in meta and len(value) > meta["max"]:
            found.append(f"{path}: {len(value)} characters, at most {meta['max']}")
    elif shape.type_name in ("integer", "long") and isinstance(value, int):
        ceiling = meta.get("max")
        if ceiling is not None and value > ceiling:
            found.append(f"{path}: {value} is above {ceiling}")
    return found
