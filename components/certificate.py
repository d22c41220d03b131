"""Certificate: an ACM certificate for the app's domain, validated through Route 53 DNS.

DNS validation renews by itself for as long as the validation record stays, unlike email
validation, which needs a person every year. The same certificate can be requested in further
regions (CloudFront's us-east-1 when the stack is elsewhere): ACM gives a domain the same
validation record in every region of an account ("Since the CNAME validation token works for any
AWS Region, you can re-create the same certificate in multiple Regions", ACM User Guide, "DNS
validation"), so the one record validates them all and no two resources manage one record.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.spec import check_args

VALIDATION_TTL_S = 300  # the validation CNAME never changes; the TTL hardly matters


@dataclass(frozen=True, kw_only=True)
class CertificateArgs:
    """Settings of the certificate.

    domain_name: the name the certificate covers (app.example.com). Required.
    hosted_zone: the public Route 53 zone that holds it (example.com). Required.
    also_in_regions: further regions to request the same certificate in, such as us-east-1 for
        CloudFront. Default none: the provider's region alone.
    """

    domain_name: str
    hosted_zone: str
    also_in_regions: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        """What is wrong with these settings (empty when nothing is)."""
        if len(set(self.also_in_regions)) != len(self.also_in_regions):
            return [f"also_in_regions {self.also_in_regions}: a region is named twice"]
        if not self.domain_name or not self.hosted_zone:
            return ["domain_name and hosted_zone: both are needed"]
        if self.domain_name != self.hosted_zone and not self.domain_name.endswith(
            "." + self.hosted_zone
        ):
            return [
                f"domain_name {self.domain_name!r}: not in hosted_zone {self.hosted_zone!r}, so "
                "its validation record cannot be written there"
            ]
        return []


class Certificate(pulumi.ComponentResource):
    """ACM certificate, its DNS validation record, and the wait for it to be issued.

    Outputs:
        certificate_arn: the validated certificate (listeners that use it wait for validation).
        regional_arns: region -> the validated certificate there, for each of also_in_regions.
        zone_id: the hosted zone's ID, for the app's alias records.
    """

    def __init__(
        self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        check_args(f"Certificate {name!r}", args.problems())
        super().__init__("fargate-app:certificate:Certificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zone = aws.route53.get_zone(
            name=args.hosted_zone, private_zone=False, opts=pulumi.InvokeOptions(parent=self)
        )
        certificate = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=args.domain_name,
            validation_method="DNS",
            # A new certificate is issued before the old one goes, so HTTPS never lapses.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        # One domain name gives exactly one validation record.
        option = certificate.domain_validation_options[0]
        record = aws.route53.Record(
            f"{name}-validation",
            zone_id=zone.zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=VALIDATION_TTL_S,
            allow_overwrite=True,  # the same record may already exist from an earlier certificate
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-validated",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=child,
        )
        self.regional_arns: dict[str, pulumi.Output[str]] = {}
        for region in args.also_in_regions:
            elsewhere = aws.acm.Certificate(
                f"{name}-cert-{region}",
                domain_name=args.domain_name,
                validation_method="DNS",
                region=region,
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
            )
            self.regional_arns[region] = aws.acm.CertificateValidation(
                f"{name}-validated-{region}",
                certificate_arn=elsewhere.arn,
                validation_record_fqdns=[record.fqdn],
                region=region,
                opts=child,
            ).certificate_arn
        self.certificate_arn: pulumi.Output[str] = validation.certificate_arn
        self.zone_id: str = zone.zone_id
        self.register_outputs(
            {
                "certificate_arn": self.certificate_arn,
                "regional_arns": self.regional_arns,
                "zone_id": self.zone_id,
            }
        )

    def arn_in(self, region: str) -> pulumi.Output[str]:
        """The validated certificate in `region`: one of also_in_regions, else the provider's own
        (the caller asks for a region it requested, or the provider's)."""
        return self.regional_arns.get(region, self.certificate_arn)
