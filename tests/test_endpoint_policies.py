"""VPC endpoint policies (components/network.py): what the endpoints of a private VPC carry.

What a user relies on: through the endpoints, the stack's roles reach the stack account's
resources (and the accounts its settings name: a prebuilt image's registry, a referenced secret's
account), and nothing else; another account's credentials get nowhere; private tasks still pull
their image, whose layers come from a bucket AWS owns; and EC2 accepts every policy as written.
The requests below are decided by tests/iam_eval.py with the endpoint policy as the gate.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.network import ECR_LAYER_BUCKET, EndpointScope, endpoint_policy
from tests.iam_eval import ALLOW, Request, decide
from tools.mocks import ACCOUNT_ID, ProgramRun, RegisteredResource, Secure

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
OTHER = "999988887777"  # an account the stack does not name
VENDOR = "111122223333"  # the prebuilt image's registry account below
REGION = "us-east-1"
PRIVATE = {"vpcEndpoints": True, "natGateways": "none"}
EVERYTHING = {
    **PRIVATE,
    "enableExec": True,
    "secretValues": Secure({"API_TOKEN": "s3cr3t-value"}),
    "secrets": {"DB_URL": f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/fargate-app/dev/db"},
    "image": f"{VENDOR}.dkr.ecr.{REGION}.amazonaws.com/vendor/app:1.2.3",
}
CREATE_VPC_ENDPOINT = (
    botocore.session.get_session().get_service_model("ec2").operation_model("CreateVpcEndpoint")
)


def endpoints(run: ProgramRun) -> dict[str, RegisteredResource]:
    """The VPC's endpoints by service (com.amazonaws.<region>.ecr.dkr -> ecr.dkr)."""
    prefix = f"com.amazonaws.{REGION}."
    return {r.inputs["serviceName"].removeprefix(prefix): r for r in run.of_type(ENDPOINT)}


def policy_of(endpoint: RegisteredResource) -> dict[str, Any]:
    return json.loads(endpoint.inputs["policy"])


def through(policy: dict[str, Any], action: str, resource: str, principal: str, owner: str) -> str:
    """The endpoint's verdict on `principal`'s account asking `action` on `owner`'s resource."""
    context = {"aws:PrincipalAccount": principal, "aws:ResourceAccount": owner}
    return decide(Request(action, resource, context=context), [policy])


@pytest.fixture(scope="module")
def private(run_stack) -> dict[str, RegisteredResource]:
    return endpoints(run_stack("dev", EVERYTHING))


def test_every_endpoint_of_a_private_vpc_has_a_policy(private) -> None:
    assert set(private) >= {
        "s3",
        "ecr.api",
        "ecr.dkr",
        "logs",
        "secretsmanager",
        "ssm",
        "ssmmessages",
    }
    for endpoint in private.values():
        assert endpoint.inputs.get("policy"), (
            f"{endpoint.urn}: an endpoint without a policy admits anything"
        )


@pytest.mark.parametrize(
    ("service", "action", "resource"),
    [
        ("ecr.dkr", "ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/app"),
        ("logs", "logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/ecs/app:*"),
        (
            "secretsmanager",
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:app-AbCdEf",
        ),
        ("s3", "s3:GetObject", "arn:aws:s3:::fargate-app-bucket/key"),
    ],
)
def test_the_stacks_roles_reach_the_accounts_own_resources(private, service, action, resource):
    assert through(policy_of(private[service]), action, resource, ACCOUNT_ID, ACCOUNT_ID) == ALLOW


@pytest.mark.parametrize("service", ["s3", "ecr.dkr", "logs", "secretsmanager", "ssm"])
def test_another_accounts_resources_are_out_of_reach(private, service: str) -> None:
    verdict = through(
        policy_of(private[service]), f"{service.split('.')[0]}:Get", "*", ACCOUNT_ID, OTHER
    )
    assert verdict != ALLOW, f"{private[service].urn} lets the tasks reach account {OTHER}'s data"


@pytest.mark.parametrize("service", ["s3", "ecr.api", "logs", "secretsmanager", "ssmmessages"])
def test_another_accounts_credentials_get_nowhere(private, service: str) -> None:
    verdict = through(policy_of(private[service]), "s3:PutObject", "*", OTHER, ACCOUNT_ID)
    assert verdict != ALLOW, f"{private[service].urn} carries account {OTHER}'s requests"


def test_exec_channels_are_scoped_to_the_accounts_principals(private) -> None:
    """ssmmessages has no resource types: its requests may carry no resource account, so the
    policy must not ask for one."""
    policy = policy_of(private["ssmmessages"])
    request = Request(
        "ssmmessages:OpenDataChannel", "*", context={"aws:PrincipalAccount": ACCOUNT_ID}
    )
    assert decide(request, [policy]) == ALLOW


def test_private_tasks_can_still_pull_image_layers_from_awss_bucket(private) -> None:
    """The layers come through a URL ECR's own account signs: neither account is the stack's."""
    layer = f"arn:aws:s3:::{ECR_LAYER_BUCKET.format(region=REGION)}/sha256/layer"
    policy = policy_of(private["s3"])
    assert through(policy, "s3:GetObject", layer, "602401143452", "602401143452") == ALLOW
    assert through(policy, "s3:PutObject", layer, ACCOUNT_ID, "602401143452") != ALLOW, (
        "the layer bucket is for reading"
    )


def test_the_accounts_the_settings_name_are_in_reach(private) -> None:
    """A prebuilt image from a vendor's registry: its repository is the vendor account's."""
    repository = f"arn:aws:ecr:{REGION}:{VENDOR}:repository/vendor/app"
    verdict = through(
        policy_of(private["ecr.dkr"]), "ecr:BatchGetImage", repository, ACCOUNT_ID, VENDOR
    )
    assert verdict == ALLOW


SERVICE_VENDOR = "444455556666"  # the account of a service's own image and secret below


def test_each_services_image_and_secret_accounts_are_in_reach(run_stack) -> None:
    """A service of `services` with its own vendor image and a secret in the vendor's account:
    private tasks must pull the image and read the secret through the endpoints."""
    config = {
        **PRIVATE,
        "services": {
            "search": {
                "type": "internal",
                "containerPort": 9000,
                "image": f"{SERVICE_VENDOR}.dkr.ecr.{REGION}.amazonaws.com/search:1.4.0",
                "secrets": {
                    "KEY": f"arn:aws:secretsmanager:{REGION}:{SERVICE_VENDOR}:secret:k-AbCdEf"
                },
            }
        },
    }
    found = endpoints(run_stack("dev", config))
    repository = f"arn:aws:ecr:{REGION}:{SERVICE_VENDOR}:repository/search"
    secret = f"arn:aws:secretsmanager:{REGION}:{SERVICE_VENDOR}:secret:k-AbCdEf"
    pull = through(
        policy_of(found["ecr.dkr"]), "ecr:BatchGetImage", repository, ACCOUNT_ID, SERVICE_VENDOR
    )
    read = through(
        policy_of(found["secretsmanager"]),
        "secretsmanager:GetSecretValue",
        secret,
        ACCOUNT_ID,
        SERVICE_VENDOR,
    )
    assert pull == ALLOW, f"the search service cannot pull its image from {SERVICE_VENDOR}"
    assert read == ALLOW, f"the search service cannot read its secret in {SERVICE_VENDOR}"


GUARDDUTY_AGENT_ACCOUNT = "593207742271"  # stands for the regional account AWS hosts it in


def test_an_aws_owned_repository_is_in_reach_once_its_account_is_named(run_stack) -> None:
    """GuardDuty's Fargate runtime monitoring adds a sidecar whose image is in an AWS-owned
    repository of a regional account: private tasks pull it only if the endpoints admit it."""
    repository = (
        f"arn:aws:ecr:{REGION}:{GUARDDUTY_AGENT_ACCOUNT}:repository/aws-guardduty-agent-fargate"
    )

    def pull(config: dict[str, Any]) -> str:
        policy = policy_of(endpoints(run_stack("dev", config))["ecr.dkr"])
        return through(policy, "ecr:BatchGetImage", repository, ACCOUNT_ID, GUARDDUTY_AGENT_ACCOUNT)

    named = {**PRIVATE, "endpointAccounts": {"guardduty-agent": GUARDDUTY_AGENT_ACCOUNT}}
    assert pull(PRIVATE) != ALLOW, "an account nobody named is in reach"
    assert pull(named) == ALLOW, "the account endpointAccounts names is out of reach"


def test_an_endpoint_account_that_is_not_12_digits_is_refused(run_stack) -> None:
    run = run_stack("dev", {**PRIVATE, "endpointAccounts": {"vendor": "14521398"}}, check=False)
    assert "endpointAccounts.vendor" in str(run.error) and "12 digits" in str(run.error), run.error


def test_every_statement_says_what_it_allows(private) -> None:
    for endpoint in private.values():
        for statement in policy_of(endpoint)["Statement"]:
            assert statement.get("Sid"), f"{endpoint.urn}: a statement without a Sid"


def test_ec2_accepts_every_endpoint_as_written(private) -> None:
    for endpoint in private.values():
        inputs = endpoint.inputs
        request = {
            "VpcId": "vpc-1",
            "ServiceName": inputs["serviceName"],
            "VpcEndpointType": inputs["vpcEndpointType"],
            "PolicyDocument": inputs["policy"],
            **({"RouteTableIds": ["rtb-1"]} if inputs["vpcEndpointType"] == "Gateway" else {}),
            **(
                {"SubnetIds": ["subnet-1"], "PrivateDnsEnabled": True}
                if inputs["vpcEndpointType"] == "Interface"
                else {}
            ),
        }
        report = ParamValidator().validate(request, CREATE_VPC_ENDPOINT.input_shape)
        assert not report.has_errors(), f"{endpoint.urn}: {report.generate_report()}"
        assert len(inputs["policy"]) <= 20480, "VPC endpoint policies are at most 20,480 characters"


def test_the_scope_admits_the_named_accounts_once_each() -> None:
    scope = EndpointScope(
        account=ACCOUNT_ID,
        resource_accounts=(ACCOUNT_ID, VENDOR, ACCOUNT_ID),
        partition="aws",
        region=REGION,
    )
    statement = endpoint_policy("secretsmanager", scope)["Statement"][0]
    assert statement["Condition"]["StringEquals"]["aws:ResourceAccount"] == sorted(
        {ACCOUNT_ID, VENDOR}
    )


def test_a_preview_plans_the_same_policies(run_stack, private) -> None:
    preview = endpoints(run_stack("dev", EVERYTHING, preview=True))
    assert {s: e.inputs["policy"] for s, e in preview.items()} == {
        s: e.inputs["policy"] for s, e in private.items()
    }


@pytest.mark.parametrize(
    ("service", "action"),
    [
        ("ecr.api", "ecr:GetAuthorizationToken"),
        ("ecr.dkr", "ecr:GetAuthorizationToken"),
        ("logs", "logs:DescribeLogGroups"),
    ],
)
def test_calls_without_a_resource_type_pass_without_a_resource_account(private, service, action):
    """The ECS agent's registry login and exec's log group lookup name no resource, so their
    requests may carry no aws:ResourceAccount: this account's principals still get through."""
    request = Request(action, "*", context={"aws:PrincipalAccount": ACCOUNT_ID})
    assert decide(request, [policy_of(private[service])]) == ALLOW
    other = Request(action, "*", context={"aws:PrincipalAccount": OTHER})
    assert decide(other, [policy_of(private[service])]) != ALLOW


def test_a_request_with_a_resource_but_no_resource_account_is_refused(private) -> None:
    request = Request(
        "s3:GetObject", "arn:aws:s3:::bucket/key", context={"aws:PrincipalAccount": ACCOUNT_ID}
    )
    assert decide(request, [policy_of(private["s3"])]) != ALLOW
