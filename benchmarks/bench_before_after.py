"""Compare two checkouts of the project side by side: `import stack_config` and the plan.

    git archive 64441bc | tar -x -C /tmp/before && git archive HEAD | tar -x -C /tmp/after
    venv/bin/python benchmarks/bench_before_after.py /tmp/before /tmp/after --repeat 9 --json

Each round runs every command once in each tree, in turn, so both see the same load (other jobs
on a shared machine); the numbers are medians of fresh processes. CPU time (user + sys of the
child) is reported beside wall time: under load it is far steadier. Also counted: the pulumi
modules `import stack_config` loads, and `python -X importtime`'s cumulative time for it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PULUMI_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_docker")
COUNT_PULUMI = (
    "import sys, stack_config; "
    f"print(sum(1 for m in sys.modules if m.split('.')[0] in {PULUMI_PACKAGES!r}))"
)


def commands(python: str) -> dict[str, list[str]]:
    return {
        "import stack_config": [python, "-c", "import stack_config"],
        "python -c pass": [python, "-c", "pass"],
        "plan dev": [python, "-m", "tools.plan", "dev", "-q"],
        "plan prod": [python, "-m", "tools.plan", "prod", "-q"],
    }


def wall_and_cpu(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and the child's user + sys CPU seconds of one fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        stderr = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime


def import_time_ms(python: str, cwd: Path) -> float:
    """`python -X importtime`'s cumulative microseconds for stack_config, in ms."""
    cmd = [python, "-X", "importtime", "-c", "import stack_config"]
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True)
    for line in result.stderr.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 3 and fields[2] == "stack_config":
            return int(fields[1]) / 1000
    raise SystemExit(f"no stack_config line in -X importtime's output in {cwd}")


def pulumi_modules(python: str, cwd: Path) -> int:
    cmd = [python, "-c", COUNT_PULUMI]
    return int(subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout)


def spread(samples: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples), 3),
        "min": round(min(samples), 3),
        "max": round(max(samples), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the earlier checkout")
    parser.add_argument("after", type=Path, help="the later checkout")
    parser.add_argument("--repeat", type=int, default=9, help="rounds (9)")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    args = parser.parse_args()
    python = sys.executable
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    cmds = commands(python)
    samples: dict[str, dict[str, list[float]]] = {tree: {} for tree in trees}
    loads = []
    for cwd in trees.values():
        wall_and_cpu(cmds["plan dev"], cwd)  # warm the file cache
    for _ in range(args.repeat):
        loads.append(round(os.getloadavg()[0], 2))
        for tree, cwd in trees.items():
            for name, cmd in cmds.items():
                wall, cpu = wall_and_cpu(cmd, cwd)
                samples[tree].setdefault(f"{name} wall s", []).append(wall)
                samples[tree].setdefault(f"{name} cpu s", []).append(cpu)
            samples[tree].setdefault("importtime ms", []).append(import_time_ms(python, cwd))
    results = {
        "load_average_1min": loads,
        "rounds": args.repeat,
        **{
            tree: {
                "pulumi modules after import stack_config": pulumi_modules(python, cwd),
                **{name: spread(values) for name, values in samples[tree].items()},
            }
            for tree, cwd in trees.items()
        },
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"load average (1 min) per round: {loads}")
    print(f"{'median (min-max)':<42}{'before':>26}{'after':>26}")
    for name in samples["before"]:
        cells = [
            f"{r['median']} ({r['min']}-{r['max']})"
            for r in (results["before"][name], results["after"][name])
        ]
        print(f"{name:<42}{cells[0]:>26}{cells[1]:>26}")
    key = "pulumi modules after import stack_config"
    print(f"{key:<42}{results['before'][key]:>26}{results['after'][key]:>26}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
