"""HTTPS and domains on an internet-facing load balancer (`edge: none`): an ACM certificate
validated by DNS (or the user's own), an HTTPS listener with a TLS 1.3 policy, HTTP answering with
a redirect, alias records and the url output. HTTPS through CloudFront: tests/test_edge.py."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tools.mocks import ProgramRun, Unknown, load_stack_config, run_program

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = {"fargate-app:domainName": "app.example.com", "fargate-app:hostedZone": "example.com"}
OWN_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
INTERNET_FACING = {"fargate-app:edge": "none"}


@cache
def plan(stack: str, extra: tuple = (), preview: bool = False) -> ProgramRun:
    config = {**load_stack_config(ROOT, stack), **INTERNET_FACING, **dict(extra)}
    run = run_program(
        ROOT / "__main__.py", project="fargate-app", stack=stack, config=config, preview=preview
    )
    assert run.error is None, f"the program failed: {run.error}"
    return run


def listeners(run: ProgramRun) -> dict[int, dict]:
    return {r.inputs["port"]: r.inputs for r in run.of_type("aws:lb/listener:Listener")}


def ingress_ports(run: ProgramRun) -> set[tuple[int, str]]:
    lb_sg = run.named("web-sg")
    return {
        (r.inputs["fromPort"], r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"))
        for r in run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == lb_sg.id
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_without_a_certificate_the_app_is_served_over_plain_http(stack):
    run = plan(stack)
    assert set(listeners(run)) == {80}
    assert listeners(run)[80]["protocol"] == "HTTP"
    assert run.outputs["url"].startswith("http://")
    assert not run.of_type("aws:acm/certificate:Certificate")


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("preview", [False, True])
def test_a_domain_gets_a_dns_validated_certificate_in_its_hosted_zone(stack, preview):
    run = plan(stack, tuple(DOMAIN.items()), preview)
    cert = run.one("aws:acm/certificate:Certificate")
    assert cert.inputs["domainName"] == "app.example.com"
    assert cert.inputs["validationMethod"] == "DNS"
    zone_lookups = [a for t, a in run.invokes if t == "aws:route53/getZone:getZone"]
    assert zone_lookups and all(
        a["name"] == "example.com" and a["privateZone"] is False for a in zone_lookups
    ), "the certificate must be validated in the public zone the user named"
    validation = run.one("aws:acm/certificateValidation:CertificateValidation")
    records = {r.name: r for r in run.of_type("aws:route53/record:Record")}
    assert "domain-validation" in records, "no DNS validation record"
    if not preview:
        assert validation.inputs["validationRecordFqdns"] == [
            records["domain-validation"].outputs["fqdn"]
        ]
        assert records["domain-validation"].inputs["type"] == "CNAME"


def test_the_https_listener_uses_the_validated_certificate_and_a_tls13_policy():
    run = plan("prod", tuple(DOMAIN.items()))
    https = listeners(run)[443]
    assert https["protocol"] == "HTTPS"
    assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-"), https["sslPolicy"]
    validation = run.one("aws:acm/certificateValidation:CertificateValidation")
    assert https["certificateArn"] == validation.outputs["certificateArn"], (
        "the listener must wait for the validated certificate, not the pending one"
    )


@pytest.mark.parametrize("extra", [DOMAIN, {"fargate-app:certificateArn": OWN_CERT}])
def test_http_answers_with_a_permanent_redirect_to_https(extra):
    run = plan("prod", tuple(extra.items()))
    (action,) = listeners(run)[80]["defaultActions"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_the_services_route_is_on_the_https_listener():
    run = plan("prod", tuple(DOMAIN.items()))
    https = run.named("web-https")
    rule = run.one("aws:lb/listenerRule:ListenerRule")
    assert rule.inputs["listenerArn"] == https.id, "traffic must be routed on HTTPS, not HTTP"


def test_https_is_open_to_ipv4_and_ipv6_like_http():
    run = plan("prod", tuple(DOMAIN.items()))
    assert ingress_ports(run) == {
        (80, "0.0.0.0/0"),
        (80, "::/0"),
        (443, "0.0.0.0/0"),
        (443, "::/0"),
    }


def test_the_domain_points_at_the_load_balancer_for_ipv4_and_ipv6():
    run = plan("prod", tuple(DOMAIN.items()))
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    aliases = {
        r.inputs["type"]: r.inputs
        for r in run.of_type("aws:route53/record:Record")
        if r.inputs.get("aliases")
    }
    assert set(aliases) == {"A", "AAAA"}
    for record in aliases.values():
        assert record["name"] == "app.example.com"
        (alias,) = record["aliases"]
        assert alias["name"] == alb.outputs["dnsName"]
        assert alias["zoneId"] == alb.outputs["zoneId"]


@pytest.mark.parametrize("preview", [False, True])
def test_the_url_output_follows_the_domain(preview):
    run = plan("prod", tuple(DOMAIN.items()), preview)
    assert run.outputs["url"] == "https://app.example.com"


def test_an_existing_certificate_is_used_as_given_with_no_dns_changes():
    run = plan("prod", (("fargate-app:certificateArn", OWN_CERT),))
    assert listeners(run)[443]["certificateArn"] == OWN_CERT
    assert not run.of_type("aws:acm/certificate:Certificate")
    assert not run.of_type("aws:route53/record:Record")
    assert run.outputs["url"].startswith("https://") and run.outputs["url"].endswith(
        ".elb.amazonaws.com"
    )


def test_with_an_existing_certificate_the_preview_url_is_unknown_until_the_alb_exists():
    run = plan("prod", (("fargate-app:certificateArn", OWN_CERT),), True)
    assert isinstance(run.outputs["url"], Unknown)
