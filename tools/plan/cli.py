"""`python -m tools.plan`: arguments, progress on stderr, exit codes and snapshot updates.

Exit status: 0 planned; 1 the program failed (config errors, printed as `pulumi up` prints them);
2 bad usage (no such stack, wrong arguments).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from tools import urns
from tools.plan import model, render
from tools.plan.model import PlanError, Project, UsageError

SNAPSHOT_DIR = Path("tests") / "snapshots"  # under the project root
UPDATE_COMMAND = "python -m tools.plan --update-snapshots"

DESCRIPTION = """\
Show what a stack would create, what it costs idle each month and how long one deploy takes,
without an AWS account, the Pulumi CLI or Docker: the real program runs under Pulumi's mocks.

  python -m tools.plan dev                  the plan of one stack (any Pulumi.<stack>.yaml)
  python -m tools.plan dev --json           the same as JSON
  python -m tools.plan --compare dev prod   two stacks side by side
  python -m tools.plan --update-snapshots   rewrite tests/snapshots/<stack>.txt for every
                                            committed stack (its Pulumi.<stack>.yaml in git),
                                            and the URN fixtures <variant>.urns built on them

Exit status: 0 planned, 1 the program failed (e.g. config errors, shown as `pulumi up` shows
them), 2 bad usage (e.g. no such stack).
"""


class Progress:
    """One progress line on stderr, rewritten in place on a terminal; silent with --quiet."""

    def __init__(self, err: TextIO, quiet: bool) -> None:
        self.err = err
        self.quiet = quiet
        self.tty = bool(getattr(err, "isatty", lambda: False)())

    def start(self, text: str) -> None:
        if not self.quiet:
            self.err.write(f"plan: {text}" + ("" if self.tty else "\n"))
            self.err.flush()

    def done(self, text: str) -> None:
        if not self.quiet:
            self.err.write(("\r\033[K" if self.tty else "") + f"plan: {text}\n")
            self.err.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stack", nargs="?", help="the stack to plan (Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--compare", nargs=2, metavar=("STACK", "STACK"), help="show two stacks side by side"
    )
    parser.add_argument("--json", action="store_true", help="write the plan as JSON to stdout")
    parser.add_argument(
        "--update-snapshots",
        action="store_true",
        help=f"rewrite {SNAPSHOT_DIR}/<stack>.txt for every stack whose Pulumi.<stack>.yaml git "
        "tracks, and the URN fixtures <variant>.urns of tools/urns.py's variants of those stacks "
        "(review the diff, commit it)",
    )
    parser.add_argument(
        "-C",
        "--cwd",
        type=Path,
        help="the project directory (default: the nearest with a Pulumi.yaml, as pulumi does)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    modes = sum([bool(args.stack), bool(args.compare), args.update_snapshots])
    progress = Progress(err, args.quiet)
    try:
        project = model.find_project(args.cwd)
        if modes != 1:
            stacks = ", ".join(project.stacks()) or "none"
            raise UsageError(
                f"name one stack, or --compare two, or --update-snapshots (stacks: {stacks})"
            )
        if args.update_snapshots:
            return _update_snapshots(project, out, progress)
        if args.compare:
            for stack in args.compare:  # both names, before planning either
                project.check_stack(stack)
            plans = [_plan(project, s, progress) for s in args.compare]
            if args.json:
                _json(out, {"compare": plans})
            else:
                out.write(render.render_compare(*plans))
            return 0
        plan = _plan(project, args.stack, progress)
        if args.json:
            _json(out, plan)
        else:
            out.write(render.render(plan))
        return 0
    except PlanError as error:
        if args.json and error.exit_code == 1:
            _json(out, {"error": error.message, "problems": error.problems})
        err.write(f"error: {error.message}\n")
        return error.exit_code


def _plan(project: Project, stack: str, progress: Progress) -> dict[str, Any]:
    project.check_stack(stack)
    progress.start(f"{stack}: running the program under Pulumi's mocks ...")
    started = time.perf_counter()
    try:
        plan = model.build_plan(stack, project)
    except PlanError:
        progress.done(f"{stack}: the program failed")
        raise
    progress.done(f"{stack}: {render.headline(plan)} ({time.perf_counter() - started:.1f} s)")
    return plan


def _json(out: TextIO, doc: dict[str, Any]) -> None:
    json.dump(doc, out, indent=2)
    out.write("\n")


def snapshot_path(project: Project, stack: str) -> Path:
    return project.root / SNAPSHOT_DIR / f"{stack}.txt"


def _update_snapshots(project: Project, out: TextIO, progress: Progress) -> int:
    """Rewrite the snapshot of every committed stack (what CI's clean clone has: a developer's
    untracked Pulumi.alice.yaml gets none), then the URN fixtures of the variants built on them,
    carrying on past a stack or variant whose program fails; those are reported at the end, with
    exit status 1, and keep their old files."""
    stacks = project.committed_stacks()
    if not stacks:
        raise UsageError(f"no committed Pulumi.<stack>.yaml in {project.root}")
    (project.root / SNAPSHOT_DIR).mkdir(parents=True, exist_ok=True)
    for local in sorted(set(project.stacks()) - set(stacks)):
        name = project.stack_file(local).name
        out.write(f"{name}: skipped (not in git; `git add {name}` to snapshot it)\n")
    failed: dict[str, PlanError] = {}
    for stack in stacks:
        path = snapshot_path(project, stack)
        try:
            text = render.render(_plan(project, stack, progress))
        except PlanError as error:
            failed[stack] = error
            out.write(f"{path.relative_to(project.root)}: not updated (the plan failed)\n")
            continue
        before = path.read_text() if path.exists() else None
        path.write_text(text)
        state = "unchanged" if before == text else ("created" if before is None else "updated")
        out.write(f"{path.relative_to(project.root)}: {state}\n")
    stale = sorted(p for p in (project.root / SNAPSHOT_DIR).glob("*.txt") if p.stem not in stacks)
    for path in stale:
        path.unlink()
        out.write(f"{path.relative_to(project.root)}: removed (no committed stack)\n")
    failed_variants = _update_urn_fixtures(project, stacks, set(failed), out, progress)
    problems = [f"{stack}: {error.message}" for stack, error in failed.items()]
    problems += [f"{name} (URNs): {message}" for name, message in failed_variants.items()]
    if problems:
        counts = [f"{len(failed)} of {len(stacks)} stacks failed to plan"] if failed else []
        counts += [f"{len(failed_variants)} URN variants failed"] if failed_variants else []
        raise PlanError(
            f"{' and '.join(counts)}; fix them and run `{UPDATE_COMMAND}` again:\n"
            + "\n".join(problems)
        )
    return 0


def _update_urn_fixtures(
    project: Project, stacks: list[str], failed: set[str], out: TextIO, progress: Progress
) -> dict[str, str]:
    """Rewrite the URN fixture of every variant (tools/urns.py) built on a committed stack whose
    plan succeeded; remove the fixtures of variants gone or built on no committed stack. Returns
    {variant: why} for the variants whose program failed (their fixture is left as it was)."""
    names = urns.variants_of(s for s in stacks if s not in failed)
    progress.start(f"URNs: running {len(names)} variants under Pulumi's mocks ...")
    started = time.perf_counter()
    failed_variants: dict[str, str] = {}
    for name in names:
        where = urns.fixture_path(name, project.root).relative_to(project.root)
        try:
            state = urns.update_fixture(name, project.root)
        except RuntimeError as error:
            failed_variants[name] = str(error)
            out.write(f"{where}: not updated (the program failed)\n")
            continue
        out.write(f"{where}: {state}\n")
    progress.done(f"URNs: {len(names)} variants ({time.perf_counter() - started:.1f} s)")
    for path in urns.stale_fixtures(project.root, kept=urns.variants_of(stacks)):
        path.unlink()
        out.write(f"{path.relative_to(project.root)}: removed (no variant of a committed stack)\n")
    return failed_variants
