"""The edge's settings (issue 17): edge, cachedPaths, originResponseTimeout, waf, wafRateLimit.

What a user relies on: a value AWS would refuse, or a combination that cannot work, is named before
anything is created, with the setting, the value and what is allowed; the values that work load.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.spec import (
    CACHED_PATHS_MAX,
    DEFAULT_ORIGIN_RESPONSE_TIMEOUT_S,
    DEFAULT_WAF_RATE_LIMIT,
    ORIGIN_RESPONSE_TIMEOUT_MAX_S,
    WAF_RATE_LIMIT_MAX,
    WAF_RATE_LIMIT_MIN,
)
from stack_config import ConfigError, StackConfig, load_config

REGION = "us-east-1"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def load(region: str = REGION, **settings: Any) -> StackConfig:
    return load_config({"aws:region": region, **settings}, stack="test")


def problems(region: str = REGION, **settings: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(region, **settings)
    return caught.value.problems


def about(key: str, found: list[str]) -> str:
    lines = [p for p in found if p.startswith(f"{key}:")]
    assert lines, f"expected a problem about {key}, got {found}"
    return "\n".join(lines)


def test_by_default_a_stack_keeps_its_internet_facing_load_balancer_and_no_waf() -> None:
    cfg = load()
    assert cfg.edge == "none" and not cfg.cloudfront, "a deployed stack must not move by itself"
    assert not cfg.waf and cfg.cached_paths == ()
    assert cfg.origin_response_timeout == DEFAULT_ORIGIN_RESPONSE_TIMEOUT_S == 30
    assert cfg.waf_rate_limit == DEFAULT_WAF_RATE_LIMIT


def test_cloudfront_with_cached_paths_a_timeout_and_waf_loads() -> None:
    cfg = load(
        edge="cloudfront",
        cachedPaths=["/static/*", "*.css", "images/logo-?.png"],
        originResponseTimeout=ORIGIN_RESPONSE_TIMEOUT_MAX_S,
        waf=True,
        wafRateLimit=500,
    )
    assert cfg.cloudfront and cfg.waf
    assert cfg.cached_paths == ("/static/*", "*.css", "images/logo-?.png")
    assert (cfg.origin_response_timeout, cfg.waf_rate_limit) == (60, 500)


def test_cached_paths_arrive_from_the_pulumi_cli_as_json_text() -> None:
    assert load(edge="cloudfront", cachedPaths='["/static/*"]').cached_paths == ("/static/*",)


def test_an_unknown_edge_is_named_with_the_values_allowed() -> None:
    message = about("edge", problems(edge="cdn"))
    assert "'cdn'" in message and "none or cloudfront" in message, message


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("/static files/*", "not a CloudFront path pattern"),
        ("/static/[a-z]*", "not a CloudFront path pattern"),
        ("/" + "a" * 255, "not a CloudFront path pattern"),
        ("/*", "matches every path"),
        ("*", "matches every path"),
    ],
    ids=["space", "regex", "too-long", "slash-star", "star"],
)
def test_a_cached_path_cloudfront_would_refuse_or_that_caches_everything_is_named(
    pattern: str, why: str
) -> None:
    message = about("cachedPaths", problems(edge="cloudfront", cachedPaths=[pattern]))
    assert repr(pattern) in message and why in message, message


def test_a_path_given_twice_with_and_without_its_leading_slash_is_named() -> None:
    message = about("cachedPaths", problems(edge="cloudfront", cachedPaths=["/a/*", "a/*"]))
    assert "given twice" in message, message


def test_more_cached_paths_than_a_distribution_takes_are_refused() -> None:
    paths = [f"/p{i}/*" for i in range(CACHED_PATHS_MAX + 1)]
    message = about("cachedPaths", problems(edge="cloudfront", cachedPaths=paths))
    assert f"{CACHED_PATHS_MAX + 1} given" in message, message


def test_cached_paths_that_are_not_a_list_of_strings_are_refused() -> None:
    message = about("cachedPaths", problems(edge="cloudfront", cachedPaths={"a": "b"}))
    assert "list of strings" in message, message


@pytest.mark.parametrize("timeout", [0, ORIGIN_RESPONSE_TIMEOUT_MAX_S + 1, 120])
def test_an_origin_response_timeout_outside_cloudfront_s_bounds_is_refused(timeout: int) -> None:
    message = about(
        "originResponseTimeout", problems(edge="cloudfront", originResponseTimeout=timeout)
    )
    assert str(timeout) in message and "1 to 60" in message, message


@pytest.mark.parametrize("limit", [WAF_RATE_LIMIT_MIN - 1, WAF_RATE_LIMIT_MAX + 1])
def test_a_rate_limit_outside_waf_s_bounds_is_refused(limit: int) -> None:
    message = about("wafRateLimit", problems(waf=True, wafRateLimit=limit))
    assert str(limit) in message and str(WAF_RATE_LIMIT_MIN) in message, message


@pytest.mark.parametrize(
    ("key", "value"), [("cachedPaths", ["/static/*"]), ("originResponseTimeout", 45)]
)
def test_a_cloudfront_setting_on_a_stack_without_cloudfront_is_named(key: str, value: Any) -> None:
    message = about(key, problems(**{key: value}))
    assert "edge cloudfront" in message, message


def test_a_rate_limit_without_the_web_acl_is_named() -> None:
    message = about("wafRateLimit", problems(wafRateLimit=500))
    assert "waf true" in message, message


def test_waf_without_cloudfront_is_accepted_it_goes_on_the_load_balancer() -> None:
    assert load(waf=True).waf


def test_cloudfront_in_a_region_without_vpc_origins_is_refused() -> None:
    message = about("edge", problems(region="eu-west-9", edge="cloudfront"))
    assert "eu-west-9" in message and "VPC origins" in message, message


def test_a_certificate_arn_cloudfront_cannot_use_is_refused_with_cloudfront() -> None:
    message = about("certificateArn", problems(edge="cloudfront", certificateArn=CERTIFICATE))
    assert "domainName" in message, message


def test_every_edge_problem_is_reported_together() -> None:
    found = problems(
        edge="cloudfront",
        cachedPaths=["/*"],
        originResponseTimeout=0,
        waf=True,
        wafRateLimit=1,
        cpu=300,
    )
    keys = {p.split(":", 1)[0] for p in found}
    assert {"cachedPaths", "originResponseTimeout", "wafRateLimit", "cpu"} <= keys, found


def test_a_web_service_routed_by_another_host_than_cloudfront_s_names_is_refused() -> None:
    api = {"api": {"type": "web", "host": "api.example.com", "command": "serve"}}
    message = about("services.api.host", problems(edge="cloudfront", services=api))
    assert "'api.example.com'" in message and "route the service by path" in message, message


def test_a_web_service_routed_by_the_domain_cloudfront_serves_is_accepted() -> None:
    api = {"api": {"type": "web", "host": "app.example.com", "command": "serve"}}
    domain = {"domainName": "app.example.com", "hostedZone": "example.com"}
    assert load(edge="cloudfront", services=api, **domain).cloudfront


@pytest.mark.parametrize("given", ["[]", []], ids=["as the CLI hands it", "as YAML gives it"])
def test_cached_paths_at_its_default_is_not_a_change_on_a_stack_without_cloudfront(
    given: Any,
) -> None:
    # The CLI hands Pulumi.yaml's default over as if the stack had set it.
    assert load(edge="none", cachedPaths=given).cached_paths == ()
