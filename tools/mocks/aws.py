"""The mocks Pulumi's engine calls: every registration and invoke answered the way AWS (through
pulumi-aws) would, from the answer tables in resources.py and invokes.py.

This module adds what holds for every type: Pulumi's autonaming (`<logical name>-<7 hex>`),
outputs that echo the inputs, and preview mode, in which, as in `pulumi preview`, inputs are known
but every value AWS computes (IDs, ARNs, DNS names, digests) is unknown.
"""

from __future__ import annotations

from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from tools.mocks.ids import DEFAULT_REGION, hex_id, uuid_id
from tools.mocks.invokes import INVOKES, Invoke
from tools.mocks.resources import AUTONAMED, LOWERCASE_NAMES, Registration, answer_for

UNKNOWN = rpc.UNKNOWN  # what preview mode returns for values only AWS knows
AUTONAME_HEX_DIGITS = 7  # Pulumi's autoname suffix: `web-alb-3f2a9c1`
PREFIXED_ID_DIGITS = 26  # what the provider appends to a namePrefix


class AwsMocks(pulumi_mocks.Mocks):
    """Answers resource registrations and invokes the way AWS (through pulumi-aws) would."""

    def __init__(
        self, *, region: str = DEFAULT_REGION, preview: bool = False, az_count: int | None = None
    ) -> None:
        self.region = region
        self.preview = preview
        self.az_count = az_count
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        # What each invoke answered, in order, for the plan to name what the program looked up.
        self.answers: list[tuple[str, dict[str, Any]]] = []

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any] | None]:
        self.invokes.append((args.token, dict(args.args)))
        answer = INVOKES.get(args.token)
        if answer is None:
            raise NotImplementedError(
                f"tools/mocks/invokes.py does not answer the invoke {args.token}; add it"
            )
        region = args.args.get("region") or self.region
        result = answer(Invoke(args=dict(args.args), region=region, az_count=self.az_count))
        self.answers.append((args.token, result))
        return result, []

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if not args.custom:
            return "", {}
        if args.typ.startswith("pulumi:providers:"):
            return ("" if self.preview else uuid_id(args.name)), inputs
        name = inputs.get("name")
        if not name and inputs.get("namePrefix"):
            # The provider's own unique name: the prefix and 26 digits (terraform-plugin-sdk's
            # id.PrefixedUniqueId: a UTC timestamp and a counter).
            digits = str(int(hex_id(args.typ, args.name), 16))
            name = str(inputs["namePrefix"]) + digits.zfill(PREFIXED_ID_DIGITS)[:PREFIXED_ID_DIGITS]
        elif not name and args.typ in AUTONAMED:
            name = f"{args.name}-{hex_id(args.typ, args.name, n=AUTONAME_HEX_DIGITS)}"
            if args.typ in LOWERCASE_NAMES:
                name = name.lower()
        registration = Registration(
            type=args.typ,
            logical=args.name,
            name=name,
            inputs=inputs,
            region=inputs.get("region") or self.region,
        )
        ident, computed = answer_for(args.typ)(registration)
        if name and "name" not in inputs:
            computed.setdefault("name", name)
        if self.preview:
            # Values the user chose stay known; what AWS computes is unknown until it exists.
            chosen = {
                k: v for k, v in computed.items() if k == "name" and args.typ not in AUTONAMED
            }
            unknown = {k: UNKNOWN for k in computed if k not in chosen}
            return "", {**inputs, **unknown, **chosen}
        return ident, {**inputs, **computed}
