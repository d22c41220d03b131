"""What `pulumi up` would do to a deployed stack when its settings change: which resources it
creates, deletes, replaces and updates in place, from two runs of the program under the mocks.

Pulumi replaces a resource when an input the provider cannot change in place differs (ForceNew in
terraform-provider-aws's schema, which pulumi-aws bridges), or when such an input names a resource
that is itself replaced (its new ID or ARN is a new value). `REPLACED_WHEN` lists those inputs for
the types whose replacement matters here, and a resource's own `replace_on_changes` adds to them;
`changes()` follows them through references until nothing more is replaced. The mocks give a
resource the same ID in both runs, so a reference to a replaced resource is found by its old ID or
ARN, not by comparing values.

Sources: terraform-provider-aws internal/service/elbv2 (load_balancer.go: `internal`,
`load_balancer_type` and `name` ForceNew, `subnets` changed in place for an application load
balancer; listener.go: `load_balancer_arn`; listener_rule.go: `listener_arn`; target_group.go:
`port`, `protocol`, `target_type`, `vpc_id`), internal/service/ec2 (vpc_security_group.go:
`description`, `vpc_id`; the security group rule resources: `security_group_id`; vpc_subnet.go:
`vpc_id`, `cidr_block`, `availability_zone`) and internal/service/route53 (record.go: `name`,
`type`, `zone_id`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tools.mocks import ProgramRun, RegisteredResource

REPLACED_WHEN: dict[str, tuple[str, ...]] = {
    "aws:lb/loadBalancer:LoadBalancer": ("internal", "loadBalancerType", "name"),
    "aws:lb/listener:Listener": ("loadBalancerArn",),
    "aws:lb/listenerRule:ListenerRule": ("listenerArn",),
    "aws:lb/targetGroup:TargetGroup": ("vpcId", "port", "protocol", "targetType", "name"),
    "aws:ec2/securityGroup:SecurityGroup": ("description", "vpcId", "name"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("securityGroupId",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("securityGroupId",),
    "aws:ec2/subnet:Subnet": ("vpcId", "cidrBlock", "availabilityZone"),
    "aws:route53/record:Record": ("name", "type", "zoneId"),
}


@dataclass
class Changes:
    """URNs by what `pulumi up` does to them."""

    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    replaced: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    # Resources whose only changed inputs are ones the program tells Pulumi to ignore
    # (ignore_changes): `pulumi up` leaves them as they are, naming what it replaced or deleted.
    stale: set[str] = field(default_factory=set)
    # Resources whose inputs differ but whose type has no REPLACED_WHEN row: assumed updated in
    # place, and listed so that a test can insist the table covers them.
    unclassified: set[str] = field(default_factory=set)

    def names(self, kind: str) -> set[str]:
        """The logical names in one of the sets (`created`, `replaced`, ...)."""
        return {urn.rsplit("::", 1)[-1] for urn in getattr(self, kind)}


def _values(value: Any) -> Iterable[str]:
    """Every string inside an input (lists and objects walked)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)


def _identities(r: RegisteredResource) -> set[str]:
    return {v for v in (r.id, r.outputs.get("arn")) if isinstance(v, str) and v}


def changes(before: ProgramRun, after: ProgramRun) -> Changes:
    """What `pulumi up` does to the stack `before` describes when the program now registers
    `after`."""
    old = {r.urn: r for r in before.custom_resources}
    new = {r.urn: r for r in after.custom_resources}
    found = Changes(created=set(new) - set(old), deleted=set(old) - set(new))
    owner = {value: urn for urn, r in old.items() for value in _identities(r)}
    kept = set(old) & set(new)

    def refers_to_gone(value: Any) -> bool:
        gone = found.replaced | found.deleted
        return any(owner.get(v) in gone for v in _values(value))

    grew = True
    while grew:
        grew = False
        for urn in sorted(kept - found.replaced):
            # The program's own replace_on_changes counts as the provider's ForceNew.
            keys = (*REPLACED_WHEN.get(new[urn].type, ()), *new[urn].replace_on_changes)
            for key in keys:
                was, now = old[urn].inputs.get(key), new[urn].inputs.get(key)
                if was != now or refers_to_gone(was):
                    found.replaced.add(urn)
                    grew = True
                    break
    for urn in kept - found.replaced:
        was, now = old[urn].inputs, new[urn].inputs
        moved = {
            key
            for key in set(was) | set(now)
            if was.get(key) != now.get(key) or refers_to_gone(was.get(key))
        }
        if not moved:
            continue
        if moved <= set(new[urn].ignore_changes):
            found.stale.add(urn)
            continue
        found.updated.add(urn)
        if was != now and new[urn].type not in REPLACED_WHEN:
            found.unclassified.add(urn)
    return found
