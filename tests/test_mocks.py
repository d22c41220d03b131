"""The shared mocks (tools/mocks/): AWS's answers per resource type and per data source, the
recording harness, and stack-file reading, split by concern behind one import path.

What the tests and the plan rely on: `from tools.mocks import X` gives every name they import, and
every resource type the program or the CI bootstrap registers is answered in AWS's shapes by an
answer of its own, not by the generic fallback (apart from the few listed as such).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import tools.mocks
from tools.mocks import ProgramRun, run_program
from tools.mocks.aws import AwsMocks
from tools.mocks.invokes import INVOKES, Invoke
from tools.mocks.regions import AZS_CHECKED, REGION_AZ_IDS, UNLISTED_REGION_AZS, region_az_count
from tools.mocks.resources import GENERIC_ANSWERED, answer_for, generic
from tools.urns import VARIANTS, variant_config

RunConfig = Callable[..., ProgramRun]
ROOT = Path(__file__).resolve().parent.parent
# Every place that imports the mocks: the tests, the tools, the policy pack's tests, the scripts.
IMPORTERS = ("tests", "tools", "policy", "bootstrap", "benchmarks", ".github/scripts")
BOOTSTRAP = ROOT / "bootstrap"
AWS_MIN_AZS_PER_REGION = 3  # AWS Regions and Availability Zones: "at least three" in each Region
BOOTSTRAP_CONFIG = {
    "githubRepository": "acme/fargate-app",
    "aws:region": "eu-west-1",
    "deployStacks": ["dev", "prod"],
    "sharedAccount": True,
    "secretsKeyAdministrators": ["arn:aws:iam::123456789012:role/deployer"],
}


def _imported_names() -> dict[str, set[str]]:
    """{name: files} for every `from tools.mocks import name` in the repository."""
    found: dict[str, set[str]] = {}
    for top in IMPORTERS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "tools/mocks/" in path.as_posix():
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module == "tools.mocks":
                    for alias in node.names:
                        found.setdefault(alias.name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_name_the_repository_imports_from_tools_mocks_is_its_interface() -> None:
    used = _imported_names()
    assert used, "found no `from tools.mocks import ...` anywhere: is IMPORTERS right?"
    missing = {n: sorted(f) for n, f in used.items() if n not in tools.mocks.__all__}
    assert not missing, (
        f"tools/mocks/__init__.py does not export what these files import: {missing}"
    )
    for name in tools.mocks.__all__:
        assert hasattr(tools.mocks, name), f"tools.mocks lists {name} in __all__ but has no {name}"


@pytest.fixture(scope="module")
def bootstrap_run() -> Iterator[ProgramRun]:
    sys.path.insert(0, str(BOOTSTRAP))
    try:
        run = run_program(
            BOOTSTRAP / "__main__.py",
            project="fargate-app-bootstrap",
            stack="ci",
            config=BOOTSTRAP_CONFIG,
        )
    finally:
        sys.path.remove(str(BOOTSTRAP))
    assert run.error is None, f"the bootstrap program failed under the mocks: {run.error}"
    yield run


@pytest.fixture(scope="module")
def registered_types(run_config: RunConfig, bootstrap_run: ProgramRun) -> dict[str, str]:
    """{type: the first variant or program registering it} over the URN variants (the committed
    stacks and every optional component) and the CI bootstrap."""
    found: dict[str, str] = {}
    for name in VARIANTS:
        run = run_config(variant_config(name), stack=VARIANTS[name].stack)
        for r in run.custom_resources:
            found.setdefault(r.type, name)
    for r in bootstrap_run.custom_resources:
        found.setdefault(r.type, "bootstrap")
    return found


def test_every_type_the_program_registers_has_an_answer_of_its_own(
    registered_types: dict[str, str],
) -> None:
    generic_answers = {
        t: where
        for t, where in sorted(registered_types.items())
        if answer_for(t) is generic and t not in GENERIC_ANSWERED
    }
    assert not generic_answers, (
        "the mocks answer these types with the generic ID and ARN; add an answer in AWS's shapes "
        f"to tools/mocks/resources.py (`@answers`): {generic_answers}"
    )


def test_the_types_answered_generically_on_purpose_are_still_registered_and_unanswered(
    registered_types: dict[str, str],
) -> None:
    stale = sorted(t for t in GENERIC_ANSWERED if t not in registered_types)
    assert not stale, f"GENERIC_ANSWERED names types nothing registers any more: {stale}"
    answered = sorted(t for t in GENERIC_ANSWERED if answer_for(t) is not generic)
    assert not answered, (
        f"these have an answer of their own now; drop them from GENERIC_ANSWERED: {answered}"
    )


def test_every_invoke_the_programs_make_has_an_answer(
    run_config: RunConfig, bootstrap_run: ProgramRun
) -> None:
    runs = [run_config(variant_config(n), stack=VARIANTS[n].stack) for n in VARIANTS]
    tokens = {token for run in [*runs, bootstrap_run] for token, _ in run.invokes}
    assert tokens, "the programs made no invoke: the check would prove nothing"
    assert tokens <= set(INVOKES), f"no answer for {sorted(tokens - set(INVOKES))}"


def test_an_invoke_without_an_answer_names_its_token_and_where_to_add_it() -> None:
    from pulumi.runtime.mocks import MockCallArgs

    with pytest.raises(NotImplementedError, match=r"tools/mocks/invokes.py .* aws:x/getY:getY"):
        AwsMocks().call(MockCallArgs(token="aws:x/getY:getY", args={}, provider=""))


# --- the Regions' AZs ----------------------------------------------------------------------------


def test_each_listed_region_has_the_azs_aws_gives_every_region_in_aws_s_id_form() -> None:
    """AWS: "Each Region has at least three Availability Zones"; an AZ ID is the Region's short
    name, -az and a number (us-east-1: use1-az1)."""
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", AZS_CHECKED), AZS_CHECKED
    for region, ids in REGION_AZ_IDS.items():
        assert len(ids) >= AWS_MIN_AZS_PER_REGION, f"{region}: {ids}"
        assert len(set(ids)) == len(ids), f"{region} lists an AZ ID twice: {ids}"
        short = ids[0].partition("-az")[0]
        for az_id in ids:
            assert re.fullmatch(rf"{short}-az\d", az_id), f"{region}: {az_id} is not of AWS's form"


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "ap-south-2"])
def test_the_mocks_answer_a_region_s_azs_from_the_table(region: str) -> None:
    answer = INVOKES["aws:index/getAvailabilityZones:getAvailabilityZones"]
    zones = answer(Invoke(args={"state": "available"}, region=region))
    want = region_az_count(region) or UNLISTED_REGION_AZS
    assert len(zones["names"]) == len(zones["zoneIds"]) == want, zones
    assert zones["names"][0] == f"{region}a", zones
    if region in REGION_AZ_IDS:
        assert tuple(zones["zoneIds"]) == REGION_AZ_IDS[region]
