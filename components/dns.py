"""DNS: the app's name in Route 53, as alias records (A and AAAA) to the load balancer or to the
CloudFront distribution in front of it.

Alias records cost nothing to query and follow the load balancer's addresses as they change.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.spec import check_args


@dataclass(frozen=True, kw_only=True)
class AliasRecordsArgs:
    """Settings of the records.

    zone_id, domain_name: where and what to publish. Required.
    target_dns_name, target_zone_id: the load balancer's or distribution's DNS name and hosted
        zone. Required.
    evaluate_target_health: Route 53 answers only while the target is healthy. Default True, for
        a load balancer; Route 53 refuses it for a CloudFront distribution (Route 53 API
        Reference, AliasTarget: "You can't set EvaluateTargetHealth to true when the alias target
        is a CloudFront distribution").
    """

    zone_id: pulumi.Input[str]
    domain_name: str
    target_dns_name: pulumi.Input[str]
    target_zone_id: pulumi.Input[str]
    evaluate_target_health: bool = True

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        return [] if self.domain_name else ["domain_name: the name to publish is needed"]


class AliasRecords(pulumi.ComponentResource):
    """A (IPv4) and AAAA (IPv6: the internet-facing load balancer and the distribution both answer
    it) alias records.

    Outputs:
        fqdn: the published name.
    """

    def __init__(
        self, name: str, args: AliasRecordsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"AliasRecords {name!r}", args.problems())
        super().__init__("fargate-app:dns:AliasRecords", name, None, opts)
        records = [
            aws.route53.Record(
                f"{name}-{record_type.lower()}",
                zone_id=args.zone_id,
                name=args.domain_name,
                type=record_type,
                aliases=[
                    {
                        "name": args.target_dns_name,
                        "zone_id": args.target_zone_id,
                        "evaluate_target_health": args.evaluate_target_health,
                    }
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for record_type in ("A", "AAAA")
        ]
        self.fqdn: pulumi.Output[str] = records[0].fqdn
        self.register_outputs({"fqdn": self.fqdn})
