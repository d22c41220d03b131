"""Review stacks (docs/review-stacks.md): the workflows that deploy and sweep them, and the script
they share (.github/scripts/review_stacks.py).

What a user relies on:
- labelling a pull request of this repository deploys its stack, each push to it redeploys, and
  closing it or removing the label removes the stack; nothing else (an unlabelled pull request,
  another label, a fork, Dependabot) deploys or removes anything (the `if:` conditions, evaluated
  for each event, with the reader of tests/test_workflows.py);
- the deploy waits for a reviewer in `pr-review`, is never cancelled half-way, and the sweep runs
  main's code only; each job presents exactly the OIDC subject its bootstrap role trusts;
- a review stack is its base stack made cheap and disposable (no NAT, Spot, one task, a day of
  logs, nothing protected, no domain, none of the base's secrets) with the review boundary;
- at most max-live review stacks live at once, and the sweep removes those whose pull request is
  closed, unlabelled, gone or idle past the limit, saying why on the pull request.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "bootstrap") not in sys.path:
    sys.path.insert(0, str(ROOT / "bootstrap"))

from ci_bootstrap.github_roles import DEPLOY_MAX_SESSION_S  # noqa: E402
from ci_bootstrap.stack_names import (  # noqa: E402
    REVIEW,
    REVIEW_STACK_PREFIX,
    promotion_order,
    review_stack,
)

from tests.test_workflows import (  # noqa: E402
    REVIEW_WORKFLOW,
    STACK_ACTION_REF,
    SWEEP_WORKFLOW,
    action_steps,
    evaluate,
    evaluate_value,
    load,
    stack_step,
    triggers,
)

SCRIPT = ROOT / ".github" / "scripts" / "review_stacks.py"
_spec = importlib.util.spec_from_file_location("review_stacks", SCRIPT)
assert _spec and _spec.loader
review = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = review  # its dataclasses look their module up by name
_spec.loader.exec_module(review)

REPOSITORY = "acme/fargate-app"
SETTINGS = review.load_settings(ROOT)
LABEL = SETTINGS.label
NUMBER = 12
BOUNDARY = (
    "arn:aws:iam::123456789012:policy/fargate-app-bootstrap/fargate-app-pr-app-roles-boundary"
)
PROVIDER = "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?region=us-east-1"


# --- the events ----------------------------------------------------------------------------------


def event(
    action: str,
    labels: tuple[str, ...] = (LABEL,),
    *,
    label: str | None = None,
    head_repository: str = REPOSITORY,
    actor: str = "jane",
    author: str = "jane",
) -> dict[str, Any]:
    """The contexts a review-stack.yml run's `if:` reads, for one pull_request event."""
    return {
        "github": {
            "repository": REPOSITORY,
            "actor": actor,
            "event_name": "pull_request",
            "event": {
                "action": action,
                **({"label": {"name": label}} if label is not None else {}),
                "pull_request": {
                    "number": NUMBER,
                    "state": "closed" if action == "closed" else "open",
                    "labels": [{"name": name} for name in labels],
                    "user": {"login": author},
                    "head": {"repo": {"full_name": head_repository}},
                },
            },
        }
    }


FORK = "mallory/fargate-app"
# (what happens, the event, whether the stack is deployed, whether its removal is asked for)
EVENTS: list[tuple[str, dict[str, Any], bool, bool]] = [
    ("the label is added", event("labeled", label=LABEL), True, False),
    ("a labelled pull request gets a push", event("synchronize"), True, False),
    ("a labelled pull request is reopened", event("reopened"), True, False),
    ("an unlabelled pull request gets a push", event("synchronize", ()), False, False),
    ("an unlabelled pull request is reopened", event("reopened", ()), False, False),
    (
        "another label is added to a labelled pull request",
        event("labeled", (LABEL, "bug"), label="bug"),
        False,
        False,
    ),
    (
        "another label is removed from a labelled pull request",
        event("unlabeled", label="bug"),
        False,
        False,
    ),
    ("the label is removed", event("unlabeled", (), label=LABEL), False, True),
    ("a labelled pull request closes (or merges)", event("closed"), False, True),
    ("an unlabelled pull request closes", event("closed", ()), False, False),
    (
        "a fork's labelled pull request gets a push",
        event("synchronize", head_repository=FORK, actor="mallory"),
        False,
        False,
    ),
    (
        "a fork's pull request is labelled",
        event("labeled", label=LABEL, head_repository=FORK),
        False,
        False,
    ),
    ("a fork's labelled pull request closes", event("closed", head_repository=FORK), False, False),
    (
        "Dependabot pushes to a labelled pull request",
        event("synchronize", actor="dependabot[bot]"),
        False,
        False,
    ),
    (
        "Dependabot's labelled pull request closes by its hand",
        event("closed", actor="dependabot[bot]"),
        False,
        False,
    ),
    # Dependabot's pull requests run the dependency it proposes, which nobody wrote here: no
    # review stack for them, whoever labels, pushes or approves.
    (
        "a maintainer labels Dependabot's pull request",
        event("labeled", label=LABEL, author="dependabot[bot]"),
        False,
        False,
    ),
    (
        "a maintainer pushes to Dependabot's labelled pull request",
        event("synchronize", author="dependabot[bot]"),
        False,
        False,
    ),
    (
        "a maintainer reopens Dependabot's labelled pull request",
        event("reopened", author="dependabot[bot]"),
        False,
        False,
    ),
    (
        "a maintainer pushes to another maintainer's labelled pull request",
        event("synchronize", actor="jane", author="joe"),
        True,
        False,
    ),
]


def review_jobs() -> dict[str, dict[str, Any]]:
    return load(REVIEW_WORKFLOW)["jobs"]


def sweep_jobs() -> dict[str, dict[str, Any]]:
    """The sweep's jobs that hold its role (the last one, `lookups`, holds nothing)."""
    return {
        name: job
        for name, job in load(SWEEP_WORKFLOW)["jobs"].items()
        if "id-token" in (job.get("permissions") or {})
    }


@pytest.mark.parametrize(
    ("what", "context", "deploys", "removes"), EVENTS, ids=[e[0] for e in EVENTS]
)
def test_who_gets_a_review_stack_and_when_it_goes(
    what: str, context: dict[str, Any], deploys: bool, removes: bool
) -> None:
    jobs = review_jobs()
    assert set(jobs) == {"deploy", "remove"}, sorted(jobs)
    assert evaluate(jobs["deploy"]["if"], context) is deploys, (
        f"when {what}, the review stack must {'' if deploys else 'not '}be deployed: "
        f"{jobs['deploy']['if']}"
    )
    assert evaluate(jobs["remove"]["if"], context) is removes, (
        f"when {what}, the stack's removal must {'' if removes else 'not '}be asked for: "
        f"{jobs['remove']['if']}"
    )


def test_every_event_the_conditions_expect_triggers_the_workflow_and_no_other() -> None:
    on = triggers(load(REVIEW_WORKFLOW))
    assert set(on) == {"pull_request"}, f"review-stack.yml runs on {sorted(on)}"
    assert on["pull_request"]["branches"] == ["main"]
    types = set(on["pull_request"]["types"])
    assert types == {e[1]["github"]["event"]["action"] for e in EVENTS}, types
    assert "opened" not in types, (
        "a pull request opened with the label also sends `labeled`: `opened` would deploy twice"
    )


def test_the_conditions_name_the_label_of_the_settings_file() -> None:
    literals: set[str] = set()
    for job in review_jobs().values():
        literals |= set(re.findall(r"'([^']*)'", job["if"]))
    fixed = {"dependabot[bot]", "open", "labeled", "unlabeled", "closed"}
    assert literals - fixed == {LABEL}, (
        f"review-stack.yml's conditions name {sorted(literals - fixed)}, the settings file "
        f"{review.SETTINGS_FILE} the label {LABEL!r}: keep the two equal"
    )


# --- the deploy job ------------------------------------------------------------------------------


def deploy_job() -> dict[str, Any]:
    return review_jobs()["deploy"]


def test_the_deploy_waits_for_a_reviewer_in_pr_review() -> None:
    environment = deploy_job()["environment"]
    assert environment["name"] == REVIEW.deploy_environment, (
        "a pull request's own code runs with the review role: only after a required reviewer "
        "approves the pr-review environment, whose subject the role trusts"
    )
    assert environment["url"] == "${{ steps.comment.outputs.url }}"


def test_review_deploys_are_serialised_per_pull_request_and_never_cancelled() -> None:
    workflow = load(REVIEW_WORKFLOW)
    assert "concurrency" not in workflow, "no workflow-wide group may cancel a deploy"
    concurrency = deploy_job()["concurrency"]
    assert concurrency["cancel-in-progress"] is False, "a newer push waits; a deploy never stops"
    assert concurrency["group"] == "review-stack-${{ github.event.pull_request.number }}"


def test_the_deploy_runs_the_pull_request_s_review_stack_with_the_review_variables() -> None:
    with_ = stack_step(deploy_job(), "review-stack.yml: deploy")["with"]
    assert with_["command"] == "up"
    assert with_["review"] == "true"
    context = {"github": {"event": {"pull_request": {"number": NUMBER}}}}
    stack = re.sub(
        r"\$\{\{(.*?)\}\}", lambda m: str(evaluate_value(m.group(1), context)), with_["stack"]
    )
    assert stack == review_stack(NUMBER), (with_["stack"], REVIEW_STACK_PREFIX)
    assert with_["role-arn"] == f"${{{{ vars.{REVIEW.deploy_role_variable} }}}}"
    assert with_["role-variable"] == REVIEW.deploy_role_variable
    assert with_["backend-url"] == f"${{{{ vars.{REVIEW.backend_variable} }}}}"
    assert with_["backend-variable"] == REVIEW.backend_variable
    assert with_["permissions-boundary"] == f"${{{{ vars.{REVIEW.boundary_variable} }}}}"
    secrets_provider = f"${{{{ vars.{REVIEW.secrets_provider_variable} }}}}"
    assert with_["review-secrets-provider"] == secrets_provider
    assert "pulumi-access-token" not in with_, "review stacks never get the Pulumi Cloud token"


def test_the_remove_job_holds_no_aws_role_and_starts_the_sweep_on_main() -> None:
    job = review_jobs()["remove"]
    assert job["permissions"] == {"actions": "write"}, job["permissions"]
    assert not [s for s in job["steps"] if "uses" in s], "no checkout, no action: one API call"
    (step,) = job["steps"]
    assert step["run"].split() == ["gh", "workflow", "run", SWEEP_WORKFLOW.name, "--ref", "main"]
    assert "workflow_dispatch" in triggers(load(SWEEP_WORKFLOW))


def test_every_review_job_has_credentials_that_outlive_it() -> None:
    jobs = [("review-stack.yml", "deploy", deploy_job())] + [
        ("review-sweep.yml", name, job) for name, job in sweep_jobs().items()
    ]
    for workflow, name, job in jobs:
        duration_s = int(stack_step(job, f"{workflow}: {name}")["with"]["role-duration-seconds"])
        timeout_s = int(job["timeout-minutes"]) * 60
        assert timeout_s < duration_s <= DEPLOY_MAX_SESSION_S, (
            f"{workflow} job {name}: credentials for {duration_s} s, a timeout of {timeout_s} s "
            f"and roles that allow {DEPLOY_MAX_SESSION_S} s"
        )


# --- the sweep -----------------------------------------------------------------------------------


def test_the_sweep_runs_main_s_code_only() -> None:
    on = triggers(load(SWEEP_WORKFLOW))
    assert set(on) == {"schedule", "workflow_dispatch"}, (
        f"review-sweep.yml runs on {sorted(on)}: a pull request's event would run its own copy"
    )
    assert not (on["workflow_dispatch"] or {}).get("inputs"), "nothing to steer it by"
    find = sweep_jobs()["find"]
    assert evaluate(find["if"], {"github": {"ref": "refs/heads/main"}})
    assert not evaluate(find["if"], {"github": {"ref": "refs/heads/feature"}}), (
        "a run dispatched on another branch is skipped (its environment would refuse it too)"
    )
    for name, job in sweep_jobs().items():
        assert job["environment"] == REVIEW.sweep_environment, (
            f"review-sweep.yml job {name}: the sweep role trusts only the pr-sweep environment, "
            "which admits main alone"
        )
        with_ = stack_step(job, f"review-sweep.yml: {name}")["with"]
        assert with_["role-arn"] == f"${{{{ vars.{REVIEW.sweep_role_variable} }}}}"
        assert with_["role-variable"] == REVIEW.sweep_role_variable
        assert with_["backend-url"] == f"${{{{ vars.{REVIEW.backend_variable} }}}}"


def test_sweeps_never_overlap_and_each_covers_every_stack() -> None:
    workflow = load(SWEEP_WORKFLOW)
    assert workflow["concurrency"] == {"group": "review-sweep", "cancel-in-progress": False}
    (step,) = [s for s in sweep_jobs()["find"]["steps"] if s.get("id") == "find"]
    assert " sweep " in f" {step['run']} " and "--pull-request" not in step["run"]


def test_the_sweep_destroys_each_stack_then_removes_it_only_when_empty() -> None:
    job = sweep_jobs()["remove"]
    assert job["needs"] == "find" and job["if"] == "needs.find.outputs.any == 'true'"
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.find.outputs.remove) }}"
    assert job["strategy"]["fail-fast"] is False
    with_ = stack_step(job, "review-sweep.yml: remove")["with"]
    assert (with_["command"], with_["stack"], with_["review"]) == (
        "destroy",
        "${{ matrix.stack }}",
        "true",
    )
    steps = job["steps"]
    action = next(i for i, s in enumerate(steps) if s.get("uses") == STACK_ACTION_REF)
    (rm,) = [s for s in steps[action + 1 :] if "pulumi stack rm" in s.get("run", "")]
    assert "--force" not in rm["run"], "Pulumi must refuse to remove a stack that holds resources"
    assert "set -euo pipefail" in rm["run"]
    assert sweep_jobs()["find"]["steps"][1]["with"]["command"] == "setup"


# --- the shared action, for a review stack -------------------------------------------------------


def action_step(name: str) -> dict[str, Any]:
    (found,) = [s for s in action_steps() if s.get("name") == name]
    return found


def pulumi_step() -> dict[str, Any]:
    """The step that runs Pulumi (the sweep's CLI install is another pulumi/actions step)."""
    (found,) = [
        s
        for s in action_steps()
        if str(s.get("uses", "")).startswith("pulumi/actions@") and "command" in s["with"]
    ]
    return found


WANTED_STEP = "Check the pull request still wants its stack"


@pytest.mark.parametrize(
    ("inputs", "wanted", "writes", "asks", "caps", "runs_pulumi", "upsert"),
    [
        ({"command": "up", "review": "true"}, "true", True, True, True, True, True),
        ({"command": "up", "review": "true"}, "false", True, True, False, False, True),
        ({"command": "destroy", "review": "true"}, None, True, False, False, True, False),
        ({"command": "setup", "review": "false"}, None, False, False, False, False, False),
        ({"command": "up", "review": "false"}, None, False, False, False, True, False),
        ({"command": "preview", "review": "false"}, None, False, False, False, True, False),
    ],
)
def test_the_action_writes_caps_and_creates_only_review_stacks(
    inputs: dict[str, str],
    wanted: str | None,
    writes: bool,
    asks: bool,
    caps: bool,
    runs_pulumi: bool,
    upsert: bool,
) -> None:
    context: dict[str, Any] = {"inputs": {**inputs, "review-secrets-provider": PROVIDER}}
    if wanted is not None:
        context["steps"] = {"wanted": {"outputs": {"deploy": wanted}}}
    write = action_step("Write the review stack's settings")
    ask = action_step(WANTED_STEP)
    cap = action_step("Check the cap on live review stacks")
    pulumi = pulumi_step()
    assert evaluate(write["if"], context) is writes, inputs
    assert evaluate(ask["if"], context) is asks, (
        f"{inputs}: a review deploy asks GitHub whether the pull request still wants its stack"
    )
    assert evaluate(cap["if"], context) is caps, inputs
    assert ("if" not in pulumi or evaluate(pulumi["if"], context)) is runs_pulumi, inputs
    assert evaluate(pulumi["with"]["upsert"], context) is upsert, (
        f"{inputs}: only a review stack's deploy may create its stack; committed stacks are "
        "created once by hand"
    )
    provider = evaluate_value(pulumi["with"]["secrets-provider"].strip(), context)
    assert provider == (PROVIDER if upsert else ""), inputs
    steps = action_steps()
    credentials = next(i for i, s in enumerate(steps) if "configure-aws-credentials" in str(s))
    assert steps.index(write) < steps.index(pulumi), "the file exists before Pulumi reads it"
    assert credentials < steps.index(cap) < steps.index(pulumi), "the cap needs the role"
    assert steps.index(ask) < steps.index(cap), "a stack no longer wanted is not counted"
    between = [
        s.get("name", s.get("uses"))
        for s in steps[steps.index(ask) + 1 : steps.index(pulumi)]
        if "if" in s and evaluate(s["if"], context)
    ]
    assert not asks or between == ([cap["name"]] if caps else []), (
        f"the pull request is asked about just before the deploy; in between run {between}"
    )


def test_the_comment_is_written_only_when_the_stack_was_deployed() -> None:
    steps = deploy_job()["steps"]
    (stack,) = [s for s in steps if s.get("uses") == STACK_ACTION_REF]
    (comment,) = [s for s in steps if s.get("id") == "comment"]
    outputs = load(ROOT / ".github" / "actions" / "pulumi-stack" / "action.yml")["outputs"]
    assert outputs["wanted"]["value"] == "${{ steps.wanted.outputs.deploy }}"
    for wanted in ("true", "false"):
        context = {"steps": {stack["id"]: {"outputs": {"wanted": wanted}}}}
        assert evaluate(comment["if"], context) is (wanted == "true"), (
            "a pull request closed or unlabelled while its deploy waited gets no URL comment"
        )


def pull_request_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer: Any
) -> tuple[Path, Any]:
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))

    def fetch(self: Any, number: int) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(review.GitHub, "pull_request", fetch)
    return outputs, ["wanted", "--stack", f"pr-{NUMBER}", "--repository", REPOSITORY]


@pytest.mark.parametrize(
    ("state", "labels", "deploys"),
    [
        ("open", (LABEL, "bug"), True),
        ("open", (LABEL.upper(),), True),
        ("closed", (LABEL,), False),
        ("open", ("bug",), False),
        (None, (), False),
    ],
    ids=["open and labelled", "label in other case", "closed", "unlabelled", "gone"],
)
def test_a_deploy_stops_quietly_when_the_pull_request_no_longer_wants_its_stack(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    state: str | None,
    labels: tuple[str, ...],
    deploys: bool,
) -> None:
    answer = None if state is None else review.PullRequest(NUMBER, state, labels)
    outputs, args = pull_request_answers(monkeypatch, tmp_path, answer)
    assert review.main(args) == 0, "a stack no longer wanted is no failure"
    assert f"deploy={'true' if deploys else 'false'}" in outputs.read_text().splitlines()
    if not deploys:
        assert f"::notice::pr-{NUMBER} is not deployed" in capsys.readouterr().out


def test_a_deploy_fails_when_github_cannot_say_whether_the_stack_is_still_wanted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    error = review.GitHubError("GitHub answered GET pulls/12 with 502", 502)
    outputs, args = pull_request_answers(monkeypatch, tmp_path, error)
    assert review.main(args) == 1
    assert not outputs.exists() or "deploy=true" not in outputs.read_text()


def test_the_action_writes_the_deploy_file_with_the_boundary_and_the_destroy_file_without(
    tmp_path: Path,
) -> None:
    stub = tmp_path / "venv" / "bin" / "python"
    stub.parent.mkdir(parents=True)
    stub.write_text('#!/usr/bin/env bash\necho "$*" >> "$CALLS"\n')
    stub.chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    for command, boundary in (("up", True), ("destroy", False)):
        calls = tmp_path / f"{command}.log"
        env = {
            "PATH": "/usr/bin:/bin",
            "CALLS": str(calls),
            "STACK": "pr-12",
            "COMMAND": command,
            "SECRETS_PROVIDER": PROVIDER,
            "PERMISSIONS_BOUNDARY": BOUNDARY,
        }
        run = action_step("Write the review stack's settings")["run"]
        done = subprocess.run(
            [bash, "-e", "-c", run], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        (call,) = calls.read_text().splitlines()
        assert call.startswith(".github/scripts/review_stacks.py stack-file --stack pr-12 ")
        assert f"--secrets-provider {PROVIDER}" in call
        assert ("--permissions-boundary" in call) is boundary, call


# --- the settings --------------------------------------------------------------------------------


def test_the_repository_s_settings_are_sound() -> None:
    order = yaml.safe_load((ROOT / ".github" / "promotion.yml").read_text())["order"]
    assert SETTINGS.base in order, "review stacks copy a committed stack"
    assert SETTINGS.max_live >= 1 and SETTINGS.idle_days >= 1


def make_repo(tmp_path: Path, settings: str | None = None) -> Path:
    """A copy of the repository's project files (the program linked, the stacks and settings
    copied) to write review stacks' files into."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if not entry.name.startswith(("Pulumi.", ".")) or entry.name == "Pulumi.yaml":
            (tmp_path / entry.name).symlink_to(entry)
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        if stack_file.name != "Pulumi.yaml" and not stack_file.name.startswith("Pulumi.pr-"):
            shutil.copy(stack_file, tmp_path / stack_file.name)
    (tmp_path / ".github").mkdir()
    shutil.copy(ROOT / ".github" / "promotion.yml", tmp_path / ".github" / "promotion.yml")
    target = tmp_path / review.SETTINGS_FILE
    if settings is None:
        shutil.copy(ROOT / review.SETTINGS_FILE, target)
    else:
        target.write_text(settings)
    return tmp_path


def test_bad_settings_are_reported_together(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "base: no-such\nlabel: ''\nmax-live: 0\nidle-days: two\ncap: 3\n")
    with pytest.raises(review.ReviewStackError) as raised:
        review.load_settings(repo)
    message = str(raised.value)
    for expected in (
        "'cap' is not a setting",
        "base 'no-such' is not a committed stack of the promotion order "
        f"({', '.join(promotion_order(ROOT))})",
        "label '' must be a GitHub label name",
        "max-live 0 must be a whole number, 1 or more",
        "idle-days 'two' must be a whole number",
    ):
        assert expected in message, message


# --- a review stack's settings -------------------------------------------------------------------


def base_with(tmp_path: Path, config: dict[str, Any]) -> Path:
    repo = make_repo(tmp_path)
    (repo / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    return repo


def test_a_review_stack_is_its_base_made_cheap_and_disposable(tmp_path: Path) -> None:
    repo = base_with(
        tmp_path,
        {
            "aws:region": "eu-west-1",
            "fargate-app:natGateways": "perAz",
            "fargate-app:availabilityZones": 3,
            "fargate-app:desiredCount": 2,
            "fargate-app:maxCount": 6,
            "fargate-app:logRetentionDays": 90,
            "fargate-app:deletionProtection": True,
            "fargate-app:accessLogs": True,
            "fargate-app:flowLogs": True,
            "fargate-app:containerInsights": True,
            "fargate-app:domainName": "app.example.com",
            "fargate-app:hostedZone": "example.com",
            "fargate-app:alarmEmail": "oncall@example.com",
            "fargate-app:cpu": 512,
            "fargate-app:memory": 1024,
            "fargate-app:env": {"LOG_LEVEL": "info"},
            "fargate-app:tags": {"environment": "dev", "team": "web"},
        },
    )
    config, dropped = review.review_config(repo, "dev", BOUNDARY)
    p = "fargate-app:"
    expected = {
        "aws:region": "eu-west-1",  # the base's region
        p + "natGateways": "none",
        p + "availabilityZones": 2,
        p + "desiredCount": 1,
        p + "maxCount": 1,
        p + "logRetentionDays": 1,
        p + "deletionProtection": False,
        p + "accessLogs": False,
        p + "flowLogs": False,
        p + "containerInsights": False,
        p + "domainName": "",
        p + "hostedZone": "",
        p + "alarmEmail": "",
        p + "spot": True,
        p + "onDemandBase": 0,
        p + "cpu": 512,  # what the change ships with stays the base's
        p + "memory": 1024,
        p + "env": {"LOG_LEVEL": "info"},
        p + "tags": {"environment": "review", "team": "web"},
        p + "permissionsBoundary": BOUNDARY,
    }
    for key, value in expected.items():
        assert config[key] == value, f"{key}: {config.get(key)!r}, want {value!r}"
    assert dropped == []


def test_the_overrides_keep_to_the_program_s_own_limits() -> None:
    from stack_config import LOG_RETENTION_DAYS, MIN_AZS, SETTINGS_BY_KEY

    overrides = review.review_overrides()
    assert set(overrides) <= set(SETTINGS_BY_KEY), set(overrides) - set(SETTINGS_BY_KEY)
    assert overrides["logRetentionDays"].value in LOG_RETENTION_DAYS
    assert overrides["availabilityZones"].value == MIN_AZS
    assert all(o.why for o in overrides.values()), "each override says why"


def test_an_arm64_base_stays_off_spot(tmp_path: Path) -> None:
    repo = base_with(tmp_path, {"aws:region": "us-east-1", "fargate-app:cpuArchitecture": "ARM64"})
    config, _ = review.review_config(repo, "dev", BOUNDARY)
    assert config["fargate-app:spot"] is False, "Fargate Spot runs X86_64 only"
    assert config["fargate-app:cpuArchitecture"] == "ARM64"
    summary = review.review_summary(config, "fargate-app")
    assert "on-demand Fargate" in summary and "Fargate Spot" not in summary, (
        f"the comment must not promise Spot to an ARM64 stack: {summary}"
    )


def test_the_comment_s_summary_is_read_from_the_review_settings(tmp_path: Path) -> None:
    config, _ = review.review_config(make_repo(tmp_path), "dev", BOUNDARY)
    days = review.review_overrides()["logRetentionDays"].value
    assert review.review_summary(config, "fargate-app") == (
        f"no NAT gateway, Fargate Spot, one task, {days} day{'s' if days != 1 else ''} of logs, "
        "nothing protected"
    )


def test_the_base_s_secrets_and_encryption_never_reach_a_review_stack(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "Pulumi.dev.yaml").write_text(
        yaml.safe_dump(
            {
                "secretsprovider": "awskms://dev-key?region=us-east-1",
                "encryptedkey": "AQICAHhDevDataKey==",
                "config": {
                    "aws:region": "us-east-1",
                    "secretValues": {"DB_PASSWORD": {"secure": "v1:abc"}},
                    "fargate-app:secrets": {"DB_URL": "arn:aws:secretsmanager:..."},
                    "fargate-app:alarmEmail": {"secure": "v1:def"},
                    "fargate-app:permissionsBoundary": "arn:aws:iam::1:policy/dev-boundary",
                },
            }
        )
    )
    document, dropped = review.stack_file_document(repo, "pr-12", PROVIDER, BOUNDARY, SETTINGS)
    text = yaml.safe_dump(document)
    for secret in ("v1:abc", "v1:def", "dev-key", "AQICAHhDevDataKey", "secretsmanager", "dev-bo"):
        assert secret not in text, f"{secret} reached the review stack's file:\n{text}"
    assert sorted(dropped) == [
        "fargate-app:alarmEmail",
        "fargate-app:secretValues",
        "fargate-app:secrets",
    ]
    assert document["secretsprovider"] == PROVIDER
    assert "encryptedkey" not in document, "Pulumi makes a new data key under the review key"
    assert document["config"]["fargate-app:permissionsBoundary"] == BOUNDARY


def test_the_destroy_file_names_only_the_review_key(tmp_path: Path) -> None:
    document, dropped = review.stack_file_document(make_repo(tmp_path), "pr-12", PROVIDER)
    assert document == {"secretsprovider": PROVIDER} and dropped == []


@pytest.mark.parametrize(
    ("stack", "provider", "boundary", "message"),
    [
        ("dev", PROVIDER, BOUNDARY, "'dev' is not a review stack"),
        ("pr-12", "", BOUNDARY, f"set the variable {REVIEW.secrets_provider_variable}"),
        ("pr-12", PROVIDER, "", f"set the variable {REVIEW.boundary_variable}"),
    ],
)
def test_a_review_stack_file_needs_a_review_stack_and_the_bootstrap_s_variables(
    tmp_path: Path, stack: str, provider: str, boundary: str, message: str
) -> None:
    with pytest.raises(review.ReviewStackError, match=re.escape(message)):
        review.stack_file_document(make_repo(tmp_path), stack, provider, boundary, SETTINGS)


def test_the_stack_file_command_writes_the_file_and_the_base_s_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo")
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    argv = ["stack-file", "--stack", "pr-12", "--secrets-provider", PROVIDER]
    assert review.main([*argv, "--permissions-boundary", BOUNDARY], root=repo) == 0
    written = yaml.safe_load((repo / "Pulumi.pr-12.yaml").read_text())
    assert written["config"]["fargate-app:permissionsBoundary"] == BOUNDARY
    assert "platform=linux/amd64" in outputs.read_text().splitlines()
    assert review.main(argv, root=repo) == 0
    assert yaml.safe_load((repo / "Pulumi.pr-12.yaml").read_text()) == {"secretsprovider": PROVIDER}


def test_a_review_stack_s_file_is_never_committed() -> None:
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "-q", "Pulumi.pr-12.yaml"], check=False
    )
    assert ignored.returncode == 0, ".gitignore must keep Pulumi.pr-<n>.yaml out of commits"


def test_a_review_stack_loads_and_plans_as_the_program_reads_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    document, _ = review.stack_file_document(repo, "pr-12", PROVIDER, BOUNDARY, SETTINGS)
    review.write_stack_file(repo, "pr-12", document, SETTINGS.base)
    cost = review.idle_cost("pr-12", repo)
    assert cost.startswith("about $"), cost
    monthly = float(re.match(r"about \$([\d,.]+) a month", cost).group(1).replace(",", ""))
    from tools.plan.model import Project, build_plan

    base = build_plan(SETTINGS.base, Project.at(repo))["cost"]["total"]
    assert monthly <= base, f"a review stack ({monthly}) costs no more than its base ({base})"


def test_the_program_builds_a_review_stack_cheap_disposable_and_bounded(
    tmp_path: Path, run_config
) -> None:
    """What the program makes of the stack file the workflow writes: Spot, a day of logs, no NAT,
    nothing protected, every role under the stack's path with the review boundary."""
    repo = make_repo(tmp_path)
    document, _ = review.stack_file_document(repo, "pr-12", PROVIDER, BOUNDARY, SETTINGS)
    run = run_config(document["config"], stack="pr-12")
    days = review.review_overrides()["logRetentionDays"].value
    services = run.of_type("aws:ecs/service:Service")
    assert services, "the stack runs its service"
    for service in services:
        strategy = service.inputs.get("capacityProviderStrategies") or []
        placing = {s["capacityProvider"] for s in strategy if s.get("base") or s.get("weight")}
        assert placing == {"FARGATE_SPOT"}, (
            f"{service.urn}: every task on Fargate Spot, got {strategy}"
        )
    for group in run.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["retentionInDays"] == days, f"{group.urn}: {days} day of logs"
    assert not run.of_type("aws:ec2/natGateway:NatGateway"), "no NAT gateway"
    for lb in run.of_type("aws:lb/loadBalancer:LoadBalancer"):
        assert not lb.inputs.get("enableDeletionProtection"), f"{lb.urn} is deletion-protected"
    assert not [r.urn for r in run.resources if r.protect], "the sweep must delete all of it"
    roles = run.of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        assert role.inputs["path"] == "/fargate-app/pr-12/", f"{role.urn}: {role.inputs['path']}"
        assert role.inputs["permissionsBoundary"] == BOUNDARY, f"{role.urn} lacks the boundary"


def test_the_idle_cost_says_so_when_the_plan_fails(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    (repo / "Pulumi.pr-12.yaml").write_text("config:\n  fargate-app:cpu: 3\n")
    assert review.idle_cost("pr-12", repo).startswith("not known: the offline plan failed")


# --- the live stacks, the cap and the sweep ------------------------------------------------------

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def listing(*keys: tuple[str, datetime]) -> dict[str, Any]:
    """An `aws s3api list-objects-v2 --output json` answer."""
    return {
        "Contents": [
            {"Key": key, "LastModified": when.isoformat(), "Size": 1024} for key, when in keys
        ]
    }


def test_live_stacks_are_the_review_checkpoints_in_the_bucket() -> None:
    older, newer = NOW - timedelta(days=2), NOW - timedelta(hours=1)
    found = review.live_stacks(
        listing(
            (".pulumi/stacks/fargate-app/pr-12.json", older),
            (".pulumi/stacks/fargate-app/pr-12.json.gz", newer),
            (".pulumi/stacks/fargate-app/pr-7.json.zst", older),
            (".pulumi/stacks/fargate-app/pr-9.json.bak", newer),  # removed: only its backup
            (".pulumi/stacks/fargate-app/pr-x.json", newer),
            (".pulumi/stacks/fargate-app/dev.json", newer),
            (".pulumi/stacks/other-project/pr-3.json", newer),
            (".pulumi/history/fargate-app/pr-5/pr-5-1.history.json", newer),
        ),
        "fargate-app",
    )
    assert [(s.stack, s.pull_request, s.last_update) for s in found] == [
        ("pr-7", 7, older),
        ("pr-12", 12, newer),
    ]


def test_the_listing_is_of_the_review_checkpoints_in_the_bootstrap_s_bucket() -> None:
    calls = []

    def list_objects(bucket: str, prefix: str, region: str | None) -> dict[str, Any]:
        calls.append((bucket, prefix, region))
        return listing((".pulumi/stacks/fargate-app/pr-3.json", NOW))

    found = review.list_live_stacks("s3://state-abc?region=eu-west-1", ROOT, list_objects)
    assert [s.stack for s in found] == ["pr-3"]
    assert calls == [("state-abc", ".pulumi/stacks/fargate-app/pr-", "eu-west-1")]


@pytest.mark.parametrize("url", ["", "https://api.pulumi.com", "file:///tmp/state", "s3://"])
def test_review_stacks_need_the_bootstrap_s_bucket(url: str) -> None:
    with pytest.raises(review.ReviewStackError, match=REVIEW.backend_variable):
        review.backend_bucket(url)


def live(*numbers: int, days: float = 0, now: datetime = NOW) -> list[Any]:
    return [review.LiveStack(f"pr-{n}", n, now - timedelta(days=days)) for n in numbers]


def test_a_new_review_stack_waits_for_room_under_the_cap() -> None:
    full = live(*range(1, SETTINGS.max_live + 1))
    problem = review.cap_problem("pr-99", full, SETTINGS.max_live)
    assert problem is not None
    for expected in ("pr-99 is not deployed", f"max-live: {SETTINGS.max_live}", "VPC", "pr-1"):
        assert expected in problem, problem
    assert review.cap_problem("pr-99", full[:-1], SETTINGS.max_live) is None


def test_a_live_review_stack_is_always_updated_even_at_the_cap() -> None:
    full = live(*range(1, SETTINGS.max_live + 1))
    assert review.cap_problem("pr-1", full, SETTINGS.max_live) is None


def pull_requests(**by_number: tuple[str, tuple[str, ...]] | None) -> Any:
    def fetch(number: int) -> Any:
        found = by_number.get(f"n{number}")
        return None if found is None else review.PullRequest(number, found[0], found[1])

    return fetch


def test_the_sweep_removes_closed_unlabelled_gone_and_idle_stacks_and_keeps_the_rest() -> None:
    idle_days = SETTINGS.idle_days
    stacks = [
        *live(1, 2, 3, 4),
        *live(5, days=idle_days + 1),
        *live(6, days=idle_days - 0.5),
    ]
    fetch = pull_requests(
        n1=("open", (LABEL.upper(),)),  # GitHub compares labels ignoring case
        n2=("closed", (LABEL,)),
        n3=("open", ("bug",)),
        n5=("open", (LABEL,)),
        n6=("open", (LABEL, "bug")),
    )
    removed = {r["stack"]: r["reason"] for r in review.removals(stacks, fetch, SETTINGS, NOW)}
    assert set(removed) == {"pr-2", "pr-3", "pr-4", "pr-5"}, removed
    assert "is closed" in removed["pr-2"]
    assert f"no longer has the label {LABEL}" in removed["pr-3"]
    assert "does not exist" in removed["pr-4"]
    assert f"not deployed for {idle_days + 1} days" in removed["pr-5"]
    assert f"the limit is {idle_days}" in removed["pr-5"]


def test_the_sweep_writes_a_matrix_of_what_to_remove(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    just_deployed = live(2, 8, now=datetime.now(UTC))  # the command sweeps as of now
    monkeypatch.setattr(review, "list_live_stacks", lambda url, root: just_deployed)
    monkeypatch.setattr(
        review.GitHub,
        "pull_request",
        lambda self, n: review.PullRequest(n, "closed" if n == 2 else "open", (LABEL,)),
    )
    args = ["sweep", "--backend-url", "s3://b", "--repository", REPOSITORY]
    assert review.main(args) == 0
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert lines["any"] == "true"
    matrix = json.loads(lines["remove"])
    assert [(e["stack"], e["pull_request"]) for e in matrix["include"]] == [("pr-2", 2)]


# --- the comments --------------------------------------------------------------------------------


class FakeGitHub(review.GitHub):
    def __init__(self, comments: list[dict[str, Any]]) -> None:
        super().__init__(REPOSITORY, "token")
        self.existing = comments
        self.calls: list[tuple[str, str, Any]] = []

    def request(self, method: str, path: str, body: Any = None) -> Any:
        self.calls.append((method, path, body))
        if method == "GET" and path.startswith(f"issues/{NUMBER}/comments"):
            return self.existing
        return {}


def test_the_comment_is_written_once_and_then_edited_in_place() -> None:
    marker = review.COMMENT_MARKER.format(stack="pr-12")
    fresh = FakeGitHub([{"id": 1, "body": "LGTM"}])
    review.upsert_comment(fresh, NUMBER, "pr-12", "first")
    assert fresh.calls[-1] == ("POST", f"issues/{NUMBER}/comments", {"body": f"{marker}\nfirst"})
    again = FakeGitHub([{"id": 1, "body": "LGTM"}, {"id": 7, "body": f"{marker}\nfirst"}])
    review.upsert_comment(again, NUMBER, "pr-12", "second")
    assert again.calls[-1] == ("PATCH", "issues/comments/7", {"body": f"{marker}\nsecond"})


def test_the_deployed_comment_gives_the_url_the_cost_and_when_it_goes() -> None:
    body = review.deployed_comment(
        "pr-12",
        "http://web-alb-1.elb.amazonaws.com",
        "about $30.88 a month",
        SETTINGS,
        [],
        summary="no NAT gateway, Fargate Spot",
    )
    for expected in (
        "http://web-alb-1.elb.amazonaws.com",
        "about $30.88 a month",
        f"`{SETTINGS.base}`'s",
        f"`{LABEL}`",
        f"{SETTINGS.idle_days} days",
        REVIEW.deploy_environment,
    ):
        assert expected in body, body
    assert "(no NAT gateway, Fargate Spot)" in body, body
    dropped = review.deployed_comment(
        "pr-12", "u", "c", SETTINGS, ["fargate-app:secretValues"], summary="s"
    )
    assert "`secretValues`" in dropped and "secrets stay with it" in dropped


def test_the_removed_comment_says_why() -> None:
    body = review.removed_comment("pr-12", "pull request #12 is closed", SETTINGS)
    assert "pull request #12 is closed" in body and f"`{LABEL}`" in body


# --- the docs ------------------------------------------------------------------------------------


def test_the_docs_name_every_override_variable_environment_and_the_label() -> None:
    text = (ROOT / "docs" / "review-stacks.md").read_text()
    missing = [key for key in review.review_overrides() if f"`{key}" not in text]
    assert not missing, f"docs/review-stacks.md does not say the review stacks change {missing}"
    for name in (
        *REVIEW.variables,
        REVIEW.deploy_environment,
        REVIEW.sweep_environment,
        LABEL,
        *review.REVIEW_DROPPED,
    ):
        assert f"`{name}`" in text, f"docs/review-stacks.md does not name `{name}`"
    for setting, value in (("max-live", SETTINGS.max_live), ("idle-days", SETTINGS.idle_days)):
        assert f"`{setting}`" in text and f"({value} by default)" in text, setting


# --- what the sweep's destroy would run ----------------------------------------------------------

AWS_VERSION = next(
    v
    for v in ("7.51.1", "7.60.0", "7.99.0")
    if review.provider_requirements(ROOT)["aws"].contains(v)
)
DOCKER_VERSION = next(
    v for v in ("5.2.0", "5.9.0") if review.provider_requirements(ROOT)["docker"].contains(v)
)
STACK_URN = "urn:pulumi:pr-12::fargate-app::pulumi:pulumi:Stack::fargate-app-pr-12"


def provider(package: str, version: str | None, **inputs: Any) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:pr-12::fargate-app::pulumi:providers:{package}::default",
        "custom": True,
        "type": f"pulumi:providers:{package}",
        "inputs": {**({"version": version} if version else {}), **inputs},
    }


def checkpoint(*resources: dict[str, Any], pending: tuple[dict[str, Any], ...] = ()) -> Any:
    """A self-managed backend's checkpoint file, as `pulumi up` writes it."""
    return {
        "version": 3,
        "checkpoint": {
            "stack": "organization/fargate-app/pr-12",
            "latest": {
                "manifest": {"time": "2026-03-02T12:00:00Z", "version": "v3.200.0"},
                "resources": [
                    {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack"},
                    *resources,
                ],
                "pending_operations": [{"resource": r, "type": "creating"} for r in pending],
            },
        },
    }


CLEAN = checkpoint(
    provider("aws", AWS_VERSION, region="eu-west-1", __internal={}),
    provider("docker", DOCKER_VERSION),
    provider("pulumi", None),  # the engine's own, for stack references
    {
        "urn": "urn:...:pulumi:pulumi:StackReference::r",
        "custom": True,
        "type": "pulumi:pulumi:StackReference",
    },
    {
        "urn": "urn:...:aws:ecs/cluster:Cluster::c",
        "custom": True,
        "type": "aws:ecs/cluster:Cluster",
    },
    {"urn": "urn:...:fargate-app:network:Network::n", "custom": False, "type": "fargate-app:x:Y"},
)


def test_the_program_s_own_state_passes_and_names_the_plugins_to_install() -> None:
    checked = review.check_state(CLEAN, review.provider_requirements(ROOT))
    assert checked.problems == (), checked.problems
    assert checked.plugins == (("aws", AWS_VERSION), ("docker", DOCKER_VERSION))


DYNAMIC = {
    "urn": "urn:pulumi:pr-12::fargate-app::pulumi-python:dynamic:Resource::x",
    "custom": True,
    "type": "pulumi-python:dynamic:Resource",
    "inputs": {"__provider": "gASV..."},
}
REFUSED: list[tuple[str, Any, str]] = [
    (
        "a Python dynamic resource and its provider",
        checkpoint(provider("aws", AWS_VERSION), provider("pulumi-python", None), DYNAMIC),
        "a provider of 'pulumi-python'",
    ),
    (
        "a dynamic resource pending creation",
        checkpoint(provider("aws", AWS_VERSION), pending=(DYNAMIC,)),
        "a resource of 'pulumi-python'",
    ),
    (
        "a plugin download server (engine settings)",
        checkpoint(
            provider("aws", AWS_VERSION, __internal={"pluginDownloadURL": "https://evil.example"})
        ),
        "downloads its plugin from 'https://evil.example'",
    ),
    (
        "a plugin download server (older states)",
        checkpoint(provider("aws", AWS_VERSION, pluginDownloadURL="github://api.github.com/x")),
        "downloads its plugin from",
    ),
    (
        "a version requirements.txt does not allow",
        checkpoint(provider("aws", "6.0.0")),
        "aws 6.0.0, which requirements.txt does not allow",
    ),
    ("a provider with no version", checkpoint(provider("aws", None)), "names no plugin version"),
    (
        "another provider package",
        checkpoint(provider("command", "1.0.0")),
        "a provider of 'command'",
    ),
    (
        "a parameterized provider",
        checkpoint(provider("aws", AWS_VERSION, __internal={"parameterization": {"name": "x"}})),
        "a parameterized provider",
    ),
]


@pytest.mark.parametrize(("what", "state", "says"), REFUSED, ids=[r[0] for r in REFUSED])
def test_the_sweep_refuses_a_state_whose_destroy_would_run_foreign_code(
    what: str, state: Any, says: str
) -> None:
    checked = review.check_state(state, review.provider_requirements(ROOT))
    assert any(says in problem for problem in checked.problems), (
        f"a state with {what} must not be destroyed by main's sweep: {checked.problems}"
    )


def bucket_with(objects: dict[str, bytes]) -> tuple[Any, Any]:
    def list_objects(bucket: str, prefix: str, region: str | None) -> dict[str, Any]:
        return {"Contents": [{"Key": k} for k in objects if k.startswith(prefix)]}

    def get_object(bucket: str, key: str, region: str | None) -> bytes:
        return objects[key]

    return list_objects, get_object


def test_every_checkpoint_file_of_the_stack_is_checked_gzipped_or_not() -> None:
    import gzip

    base = ".pulumi/stacks/fargate-app/pr-12"
    bad = checkpoint(provider("aws", AWS_VERSION), DYNAMIC)
    objects = {
        f"{base}.json": json.dumps(CLEAN).encode(),
        f"{base}.json.gz": gzip.compress(json.dumps(bad).encode()),
        f"{base}.json.bak": b"not read",
        ".pulumi/stacks/fargate-app/pr-123.json": b"another stack",
    }
    list_objects, get_object = bucket_with(objects)
    with pytest.raises(review.ReviewStackError) as raised:
        review.check_stack_state("pr-12", "s3://b?region=eu-west-1", ROOT, list_objects, get_object)
    message = str(raised.value)
    assert "pr-12 is not destroyed" in message and f"{base}.json.gz:" in message, message
    del objects[f"{base}.json.gz"]
    plugins = review.check_stack_state("pr-12", "s3://b", ROOT, list_objects, get_object)
    assert plugins == (("aws", AWS_VERSION), ("docker", DOCKER_VERSION))


def test_the_state_command_writes_the_plugins_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    list_objects, get_object = bucket_with(
        {".pulumi/stacks/fargate-app/pr-12.json": json.dumps(CLEAN).encode()}
    )
    monkeypatch.setattr(review, "aws_list_objects", list_objects)
    monkeypatch.setattr(review, "aws_get_object", get_object)
    assert review.main(["state", "--stack", "pr-12", "--backend-url", "s3://b"]) == 0
    assert outputs.read_text().splitlines() == [
        f"plugins=aws@{AWS_VERSION} docker@{DOCKER_VERSION}"
    ]


def test_the_sweep_destroys_only_after_checking_the_state_with_plugin_acquisition_off() -> None:
    steps = action_steps()
    check = action_step("Check the review stack's state before destroying it")
    install = action_step("Install the Pulumi CLI to check the review stack's state")
    pulumi = pulumi_step()
    for command in ("up", "preview", "destroy"):
        for is_review in ("true", "false"):
            context = {"inputs": {"command": command, "review": is_review}}
            expected = command == "destroy" and is_review == "true"
            assert evaluate(check["if"], context) is expected, context
            assert evaluate(install["if"], context) is expected, context
    assert "command" not in install["with"], "no command: pulumi/actions only installs the CLI"
    assert install["uses"] == pulumi["uses"], "the same pinned pulumi/actions"
    credentials = next(i for i, s in enumerate(steps) if "configure-aws-credentials" in str(s))
    assert credentials < steps.index(check) < steps.index(pulumi)
    assert steps.index(install) < steps.index(check)
    assert "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true" in check["run"]
    assert '>> "$GITHUB_ENV"' in check["run"], "acquisition stays off for the destroy step"
    assert (
        "review_stacks.py state " in check["run"]
        and "pulumi plugin install resource" in check["run"]
    )
    assert "set -euo pipefail" in check["run"], "a refused state stops the job before the destroy"


def test_a_failed_lookup_keeps_that_stack_and_the_sweep_carries_on() -> None:
    def fetch(number: int) -> Any:
        if number == 2:
            raise review.GitHubError("GitHub answered GET pulls/2 with 403", 403)
        return review.PullRequest(number, "closed", (LABEL,))

    failures: list[str] = []
    removed = review.removals(live(1, 2, 3), fetch, SETTINGS, NOW, failures)
    assert [r["stack"] for r in removed] == ["pr-1", "pr-3"], removed
    assert len(failures) == 1 and "pr-2: kept" in failures[0] and "403" in failures[0], failures
    with pytest.raises(review.GitHubError):
        review.removals(live(2), fetch, SETTINGS, NOW)


def test_the_sweep_fails_at_the_end_naming_the_lookups_that_failed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setattr(review, "list_live_stacks", lambda url, root: live(2, 8))

    def fetch(self: Any, number: int) -> Any:
        if number == 8:
            raise review.GitHubError("GitHub did not answer GET pulls/8: timed out", None)
        return review.PullRequest(number, "closed", (LABEL,))

    monkeypatch.setattr(review.GitHub, "pull_request", fetch)
    assert review.main(["sweep", "--backend-url", "s3://b", "--repository", REPOSITORY]) == 0
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert json.loads(lines["remove"])["include"][0]["stack"] == "pr-2"
    assert "pr-8: kept" in lines["failed"]
    last = load(SWEEP_WORKFLOW)["jobs"]["lookups"]
    assert last["needs"] == ["find", "remove"] and last["permissions"] == {}
    assert evaluate(last["if"], {"needs": {"find": {"outputs": {"failed": lines["failed"]}}}})
    assert not evaluate(last["if"], {"needs": {"find": {"outputs": {"failed": ""}}}})
    assert "exit 1" in last["steps"][0]["run"]
    assert load(SWEEP_WORKFLOW)["jobs"]["find"]["outputs"]["failed"] == (
        "${{ steps.find.outputs.failed }}"
    )


def test_a_deploy_refused_by_the_cap_says_why_on_its_pull_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    github = FakeGitHub([])
    monkeypatch.setattr(review, "_github", lambda repository: github)
    full = live(*range(100, 100 + SETTINGS.max_live))
    monkeypatch.setattr(review, "list_live_stacks", lambda url, root: full)
    args = ["cap", "--stack", f"pr-{NUMBER}", "--backend-url", "s3://b", "--repository", REPOSITORY]
    assert review.main(args) == 1, "the deploy stops"
    (post,) = [c for c in github.calls if c[0] == "POST"]
    assert post[1] == f"issues/{NUMBER}/comments"
    assert f"pr-{NUMBER} is not deployed" in post[2]["body"] and "max-live" in post[2]["body"]
    github.calls.clear()
    monkeypatch.setattr(review, "list_live_stacks", lambda url, root: full[:-1])
    assert review.main(args) == 0
    assert not github.calls, "room under the cap: nothing to say"
    cap = action_step("Check the cap on live review stacks")
    assert '--repository "$REPOSITORY"' in cap["run"]
    assert cap["env"]["GITHUB_TOKEN"] == "${{ github.token }}"


def test_the_base_s_policy_waivers_are_copied_and_the_docs_say_so(tmp_path: Path) -> None:
    waivers = {"ecs-no-public-ip": "public subnets without NAT"}
    repo = base_with(tmp_path, {"aws:region": "us-east-1", "fargate-app:policyWaivers": waivers})
    config, _ = review.review_config(repo, "dev", BOUNDARY)
    assert config["fargate-app:policyWaivers"] == waivers
    assert "`policyWaivers`" in (ROOT / "docs" / "review-stacks.md").read_text()
