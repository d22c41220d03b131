"""Validation of the production settings: HTTPS, domains, secrets, alarms, deploy strategy."""

from __future__ import annotations

import pytest

from stack_config import ConfigError, load_config

SM_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
SSM_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/api-url"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"


def problems(**settings) -> list[str]:
    try:
        load_config({"aws:region": "us-east-1", **settings}, stack="test")
    except ConfigError as err:
        return err.problems
    return []


def only_problem(**settings) -> str:
    found = problems(**settings)
    assert len(found) == 1, f"expected one problem, got {found}"
    return found[0]


def test_a_domain_in_its_zone_is_accepted():
    cfg = load_config(
        {"aws:region": "us-east-1", "domainName": "app.example.com", "hostedZone": "example.com"},
        stack="prod",
    )
    assert cfg.https and cfg.domain_name == "app.example.com"


def test_the_zone_apex_may_be_the_domain():
    assert problems(domainName="example.com", hostedZone="example.com") == []


def test_a_domain_without_its_zone_says_which_zone_to_set():
    message = only_problem(domainName="app.example.com")
    assert (
        message.startswith("hostedZone:") and "pulumi config set hostedZone example.com" in message
    )


def test_a_zone_without_a_domain_is_refused():
    assert only_problem(hostedZone="example.com").startswith("domainName:")


def test_a_domain_outside_its_zone_is_refused():
    message = only_problem(domainName="app.example.org", hostedZone="example.com")
    assert "'app.example.org'" in message and "example.com" in message


@pytest.mark.parametrize(
    "name", ["not a name", "app..example.com", "-app.example.com", "localhost"]
)
def test_a_domain_must_be_a_real_dns_name(name):
    found = problems(domainName=name, hostedZone="example.com")
    assert any(p.startswith("domainName:") and "DNS name" in p for p in found), found


def test_a_certificate_arn_must_be_an_acm_arn():
    message = only_problem(certificateArn="arn:aws:iam::123456789012:server-certificate/x")
    assert message.startswith("certificateArn:") and "ACM certificate ARN" in message


def test_a_certificate_from_another_region_is_refused():
    other = CERT.replace("us-east-1", "eu-west-1")
    assert "its own region us-east-1" in only_problem(certificateArn=other)


def test_a_certificate_and_a_domain_together_are_refused():
    message = only_problem(
        certificateArn=CERT, domainName="app.example.com", hostedZone="example.com"
    )
    assert "not both" in message


def test_an_existing_certificate_turns_on_https():
    assert load_config({"aws:region": "us-east-1", "certificateArn": CERT}, stack="x").https


@pytest.mark.parametrize(
    "name", ["DB_PASSWORD", "STRIPE_SECRET", "GITHUB_TOKEN", "API_KEY", "ECS_ENGINE_AUTH_DATA"]
)
def test_a_secret_looking_env_var_is_refused_with_a_pointer_to_secrets(name):
    message = only_problem(env={name: "hunter2"})
    assert message.startswith(f"env.{name}:")
    assert "`secrets`" in message and "secretValues" in message
    assert "hunter2" not in message, "the secret's value must not be echoed"


@pytest.mark.parametrize(
    "arn", [SM_ARN, SM_ARN + ":password::", SSM_ARN, SM_ARN.replace("-AbCdEf", "")]
)
def test_secret_arns_of_secrets_manager_and_ssm_are_accepted(arn):
    assert problems(secrets={"DB": arn}) == []


@pytest.mark.parametrize(
    "arn", ["prod/db", "arn:aws:s3:::bucket/key", "arn:aws:secretsmanager:us-east-1:1234:secret:x"]
)
def test_a_secret_must_be_a_secrets_manager_or_ssm_arn(arn):
    message = only_problem(secrets={"DB": arn})
    assert message.startswith("secrets.DB:") and "Secrets Manager" in message


def test_a_variable_may_not_be_both_plain_and_secret():
    found = problems(env={"DB_HOST": "x"}, secrets={"DB_HOST": SM_ARN})
    assert found == [
        "secrets.DB_HOST: 'DB_HOST' is not allowed; it is also in env; keep it in one place"
    ]


def test_a_variable_may_not_be_both_a_secret_arn_and_a_secret_value():
    found = problems(secrets={"DB": SM_ARN}, secretValues={"DB": "v"})
    assert any(p.startswith("secretValues.DB:") for p in found), found


def test_secret_values_are_never_echoed_in_errors():
    found = problems(secretValues='{"DB_PASSWORD": ')  # malformed JSON from the CLI
    assert found and all("DB_PASSWORD" not in p for p in found), found


def test_an_empty_secret_value_is_refused():
    assert only_problem(secretValues={"DB_PASSWORD": ""}).startswith("secretValues.DB_PASSWORD:")


@pytest.mark.parametrize("key", ["secrets", "secretValues"])
def test_secret_names_follow_env_var_rules_and_reserved_names(key):
    found = problems(**{key: {"1BAD": SM_ARN, "PORT": SM_ARN}})
    assert any(f"{key}.1BAD:" in p for p in found) and any(f"{key}.PORT:" in p for p in found)


def test_an_alarm_email_must_be_an_address():
    assert only_problem(alarmEmail="oncall").startswith("alarmEmail:")
    assert problems(alarmEmail="oncall@example.com") == []


def test_the_deployment_strategy_is_one_of_three():
    message = only_problem(deploymentStrategy="blue-green")
    assert "rolling, blueGreen, canary" in message


@pytest.mark.parametrize("strategy", ["rolling", "blueGreen", "canary"])
def test_each_deployment_strategy_is_accepted(strategy):
    assert problems(deploymentStrategy=strategy) == []


@pytest.mark.parametrize(
    "key,value",
    [
        ("bakeTimeMinutes", -1),
        ("bakeTimeMinutes", 1441),
        ("canaryPercent", 0),
        ("canaryPercent", 100),
    ],
)
def test_bake_time_and_canary_percent_are_bounded(key, value):
    assert only_problem(**{key: value}).startswith(f"{key}:")


def test_exec_access_and_flow_logs_parse_as_booleans_from_the_cli():
    cfg = load_config(
        {
            "aws:region": "us-east-1",
            "enableExec": "true",
            "accessLogs": "true",
            "flowLogs": "false",
        },
        stack="x",
    )
    assert (cfg.enable_exec, cfg.access_logs, cfg.flow_logs) == (True, True, False)


def test_a_secret_value_of_the_wrong_type_is_reported_once_and_not_shown():
    found = problems(secretValues={"DB_PASSWORD": ["hunter2"]}, secrets={"API": {"arn": 1}})

    assert all("hunter2" not in p for p in found), f"the secret's value is echoed: {found}"
    assert any(p.startswith("secretValues:") and "'DB_PASSWORD'" in p for p in found), found
    assert [p for p in found if p.startswith("secrets")] == [
        p for p in found if p.startswith("secrets:")
    ], f"a value of the wrong type is reported again as a bad ARN: {found}"
