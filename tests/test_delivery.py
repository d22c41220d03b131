"""Any stack, found not listed: the names a stack gets on the delivery path, and the stack list the
workflows derive from the repository at run time (.github/scripts/stacks.py).

What a user relies on: committing Pulumi.staging.yaml and placing `staging` in
.github/promotion.yml is all it takes for the previews and deploys to pick it up; an untracked
stack file gets nothing; a stack name is mapped to its role, statement ids and GitHub variables by
one documented rule, and two names that map alike are refused; an ARM64 stack is smoke-tested and
deployed for arm64, as the program's own config loader reads it.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import STACKS

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bootstrap") not in sys.path:
    sys.path.insert(0, str(ROOT / "bootstrap"))

from ci_bootstrap.stack_names import (  # noqa: E402
    IAM_ROLE_NAME_MAX,
    PULUMI_AUTONAME_SUFFIX_CHARS,
    REVIEW,
    REVIEW_STACKS,
    ROLE_NAME_PREFIXES,
    STACK_NAME,
    STACK_NAME_MAX,
    StackNameError,
    deploy_subject,
    names_for,
    naming_problems,
    preview_subject,
    promotion_order,
    review_pull_request,
    review_stack,
)

SCRIPT = ROOT / ".github" / "scripts" / "stacks.py"
_spec = importlib.util.spec_from_file_location("delivery_stacks", SCRIPT)
assert _spec and _spec.loader
stacks_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stacks_script)

# GitHub: variable names are letters, digits and _, not starting with a digit or GITHUB_.
GITHUB_VARIABLE = re.compile(r"^(?!GITHUB_)[A-Za-z_][A-Za-z0-9_]*$")
IAM_SID = re.compile(r"^[A-Za-z0-9]*$")
IAM_ROLE_NAME = re.compile(r"^[\w+=,.@-]+$")


# --- the mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "sid", "suffix"),
    [
        ("dev", "Dev", "DEV"),
        ("prod", "Prod", "PROD"),
        ("eu-staging", "EuStaging", "EU_STAGING"),
        ("customer_42.eu", "Customer42Eu", "CUSTOMER_42_EU"),
        ("Prod2", "Prod2", "PROD2"),
    ],
)
def test_a_stack_name_maps_to_one_sid_and_one_set_of_variables(
    stack: str, sid: str, suffix: str
) -> None:
    names = names_for(stack)
    assert (names.sid, names.variable_suffix) == (sid, suffix)
    assert names.variables == (
        f"AWS_ROLE_ARN_{suffix}",
        f"AWS_ROLE_ARN_PREVIEW_{suffix}",
        f"PULUMI_BACKEND_URL_{suffix}",
    )
    assert names.deploy_environment == stack
    assert names.preview_environment == f"{stack}-preview"


@pytest.mark.parametrize(
    "stack",
    ["dev", "a", "9", "-", "a.b-c_d", "UPPER.lower", "x" * STACK_NAME_MAX, "9" * 43, "a-" * 50],
)
def test_every_valid_pulumi_stack_name_gets_names_aws_and_github_accept(stack: str) -> None:
    names = names_for(stack)
    for variable in names.variables:
        assert GITHUB_VARIABLE.match(variable), f"{stack!r}: {variable} is no GitHub variable name"
    assert IAM_SID.match(names.sid), f"{stack!r}: Sid part {names.sid!r}"
    for prefix in ROLE_NAME_PREFIXES:
        role = f"{prefix}{names.role_key}"
        autonamed = len(role) + PULUMI_AUTONAME_SUFFIX_CHARS
        assert autonamed <= IAM_ROLE_NAME_MAX, f"{stack!r}: role {role}-xxxxxxx is too long"
        assert IAM_ROLE_NAME.match(role), role


def test_pulumi_s_stack_name_rule_is_enforced() -> None:
    for bad in ("", "x" * (STACK_NAME_MAX + 1), "my stack", "org/proj/dev", "dev!"):
        with pytest.raises(StackNameError, match="is not a Pulumi stack name"):
            names_for(bad)
        assert naming_problems([bad]), bad


def test_long_stack_names_keep_distinct_role_names() -> None:
    a, b = "x" * 60 + "-a", "x" * 60 + "-b"
    assert names_for(a).role_key != names_for(b).role_key
    assert names_for(a).role_key == names_for(a).role_key, "the mapping is stable"
    assert names_for("dev").role_key == "dev", "short names are kept as they are"


@pytest.mark.parametrize(
    ("first", "second", "what"),
    [
        ("eu-staging", "eu_staging", "GitHub variable suffix"),
        ("Prod", "prod", "GitHub variable suffix"),
        ("eu-staging", "euStaging", "IAM statement id part"),
    ],
)
def test_stack_names_that_map_alike_are_refused(first: str, second: str, what: str) -> None:
    problems = naming_problems([first, second])
    assert any(what in p and first in p and second in p for p in problems), problems


def test_a_stack_named_like_another_s_preview_environment_is_refused() -> None:
    problems = naming_problems(["prod", "prod-preview"])
    assert any("preview environment of 'prod'" in p for p in problems), problems


def test_a_stack_named_after_another_s_state_file_is_refused() -> None:
    problems = naming_problems(["dev", "dev.json-copy"])
    assert any("'dev.json-copy' starts with 'dev' and '.json'" in p for p in problems), problems
    assert not naming_problems(["dev", "dev.jason", "devjson"])


def test_the_committed_stacks_map_without_collisions() -> None:
    assert not naming_problems(list(STACKS))


# --- review stacks: one per pull request ---------------------------------------------------------


@pytest.mark.parametrize(("number", "stack"), [(1, "pr-1"), (12, "pr-12"), ("4567", "pr-4567")])
def test_a_pull_request_number_maps_to_its_review_stack_and_back(
    number: object, stack: str
) -> None:
    assert review_stack(number) == stack
    assert review_pull_request(stack) == int(str(number))
    assert STACK_NAME.match(stack), f"{stack} must be a Pulumi stack name"
    assert fnmatch.fnmatchcase(stack, REVIEW_STACKS), (
        f"{stack} must fall under {REVIEW_STACKS}, the wildcard the review roles are scoped by"
    )


@pytest.mark.parametrize("bad", [0, -3, "", "12a", "012", "1.5", "12 ; rm -rf /", None, "pr-12"])
def test_anything_but_a_pull_request_number_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="is not a pull request number"):
        review_stack(bad)


@pytest.mark.parametrize("stack", ["dev", "prod", "pr", "pr-", "pr-0", "pr-12a", "PR-12", "pr-1-2"])
def test_only_pr_and_a_number_is_a_review_stack(stack: str) -> None:
    assert review_pull_request(stack) is None, stack


def test_the_review_stacks_family_maps_to_names_aws_and_github_accept() -> None:
    assert names_for(REVIEW_STACKS) == REVIEW.names
    for variable in REVIEW.variables:
        assert GITHUB_VARIABLE.match(variable), variable
    assert len(set(REVIEW.variables)) == len(REVIEW.variables)
    assert IAM_SID.match(REVIEW.names.sid)
    assert REVIEW.deploy_subject == f"environment:{REVIEW.deploy_environment}"
    assert REVIEW.sweep_subject == f"environment:{REVIEW.sweep_environment}"
    assert REVIEW.deploy_environment != REVIEW.sweep_environment


@pytest.mark.parametrize(
    ("stack", "why"),
    [
        ("pr", "starts with 'pr'"),
        ("pr-staging", "starts with 'pr'"),
        ("PR_2", "starts with 'pr'"),
        ("pr.eu", "starts with 'pr'"),
        ("pr-review", "starts with 'pr'"),
        ("pr-12", "starts with 'pr'"),
        ("review", "the review stacks use"),
        ("re-view", "the review stacks use"),
    ],
)
def test_a_committed_stack_may_not_take_the_review_stacks_names(stack: str, why: str) -> None:
    problems = naming_problems([stack])
    assert any(why in p and repr(stack) in p for p in problems), problems


@pytest.mark.parametrize("stack", ["prod", "preview", "pr2", "p-r", "staging-pr", "reviews"])
def test_names_that_only_look_alike_stay_allowed(stack: str) -> None:
    assert not naming_problems([stack]), stack


@pytest.mark.parametrize(
    "stack", ["prod", "preview", "pr2", "p-r", "staging-pr", "Pr", "pR-x", "pr_1", "pr.x"]
)
def test_no_allowed_committed_stack_falls_under_the_review_roles_wildcard(stack: str) -> None:
    refused = bool(naming_problems([stack]))
    names = names_for(stack)
    reachable = fnmatch.fnmatchcase(stack, REVIEW_STACKS) or (
        names.variable_suffix == REVIEW.names.variable_suffix
        or names.variable_suffix.startswith(REVIEW.names.variable_suffix + "_")
    )
    assert refused or not reachable, (
        f"{stack!r} is allowed, but the review roles' wildcard or variables would reach it"
    )


# --- who deploys and previews a stack ------------------------------------------------------------


def test_the_first_stack_is_open_and_every_later_one_is_gated() -> None:
    order = ["dev", "eu-staging", "prod"]
    assert deploy_subject("dev", order) == "ref:refs/heads/main"
    assert preview_subject("dev", order) == "pull_request"
    for stack in order[1:]:
        assert deploy_subject(stack, order) == f"environment:{stack}"
        assert preview_subject(stack, order) == f"environment:{stack}-preview"


def test_the_promotion_order_is_the_committed_stacks() -> None:
    order = promotion_order(ROOT)
    assert sorted(order) == sorted(STACKS), (
        f".github/promotion.yml lists {order}, git tracks {list(STACKS)}"
    )


# --- the stack list the workflows read -----------------------------------------------------------


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with this project's Pulumi.yaml, committed stacks and promotion order."""
    root = tmp_path / "repo"
    (root / ".github").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root)
    shutil.copy(ROOT / ".github" / "promotion.yml", root / ".github")
    for stack in STACKS:
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", root)
    git(root, "init", "-q")
    git(root, "add", ".")
    return root


def add_stack(root: Path, stack: str, config: dict[str, Any], *, track: bool = True) -> None:
    document = {"config": {"aws:region": "eu-west-1", **config}}
    (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    if track:
        git(root, "add", f"Pulumi.{stack}.yaml")


def set_order(root: Path, order: list[str]) -> None:
    (root / ".github" / "promotion.yml").write_text(yaml.safe_dump({"order": order}))


def order_with(*stacks: str) -> list[str]:
    """This repository's promotion order with `stacks` right after its first stack (whichever
    stacks are committed)."""
    first, *rest = promotion_order(ROOT)
    return [first, *stacks, *rest]


def test_the_repository_s_own_stacks_are_listed_in_promotion_order() -> None:
    found = stacks_script.delivery(ROOT)
    order = promotion_order(ROOT)
    assert [found["first"]["stack"]] + [e["stack"] for e in found["gated"]["include"]] == order
    assert found["has-gated"] is (len(order) > 1)


def test_a_committed_stack_in_the_promotion_order_is_previewed_and_deployed(repo: Path) -> None:
    add_stack(repo, "eu-staging", {"fargate-app:cpu": 512, "fargate-app:memory": 1024})
    set_order(repo, order_with("eu-staging"))
    found = stacks_script.delivery(repo)
    gated = found["gated"]["include"]
    assert [e["stack"] for e in gated] == order_with("eu-staging")[1:], "in promotion order"
    staging = gated[0]
    assert staging["role_variable"] == "AWS_ROLE_ARN_EU_STAGING"
    assert staging["preview_role_variable"] == "AWS_ROLE_ARN_PREVIEW_EU_STAGING"
    assert staging["backend_variable"] == "PULUMI_BACKEND_URL_EU_STAGING"
    assert staging["environment"] == "eu-staging"
    assert staging["preview_environment"] == "eu-staging-preview"
    assert len(staging["deploy_session"]) <= 64 and len(staging["preview_session"]) <= 64


def test_an_untracked_stack_file_gets_nothing(repo: Path) -> None:
    add_stack(repo, "alice", {}, track=False)
    found = stacks_script.delivery(repo)
    stacks = [found["first"]["stack"]] + [e["stack"] for e in found["gated"]["include"]]
    assert "alice" not in stacks, "an untracked Pulumi.alice.yaml is a developer's own"


def test_a_committed_stack_missing_from_the_promotion_order_fails_naming_it(repo: Path) -> None:
    add_stack(repo, "not-yet-ordered", {})
    with pytest.raises(StackNameError, match=r"not-yet-ordered are not in \.github/promotion\.yml"):
        stacks_script.delivery(repo)


def test_the_promotion_order_may_not_name_an_uncommitted_stack(repo: Path) -> None:
    set_order(repo, order_with("qa"))
    with pytest.raises(StackNameError, match="lists qa, which git does not track"):
        stacks_script.delivery(repo)


def test_an_arm64_stack_is_smoke_tested_and_built_for_arm64(repo: Path) -> None:
    add_stack(repo, "graviton", {"fargate-app:cpuArchitecture": "ARM64"})
    set_order(repo, order_with("graviton"))
    found = stacks_script.delivery(repo)
    (graviton,) = [e for e in found["gated"]["include"] if e["stack"] == "graviton"]
    assert (graviton["architecture"], graviton["platform"]) == ("ARM64", "linux/arm64")
    assert found["platforms"] == "linux/amd64 linux/arm64", "the smoke test runs both"


def test_the_architecture_comes_from_the_program_s_own_config_loader(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stack_config

    seen = []
    real = stack_config.load_config

    def spy(raw: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["stack"])
        return real(raw, **kwargs)

    monkeypatch.setattr(stack_config, "load_config", spy)
    stacks_script.delivery(repo)
    assert sorted(seen) == sorted(STACKS)


def test_a_stack_whose_config_does_not_load_fails_with_the_program_s_message(repo: Path) -> None:
    add_stack(repo, "broken", {"fargate-app:cpuArchitecture": "SPARC"})
    set_order(repo, order_with("broken"))
    with pytest.raises(StackNameError) as raised:
        stacks_script.delivery(repo)
    assert "Pulumi.broken.yaml" in str(raised.value) and "cpuArchitecture" in str(raised.value)


def test_a_stack_with_kms_encrypted_secrets_is_listed(repo: Path) -> None:
    # What `pulumi stack init --secrets-provider awskms://...` and `pulumi config set --secret`
    # write: the stack's provider and data key at the top, `secure:` values in the config.
    document = {
        "secretsprovider": "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?region=eu-west-1",
        "encryptedkey": "AQICAHhBase64CiphertextOfTheDataKey==",
        "config": {
            "aws:region": "eu-west-1",
            "fargate-app:alarmEmail": {"secure": "v1:abc:def"},
            "fargate-app:secretValues": {"DB_PASSWORD": {"secure": "v1:ghi:jkl"}},
        },
    }
    (repo / "Pulumi.kms.yaml").write_text(yaml.safe_dump(document))
    git(repo, "add", "Pulumi.kms.yaml")
    set_order(repo, order_with("kms"))
    found = stacks_script.delivery(repo)
    assert "kms" in [e["stack"] for e in found["gated"]["include"]]


def test_a_stack_on_the_shared_passphrase_provider_is_refused_with_the_migration(
    repo: Path,
) -> None:
    document = {"encryptionsalt": "v1:abc=:v1:def:ghi", "config": {"aws:region": "eu-west-1"}}
    (repo / "Pulumi.old.yaml").write_text(yaml.safe_dump(document))
    git(repo, "add", "Pulumi.old.yaml")
    set_order(repo, order_with("old"))
    with pytest.raises(StackNameError) as raised:
        stacks_script.delivery(repo)
    assert "pulumi stack change-secrets-provider --stack old" in str(raised.value)


def test_the_script_writes_the_workflow_outputs(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=ROOT,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert set(lines) == {"first", "gated", "has-gated", "platforms"}
    assert json.loads(lines["first"])["stack"] == promotion_order(ROOT)[0]
    assert set(json.loads(lines["gated"])) == {"include"}
    assert lines["has-gated"] in ("true", "false")
    assert "\n" not in lines["platforms"] and lines["platforms"].startswith("linux/")


def test_the_script_fails_listing_every_problem(repo: Path) -> None:
    add_stack(repo, "qa-eu", {})
    add_stack(repo, "QA_EU", {})
    with pytest.raises(StackNameError) as raised:
        stacks_script.delivery(repo)
    message = str(raised.value)
    assert "not in .github/promotion.yml" in message
    set_order(repo, order_with("qa-eu", "QA_EU"))
    with pytest.raises(StackNameError, match="map to the same GitHub variable suffix"):
        stacks_script.delivery(repo)


def test_the_offline_plan_reads_a_stack_on_its_kms_key(tmp_path: Path) -> None:
    """`pulumi stack init --secrets-provider awskms://...` adds `secretsprovider:` and
    `encryptedkey:` at the top of Pulumi.<stack>.yaml: `python -m tools.plan` still plans it."""
    for entry in ROOT.iterdir():
        if not entry.name.startswith(("Pulumi.", ".")) or entry.name == "Pulumi.yaml":
            (tmp_path / entry.name).symlink_to(entry)
    document = {
        "secretsprovider": "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?region=eu-west-1",
        "encryptedkey": "AQICAHhBase64CiphertextOfTheDataKey==",
        "config": {
            "aws:region": "eu-west-1",
            "fargate-app:alarmEmail": {"secure": "v1:abc:def"},
        },
    }
    (tmp_path / "Pulumi.kms.yaml").write_text(yaml.safe_dump(document))
    done = subprocess.run(
        [sys.executable, "-m", "tools.plan", "-C", str(tmp_path), "kms"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kms" in done.stdout


# --- ready: what a stack lacks for the workflows -------------------------------------------------

KMS_FILE = {
    "secretsprovider": "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?region=eu-west-1",
    "encryptedkey": "AQICAHh...",
    "config": {
        "aws:region": "eu-west-1",
        "fargate-app:permissionsBoundary": "arn:aws:iam::123456789012:policy/b",
    },
}


def ready_repo(repo: Path, stack_file: dict, owners: str = "/.github/ @acme/platform\n") -> Path:
    (repo / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack_file))
    (repo / ".github" / "CODEOWNERS").write_text(owners)
    return repo


def test_a_stack_with_its_kms_key_and_real_code_owners_is_ready(repo: Path) -> None:
    ready_repo(repo, KMS_FILE)
    assert stacks_script.readiness(repo, "dev", "up") == ([], [])


@pytest.mark.parametrize("command", ["preview", "up"])
def test_a_stack_file_without_a_kms_secrets_provider_stops_the_job_saying_how(
    repo: Path, command: str
) -> None:
    """Without one, Pulumi would open the stack with a passphrase the workflows do not have and
    fail later, less plainly (the repository's own dev and prod until they are set up)."""
    ready_repo(repo, {"config": KMS_FILE["config"]})
    errors, _ = stacks_script.readiness(repo, "dev", command)
    assert any(
        "Pulumi.dev.yaml names no KMS secrets provider" in e and "pulumi stack init dev" in e
        for e in errors
    ), errors
    assert stacks_script.ready("dev", command, root=repo) == 1


def test_the_template_s_code_owners_stop_a_deploy_and_warn_a_preview(repo: Path) -> None:
    ready_repo(repo, KMS_FILE, owners=(ROOT / ".github" / "CODEOWNERS").read_text())
    errors, _ = stacks_script.readiness(repo, "dev", "up")
    assert any("still names @OWNER/" in e for e in errors), errors
    errors, warnings = stacks_script.readiness(repo, "dev", "preview")
    assert not errors and any("still names @OWNER/" in w for w in warnings), warnings


def test_a_deploy_without_the_stack_s_boundary_is_warned(repo: Path) -> None:
    ready_repo(repo, {**KMS_FILE, "config": {"aws:region": "eu-west-1"}})
    errors, warnings = stacks_script.readiness(repo, "dev", "up")
    assert not errors and any("sets no permissionsBoundary" in w for w in warnings), warnings


def test_a_review_stack_s_written_file_is_ready(repo: Path) -> None:
    """The action checks a review stack after writing its file: the check must pass it."""
    from tests.test_review_stacks import review

    shutil.copy(ROOT / ".github" / "review-stacks.yml", repo / ".github")
    document, _ = review.stack_file_document(
        repo, "pr-12", "awskms://1234abcd?region=eu-west-1", "arn:aws:iam::123456789012:policy/b"
    )
    (repo / "Pulumi.pr-12.yaml").write_text(yaml.safe_dump(document))
    (repo / ".github" / "CODEOWNERS").write_text("/.github/ @acme/platform\n")
    assert stacks_script.readiness(repo, "pr-12", "up") == ([], [])
