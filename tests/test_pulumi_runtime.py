"""The program reads its config the way the Pulumi CLI hands it over: not through the runtime's
config map (which tests and the automation API fill), but as JSON in PULUMI_CONFIG."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.mocks import config_for_runtime, load_stack_config, run_program

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_stack_config_arrives_through_pulumi_config_as_from_the_cli(monkeypatch, stack):
    cli_config = config_for_runtime("fargate-app", load_stack_config(ROOT, stack))
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(cli_config))
    run = run_program(ROOT / "__main__.py", project="fargate-app", stack=stack, config={})
    assert run.error is None, f"the program did not find the CLI's config: {run.error}"
    cluster = run.one("aws:ecs/cluster:Cluster")
    assert cluster.inputs["name"] == f"fargate-app-{stack}"
    nats = run.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == (2 if stack == "prod" else 0), "the stack's natGateways was not applied"


def test_a_bad_value_from_the_cli_is_reported_like_any_other(monkeypatch):
    monkeypatch.setenv(
        "PULUMI_CONFIG", json.dumps({"aws:region": "us-east-1", "fargate-app:cpu": "300"})
    )
    run = run_program(ROOT / "__main__.py", project="fargate-app", stack="dev", config={})
    assert run.error is not None and "cpu: 300 is not allowed" in str(run.error)
    assert not run.resources, "nothing may be created when the config is bad"


@pytest.mark.parametrize("listed", [True, False])
def test_secret_values_must_be_among_the_cli_s_encrypted_keys(monkeypatch, listed):
    """The CLI hands over decrypted values in PULUMI_CONFIG and lists the encrypted keys in
    PULUMI_CONFIG_SECRET_KEYS; a secretValues missing from that list was set in plain text."""
    key = "fargate-app:secretValues"
    cli_config = {"aws:region": "us-east-1", key: json.dumps({"DB_PASSWORD": "s3cr3t"})}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(cli_config))
    if listed:
        monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps([key]))
    else:
        monkeypatch.delenv("PULUMI_CONFIG_SECRET_KEYS", raising=False)
    run = run_program(ROOT / "__main__.py", project="fargate-app", stack="dev", config={})

    if listed:
        assert run.error is None, f"an encrypted secretValues was refused: {run.error}"
        assert run.of_type("aws:secretsmanager/secret:Secret"), "no secret was created"
    else:
        assert run.error is not None and "secretValues: stored in plain text" in str(run.error)
        assert not run.resources, "nothing may be created when the config is bad"
