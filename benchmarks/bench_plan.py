"""Benchmark the offline plan and the test suite: wall-clock numbers, repeatable, printed.

    venv/bin/python benchmarks/bench_plan.py                 # every stack, the plan tests, 2 CPUs
    venv/bin/python benchmarks/bench_plan.py --suite         # ... and the whole test suite
    venv/bin/python benchmarks/bench_plan.py --repeat 10 --json

What it measures (each run after `--warmup` discarded runs, so the OS file cache is warm):
- `python -m tools.plan <stack>` as a user runs it: a fresh process, imports included;
- `python -m tools.plan --compare` of the first two stacks;
- the plan in-process (imports done), split into running the program and building the plan;
- `pytest tests/test_plan.py`, and with --suite the whole suite (`pytest`, as CI runs it).

By default every process is pinned to 2 CPUs (`--cpus`), the machine size the budget is set for:
each stack must plan in under 3 s (the median of the fresh-process runs). Exit status 1 when a
stack is over budget, so CI may run it; it is a benchmark, not a test, and no test calls it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 3.0  # per stack, fresh process, on 2 CPUs (issue "Offline plan")


def pin_cpus(count: int) -> list[int]:
    """Restrict this process (and so every child) to `count` CPUs; returns the CPUs used."""
    if not hasattr(os, "sched_setaffinity") or count <= 0:
        return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    available = sorted(os.sched_getaffinity(0))
    chosen = available[:count]
    os.sched_setaffinity(0, chosen)
    return chosen


def cpu_model() -> str:
    """The CPU's model name (Linux), so the numbers say what machine they come from."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed(fn: Callable[[], Any], repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def run(cmd: list[str]) -> Callable[[], None]:
    def call() -> None:
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        # A failing test run is still a timing; a failing plan is not (it stops early).
        if result.returncode != 0 and "pytest" not in cmd:
            raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")

    return call


def stats(samples: list[float]) -> dict[str, float]:
    return {
        "runs": len(samples),
        "min_s": round(min(samples), 3),
        "median_s": round(statistics.median(samples), 3),
        "max_s": round(max(samples), 3),
    }


def in_process(stacks: list[str], repeat: int, warmup: int) -> dict[str, dict[str, Any]]:
    """The plan without interpreter start and imports: program run vs plan building."""
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from tools.plan import render
    from tools.plan.model import find_project, plan_of, run_stack

    project = find_project(ROOT)
    out = {}
    for stack in stacks:
        phases: dict[str, list[float]] = {"program": [], "plan": [], "render": []}
        for i in range(warmup + repeat):
            t0 = time.perf_counter()
            program_run = run_stack(project, stack)
            t1 = time.perf_counter()
            plan = plan_of(program_run, project)
            t2 = time.perf_counter()
            render.render(plan)
            t3 = time.perf_counter()
            if i >= warmup:
                phases["program"].append(t1 - t0)
                phases["plan"].append(t2 - t1)
                phases["render"].append(t3 - t2)
        out[stack] = {name: stats(samples) for name, samples in phases.items()}
    return out


def committed_stacks() -> list[str]:
    """The stacks CI has (their Pulumi.<stack>.yaml in git), as the snapshot tests use them."""
    sys.path.insert(0, str(ROOT))
    from tools.plan.model import find_project

    return find_project(ROOT).committed_stacks()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", nargs="+", default=None, help="default: every committed stack")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each plan (5)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded runs first (1)")
    parser.add_argument("--cpus", type=int, default=2, help="pin to this many CPUs; 0: all (2)")
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite")
    parser.add_argument("--suite-repeat", type=int, default=1, help="runs of each test suite (1)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()

    cpus = pin_cpus(args.cpus)
    stacks = args.stacks or committed_stacks()
    python = sys.executable
    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cpus_online": os.cpu_count(),
            "cpus_used": cpus,
        },
        "budget_s": BUDGET_S,
        "plan_fresh_process": {},
    }
    say = (lambda *_: None) if args.json else (lambda text: print(text, flush=True))
    say(
        f"python {results['machine']['python']} on {results['machine']['cpu']}, "
        f"CPUs used {cpus} of {os.cpu_count()}"
    )

    for stack in stacks:
        cmd = [python, "-m", "tools.plan", stack, "-q"]
        results["plan_fresh_process"][stack] = stats(timed(run(cmd), args.repeat, args.warmup))
    if len(stacks) >= 2:
        cmd = [python, "-m", "tools.plan", "--compare", *stacks[:2], "-q"]
        results["compare_fresh_process"] = stats(timed(run(cmd), args.repeat, args.warmup))
    results["plan_in_process"] = in_process(stacks, args.repeat, args.warmup)

    suites = {
        "tests/test_plan.py": [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_plan.py",
        ]
    }
    if args.suite:
        suites["whole suite"] = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    results["tests"] = {
        name: stats(timed(run(cmd), args.suite_repeat, 0)) for name, cmd in suites.items()
    }

    over = [s for s, r in results["plan_fresh_process"].items() if r["median_s"] >= BUDGET_S]
    results["over_budget"] = over
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results))
    return 1 if over else 0


def report(results: dict[str, Any]) -> str:
    def row(label: str, r: dict[str, float]) -> str:
        return (
            f"  {label:<34}{r['median_s']:>8.3f}{r['min_s']:>8.3f}{r['max_s']:>8.3f}{r['runs']:>6}"
        )

    lines = [f"  {'seconds':<34}{'median':>8}{'min':>8}{'max':>8}{'runs':>6}"]
    lines.append("python -m tools.plan <stack> (fresh process)")
    for stack, r in results["plan_fresh_process"].items():
        verdict = "ok" if r["median_s"] < results["budget_s"] else "OVER"
        lines.append(row(stack, r) + f"   budget {results['budget_s']} s: {verdict}")
    if "compare_fresh_process" in results:
        lines.append("python -m tools.plan --compare (fresh process)")
        lines.append(row("two stacks", results["compare_fresh_process"]))
    lines.append("in process, after imports")
    for stack, phases in results["plan_in_process"].items():
        for phase, r in phases.items():
            lines.append(row(f"{stack}: {phase}", r))
    lines.append("test suites")
    for name, r in results["tests"].items():
        lines.append(row(name, r))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
