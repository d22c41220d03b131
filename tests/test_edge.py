"""CloudFront in front of an internal load balancer (components/edge.py, `edge: cloudfront`).

What a user relies on: the app answers on https://<id>.cloudfront.net with no domain of their own
(or on their domain, with a certificate from us-east-1); HTTP viewers are sent to HTTPS; the load
balancer has no public address and admits only this stack's CloudFront VPC origin; nothing but the
paths they name is cached, and the viewer's Host header reaches the app; the origin response
timeout is theirs to set; CloudFront accepts the distribution and the VPC origin as the program
writes them; a first `pulumi preview` works before the VPC origin exists.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.edge import (
    ALL_VIEWER_AND_CLOUDFRONT_HEADERS,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    HOST_HEADER_ONLY,
    VIEWER_TLS_POLICY,
)
from components.spec import CLOUDFRONT_REGION
from tests.api_shapes import operation, problems, request
from tools.mocks import UNKNOWN, ProgramRun, RegisteredResource
from tools.replacements import changes

EDGE = {"edge": "cloudfront"}
DOMAIN = {"domainName": "app.example.com", "hostedZone": "example.com"}
STACKS = ("dev", "prod")
ALB = "aws:lb/loadBalancer:LoadBalancer"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
VPC_ORIGIN = "aws:cloudfront/vpcOrigin:VpcOrigin"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SUBNET = "aws:ec2/subnet:Subnet"
CERTIFICATE = "aws:acm/certificate:Certificate"
RECORD = "aws:route53/record:Record"
LOOKUP = "aws:ec2/getSecurityGroup:getSecurityGroup"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"  # every distribution's name, per Route 53's AliasTarget docs
CREATE_DISTRIBUTION = operation("cloudfront", "CreateDistribution")
CREATE_VPC_ORIGIN = operation("cloudfront", "CreateVpcOrigin")
# pulumi-aws's names for the API's members where they differ by more than case.
DISTRIBUTION_RENAMES = {"orderedCacheBehaviors": "CacheBehaviors", "originId": "Id"}


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def dev_cloudfront(run_stack) -> ProgramRun:
    return run_stack("dev", EDGE)


def alb(run: ProgramRun) -> RegisteredResource:
    return run.one(ALB)


def subnets(run: ProgramRun, tier: str) -> set[str]:
    return {s.id for s in run.of_type(SUBNET) if s.inputs["tags"]["tier"] == tier}


def ingress_of(run: ProgramRun, group_id: str) -> list[RegisteredResource]:
    return [r for r in run.of_type(INGRESS) if r.inputs["securityGroupId"] == group_id]


def behaviors(distribution: RegisteredResource) -> list[dict[str, Any]]:
    """The default cache behavior, then each ordered one."""
    inputs = distribution.inputs
    return [inputs["defaultCacheBehavior"], *inputs.get("orderedCacheBehaviors", [])]


def distribution_config(distribution: RegisteredResource) -> dict[str, Any]:
    """CreateDistribution's DistributionConfig as the provider sends it."""
    shape = CREATE_DISTRIBUTION.input_shape.members["DistributionConfig"]

    def behavior(b: dict[str, Any]) -> dict[str, Any]:
        # The provider's own shape: the cached methods nest in the allowed ones.
        allowed, cached = b["allowedMethods"], b["cachedMethods"]
        return {
            **{k: v for k, v in b.items() if k not in ("allowedMethods", "cachedMethods")},
            "allowedMethods": {
                "Quantity": len(allowed),
                "Items": allowed,
                "CachedMethods": {"Quantity": len(cached), "Items": cached},
            },
        }

    inputs = dict(distribution.inputs)
    geo = inputs.pop("restrictions")["geoRestriction"]
    locations = geo.get("locations") or []
    inputs["defaultCacheBehavior"] = behavior(inputs["defaultCacheBehavior"])
    if inputs.get("orderedCacheBehaviors"):
        inputs["orderedCacheBehaviors"] = [behavior(b) for b in inputs["orderedCacheBehaviors"]]
    config = request(inputs, shape, DISTRIBUTION_RENAMES)
    config["Restrictions"] = {
        "GeoRestriction": {
            "RestrictionType": geo["restrictionType"],
            "Quantity": len(locations),
            **({"Items": locations} if locations else {}),
        }
    }
    config["CallerReference"] = "pulumi-aws generates it"
    return config


# --- the load balancer behind it ------------------------------------------------------------------


def test_the_load_balancer_is_internal_ipv4_in_the_private_subnets(run_stack, stack: str) -> None:
    run = run_stack(stack, EDGE)
    lb = alb(run)
    assert lb.inputs["internal"] is True, f"{lb.urn} must have no public address"
    assert lb.inputs["ipAddressType"] == "ipv4", f"{lb.urn}: the private subnets have no IPv6"
    assert set(lb.inputs["subnets"]) == subnets(run, "private"), f"{lb.urn} not in private subnets"


def test_the_load_balancer_admits_only_the_vpc_origin_of_this_stack(run_stack, stack: str) -> None:
    run = run_stack(stack, EDGE)
    [group] = alb(run).inputs["securityGroups"]
    rules = ingress_of(run, group)
    assert len(rules) == 1, f"the load balancer admits {[r.name for r in rules]}, want one source"
    rule = rules[0]
    looked_up = [args for token, args in run.invokes if token == LOOKUP]
    assert len(looked_up) == 1, "CloudFront's VPC-origin group is looked up once"
    assert rule.inputs.get("referencedSecurityGroupId"), f"{rule.urn} must name a group"
    assert not rule.inputs.get("cidrIpv4") and not rule.inputs.get("cidrIpv6"), rule.urn
    filters = {f["name"]: f["values"] for f in looked_up[0]["filters"]}
    assert filters == {"group-name": ["CloudFront-VPCOrigins-Service-SG*"]}, filters
    assert looked_up[0]["vpcId"] == run.one("aws:ec2/vpc:Vpc").id, "the lookup stays in the VPC"
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (80, 80), "HTTP without a domain"


def test_the_rule_waits_for_the_vpc_origin_and_the_distribution_for_the_rule(
    dev_cloudfront,
) -> None:
    origin, rule = dev_cloudfront.one(VPC_ORIGIN), dev_cloudfront.named("edge-from-cloudfront")
    assert origin.urn in rule.depends_on, "the group exists only once the VPC origin does"
    assert rule.urn in dev_cloudfront.one(DISTRIBUTION).depends_on, (
        "the distribution must go live only once the load balancer admits it"
    )


def test_a_first_preview_leaves_the_group_unknown_and_does_not_look_it_up(run_stack) -> None:
    run = run_stack("dev", EDGE, preview=True)
    assert run.error is None, run.error
    rule = run.named("edge-from-cloudfront")
    assert rule.inputs["referencedSecurityGroupId"] == UNKNOWN, (
        "before the VPC origin exists, its group cannot be known"
    )
    assert LOOKUP not in [token for token, _ in run.invokes], "the lookup ran before the origin"


def test_no_listener_is_open_to_the_internet(run_stack, stack: str) -> None:
    run = run_stack(stack, {**EDGE, **DOMAIN})
    [group] = alb(run).inputs["securityGroups"]
    cidrs = [r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6") for r in ingress_of(run, group)]
    assert not any(cidrs), f"the internal load balancer admits {cidrs}"


# --- the VPC origin and how CloudFront talks to the load balancer ---------------------------------


def test_the_vpc_origin_reaches_this_load_balancer_over_http_without_a_domain(
    dev_cloudfront,
) -> None:
    config = dev_cloudfront.one(VPC_ORIGIN).inputs["vpcOriginEndpointConfig"]
    assert config["arn"] == alb(dev_cloudfront).outputs["arn"]
    assert config["originProtocolPolicy"] == "http-only", (
        "no certificate covers *.cloudfront.net or the load balancer's internal name"
    )


def test_a_vpc_origin_in_use_is_replaced_never_updated_and_its_tags_are_left_alone(
    dev_cloudfront,
) -> None:
    origin = dev_cloudfront.one(VPC_ORIGIN)
    assert origin.replace_on_changes == ["vpcOriginEndpointConfig"], (
        "CloudFront refuses to update a VPC origin a distribution uses"
    )
    assert {"tags", "tagsAll"} <= set(origin.ignore_changes)
    assert origin.inputs["vpcOriginEndpointConfig"]["name"].endswith("-edge-http")


def test_adding_a_domain_later_moves_the_distribution_to_a_new_vpc_origin(run_stack) -> None:
    found = changes(run_stack("dev", EDGE), run_stack("dev", {**EDGE, **DOMAIN}))
    assert "edge-origin" in found.names("replaced"), "HTTPS to the origin is a new VPC origin"
    assert "edge-cdn" in found.names("updated"), "the distribution moves to it in place"
    assert "web-alb" not in found.names("replaced"), "the load balancer stays"
    # The service's rule moves to the new HTTPS listener, as adding HTTPS does on any stack.
    assert found.names("replaced") == {"edge-origin", "app-route"}


def test_with_a_domain_cloudfront_reaches_the_load_balancer_over_tls_1_2(run_stack) -> None:
    run = run_stack("prod", {**EDGE, **DOMAIN})
    config = run.one(VPC_ORIGIN).inputs["vpcOriginEndpointConfig"]
    assert config["originProtocolPolicy"] == "https-only"
    assert config["originSslProtocols"]["items"] == ["TLSv1.2"]
    [group] = alb(run).inputs["securityGroups"]
    [rule] = ingress_of(run, group)
    assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (443, 443)


@pytest.mark.parametrize("overrides", [EDGE, {**EDGE, **DOMAIN}], ids=["http", "https"])
def test_cloudfront_accepts_the_vpc_origin(run_stack, overrides: dict[str, Any]) -> None:
    origin = run_stack("prod", overrides).one(VPC_ORIGIN)
    shape = CREATE_VPC_ORIGIN.input_shape
    api = request({"vpcOriginEndpointConfig": origin.inputs["vpcOriginEndpointConfig"]}, shape)
    assert not problems(api, shape), f"{origin.urn}: {problems(api, shape)}"


# --- the distribution -----------------------------------------------------------------------------


def test_every_viewer_is_sent_to_https(run_stack) -> None:
    run = run_stack("dev", {**EDGE, "cachedPaths": ["/static/*", "*.css"]})
    policies = {
        b.get("pathPattern", "*"): b["viewerProtocolPolicy"]
        for b in behaviors(run.one(DISTRIBUTION))
    }
    assert set(policies.values()) == {"redirect-to-https"}, policies


def test_dynamic_requests_are_not_cached_and_carry_the_viewer_s_host(dev_cloudfront) -> None:
    default = dev_cloudfront.one(DISTRIBUTION).inputs["defaultCacheBehavior"]
    assert default["cachePolicyId"] == CACHING_DISABLED
    assert default["originRequestPolicyId"] == ALL_VIEWER_AND_CLOUDFRONT_HEADERS, (
        "the Host header must reach the load balancer for host-based rules"
    )
    assert set(default["allowedMethods"]) >= {"POST", "PUT", "PATCH", "DELETE"}


def test_each_cached_path_gets_a_cache_behavior_of_its_own(run_stack) -> None:
    paths = ["/static/*", "*.css"]
    distribution = run_stack("dev", {**EDGE, "cachedPaths": paths}).one(DISTRIBUTION)
    ordered = distribution.inputs["orderedCacheBehaviors"]
    assert [b["pathPattern"] for b in ordered] == paths
    for behavior in ordered:
        assert behavior["cachePolicyId"] == CACHING_OPTIMIZED, behavior
        assert behavior["originRequestPolicyId"] == HOST_HEADER_ONLY, behavior
        assert set(behavior["cachedMethods"]) == {"GET", "HEAD"}, behavior


def test_without_cached_paths_nothing_is_cached(dev_cloudfront) -> None:
    assert not dev_cloudfront.one(DISTRIBUTION).inputs.get("orderedCacheBehaviors")


@pytest.mark.parametrize("timeout", [30, 1, 60])
def test_the_origin_response_timeout_is_the_setting(run_stack, timeout: int) -> None:
    distribution = run_stack("dev", {**EDGE, "originResponseTimeout": timeout}).one(DISTRIBUTION)
    [origin] = distribution.inputs["origins"]
    assert origin["vpcOriginConfig"]["originReadTimeout"] == timeout


def test_the_distribution_sends_to_the_vpc_origin_of_the_load_balancer(dev_cloudfront) -> None:
    [origin] = dev_cloudfront.one(DISTRIBUTION).inputs["origins"]
    assert origin["vpcOriginConfig"]["vpcOriginId"] == dev_cloudfront.one(VPC_ORIGIN).id
    assert origin["domainName"] == alb(dev_cloudfront).outputs["dnsName"]
    assert "customOriginConfig" not in origin, "a VPC origin is no public custom origin"


def test_without_a_domain_the_distribution_serves_its_own_name(dev_cloudfront) -> None:
    distribution = dev_cloudfront.one(DISTRIBUTION)
    assert distribution.inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert not distribution.inputs.get("aliases")
    domain = distribution.outputs["domainName"]
    assert domain.endswith(".cloudfront.net")
    assert dev_cloudfront.outputs["url"] == f"https://{domain}"


def test_with_a_domain_the_distribution_serves_it_with_modern_tls(run_stack) -> None:
    run = run_stack("prod", {**EDGE, **DOMAIN})
    distribution = run.one(DISTRIBUTION)
    certificate = distribution.inputs["viewerCertificate"]
    assert certificate["sslSupportMethod"] == "sni-only"
    assert certificate["minimumProtocolVersion"] == VIEWER_TLS_POLICY == "TLSv1.2_2021"
    assert distribution.inputs["aliases"] == ["app.example.com"]
    assert run.outputs["url"] == "https://app.example.com"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_cloudfront_s_certificate_comes_from_us_east_1_whatever_the_stack_s_region(
    run_stack, region: str
) -> None:
    run = run_stack("prod", {**EDGE, **DOMAIN, "aws:region": region})
    arn = run.one(DISTRIBUTION).inputs["viewerCertificate"]["acmCertificateArn"]
    assert arn.split(":")[3] == CLOUDFRONT_REGION, f"CloudFront is given {arn}"
    certificates = run.of_type(CERTIFICATE)
    assert len(certificates) == (1 if region == CLOUDFRONT_REGION else 2), [
        c.name for c in certificates
    ]
    listener = run.named("web-https")
    assert listener.inputs["certificateArn"].split(":")[3] == region, "the load balancer's own"


def test_one_validation_record_validates_the_certificate_in_every_region(run_stack) -> None:
    run = run_stack("prod", {**EDGE, **DOMAIN, "aws:region": "eu-west-1"})
    validation_records = [r for r in run.of_type(RECORD) if r.inputs["type"] == "CNAME"]
    assert len(validation_records) == 1, "two resources must never manage one DNS record"
    validations = run.of_type("aws:acm/certificateValidation:CertificateValidation")
    fqdn = validation_records[0].outputs["fqdn"]
    assert [v.inputs["validationRecordFqdns"] for v in validations] == [[fqdn]] * 2


def test_the_domain_s_alias_records_point_at_the_distribution(run_stack) -> None:
    run = run_stack("prod", {**EDGE, **DOMAIN})
    distribution = run.one(DISTRIBUTION)
    aliases = [r for r in run.of_type(RECORD) if r.inputs["type"] in ("A", "AAAA")]
    assert sorted(r.inputs["type"] for r in aliases) == ["A", "AAAA"]
    for record in aliases:
        [target] = record.inputs["aliases"]
        assert target["name"] == distribution.outputs["domainName"], record.urn
        assert target["zoneId"] == CLOUDFRONT_ZONE, record.urn
        assert target["evaluateTargetHealth"] is False, f"{record.urn}: Route 53 refuses true"
    assert distribution.inputs["isIpv6Enabled"] is True, "the AAAA record needs IPv6 viewers"


@pytest.mark.parametrize(
    "overrides",
    [EDGE, {**EDGE, **DOMAIN, "cachedPaths": ["/static/*"], "waf": True}],
    ids=["default", "domain-cached-waf"],
)
def test_cloudfront_accepts_the_distribution(run_stack, stack: str, overrides) -> None:
    distribution = run_stack(stack, overrides).one(DISTRIBUTION)
    config = distribution_config(distribution)
    shape = CREATE_DISTRIBUTION.input_shape.members["DistributionConfig"]
    assert not problems(config, shape), f"{distribution.urn}: {problems(config, shape)}"


# --- what keeps working ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["rolling", "blueGreen", "canary"])
def test_the_service_s_rule_and_health_checks_stay_on_the_load_balancer(
    run_stack, strategy: str
) -> None:
    run = run_stack("dev", {**EDGE, "deploymentStrategy": strategy})
    rule = run.named("app-route")
    listeners = {r.outputs["arn"] for r in run.of_type("aws:lb/listener:Listener")}
    assert rule.inputs["listenerArn"] in listeners
    for group in run.of_type("aws:lb/targetGroup:TargetGroup"):
        assert group.inputs["healthCheck"]["enabled"] is True, group.urn


@pytest.mark.parametrize("alarm", ["app-5xx-rate", "app-unhealthy-hosts", "app-latency-p99"])
def test_the_alarms_still_watch_the_load_balancer(dev_cloudfront, alarm: str) -> None:
    suffix = alb(dev_cloudfront).outputs["arnSuffix"]
    watched = json.dumps(dev_cloudfront.named(alarm).inputs)
    assert suffix in watched, f"{alarm} does not watch {suffix}"


def test_an_az_vpc_origins_do_not_reach_stops_the_program_before_any_resource(run_stack) -> None:
    # The mocks number us-east-1's AZs in order, so us-east-1c is use1-az3, which AWS excludes.
    run = run_stack("dev", {**EDGE, "availabilityZones": 3}, check=False)
    assert run.error is not None and "use1-az3" in str(run.error), run.error
    assert not run.custom_resources, [r.urn for r in run.custom_resources]


def test_without_cloudfront_nothing_of_it_is_created(run_stack) -> None:
    run = run_stack("dev", {"edge": "none"})
    assert not [r.urn for r in run.resources if "cloudfront" in r.type]
    assert not run.of_type(INGRESS) or all(
        r.name.startswith(("web-http", "app-")) for r in run.of_type(INGRESS)
    ), [r.name for r in run.of_type(INGRESS)]
