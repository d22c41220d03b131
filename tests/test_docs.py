"""The README is the front door and docs/ the manual: every relative link in them leads somewhere,
the README stays short, the index lists every page, and the README's set-up and test commands are
the ones CI runs (.ci/run)."""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
DOCS_INDEX = DOCS / "README.md"
CI_SCRIPT = ROOT / ".ci" / "run"

README_MAX_BYTES = 12 * 1024  # issue 9: a front door of about 12 KB; the manual lives in docs/
SETUP_SECTION = "## Set up, plan, test"
# The one command of the README's set-up section that CI does not run as a step of its own (the
# tests run the plan of every committed stack instead).
NOT_A_CI_STEP = ("venv/bin/python -m tools.plan ",)

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?([^\s>]+)>?(?:\s+\"[^\"]*\")?\s*$")
CODE_SPAN = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


# --- reading Markdown -----------------------------------------------------------------------------


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, where Markdown is rendered."""
    lines, in_fence = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            lines.append((number, line))
    return lines


def links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link and image, outside code blocks and code spans."""
    found = []
    for number, line in prose_lines(text):
        line = CODE_SPAN.sub("", line)
        found += [(number, target) for target in INLINE_LINK.findall(line)]
        found += [(number, target) for target in REFERENCE_LINK.findall(line)]
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text in lower case, punctuation other than - and _
    dropped, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file; repeats get -1, -2, ... as on GitHub."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(1))
            found.add(f"{base}-{counts[base]}" if base in counts else base)
            counts[base] = counts.get(base, 0) + 1
    return found


def broken_links(page: Path) -> list[str]:
    """Each relative link of `page` whose file, or whose #anchor in a Markdown file, is missing."""
    problems = []
    for number, target in links(page.read_text(encoding="utf-8")):
        if URL_SCHEME.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        shown = page.relative_to(ROOT) if page.is_relative_to(ROOT) else page.name
        where = f"{shown}:{number} ({target})"
        if not destination.exists():
            problems.append(f"{where}: no such file {destination}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{where}: {destination.name} has no heading with the anchor #{anchor}")
    return problems


# --- reading commands -----------------------------------------------------------------------------


def shell_commands(lines: list[str]) -> list[str]:
    """The commands of shell lines: comments dropped, `&&` chains split, spaces normalised."""
    commands = []
    for line in lines:
        for command in line.split("#", 1)[0].split("&&"):
            if command.strip():
                commands.append(" ".join(command.split()))
    return commands


def readme_setup_commands() -> list[str]:
    section = README.read_text(encoding="utf-8").split(f"\n{SETUP_SECTION}\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", section, re.DOTALL)
    return shell_commands([line for block in blocks for line in block.splitlines()])


def ci_commands() -> list[str]:
    lines = CI_SCRIPT.read_text(encoding="utf-8").splitlines()
    skip = ("set ", "cd ")
    return [c for c in shell_commands(lines[1:]) if not c.startswith(skip)]


def same_command(readme: str, ci: str) -> bool:
    """The README's command is CI's, but for options CI adds (--quiet, --no-audit, ...)."""
    words = readme.split()
    return [w for w in ci.split() if not (w.startswith("--") and w not in words)] == words


def is_setup(command: str) -> bool:
    words = command.split()
    creates_venv = words[1:3] == ["-m", "venv"]
    installs_requirements = "install" in words and "-r" in words
    return creates_venv or installs_requirements or words[:2] == ["npm", "ci"]


# --- the tests ------------------------------------------------------------------------------------


def test_the_readme_is_a_short_front_door() -> None:
    size = len(README.read_bytes())
    assert size < README_MAX_BYTES, (
        f"README.md is {size} bytes, over {README_MAX_BYTES}: move the detail to a page in docs/ "
        "and link to it"
    )


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    problems = [problem for page in pages() for problem in broken_links(page)]
    assert not problems, "links that lead nowhere:\n  " + "\n  ".join(problems)


def test_the_docs_index_lists_every_page() -> None:
    listed = {target.partition("#")[0] for _, target in links(DOCS_INDEX.read_text())}
    unlisted = [p.name for p in DOCS.glob("*.md") if p != DOCS_INDEX and p.name not in listed]
    assert not unlisted, f"docs/README.md does not link to {unlisted}"


def test_the_readme_links_to_the_docs_index() -> None:
    targets = {target for _, target in links(README.read_text())}
    assert "docs/README.md" in targets, "README.md must lead to the manual's index, docs/README.md"


def test_the_readme_sets_up_a_machine_as_ci_does() -> None:
    readme = [c for c in readme_setup_commands() if is_setup(c)]
    ci = [c for c in ci_commands() if is_setup(c)]
    assert ci, f"found no set-up commands in {CI_SCRIPT}"
    missing = [c for c in ci if not any(same_command(r, c) for r in readme)]
    extra = [r for r in readme if not any(same_command(r, c) for c in ci)]
    assert not missing and not extra, (
        f"README's set-up must be .ci/run's (less its quieting options):\n"
        f"  .ci/run has, README lacks: {missing}\n  README has, .ci/run lacks: {extra}"
    )


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    (ci_test,) = [c for c in ci_commands() if " -m pytest" in c]
    assert ci_test in readme_setup_commands(), (
        f"README's '{SETUP_SECTION}' must show the test command .ci/run runs: {ci_test}"
    )


def test_every_command_of_the_readme_set_up_is_one_ci_runs() -> None:
    ci = ci_commands()
    readme = [c for c in readme_setup_commands() if not c.startswith(NOT_A_CI_STEP)]
    strays = [r for r in readme if not any(same_command(r, c) for c in ci)]
    assert not strays, f"README's '{SETUP_SECTION}' shows commands .ci/run does not run: {strays}"


# --- the link checker itself ----------------------------------------------------------------------


def test_the_link_checker_reports_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## Exit codes: `tools.ops`\n\n## Notes\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "[ok](docs/page.md) [ok](docs/page.md#exit-codes-toolsops) [ok](#front) [web](https://x.y)\n"
        "# Front\n\n"
        "[gone](docs/gone.md) [bad anchor](docs/page.md#exit-codes) `[code](nowhere.md)`\n"
        "```\n[fenced](nowhere.md)\n```\n"
    )

    problems = broken_links(readme)

    assert len(problems) == 2, problems
    assert "README.md:4 (docs/gone.md): no such file" in problems[0]
    assert "page.md has no heading with the anchor #exit-codes" in problems[1]


def test_repeated_headings_get_numbered_anchors(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Deploys\n## Notes\n## Notes\n### Notes\n")

    assert anchors(page) == {"deploys", "notes", "notes-1", "notes-2"}


CI_DOC = DOCS / "ci.md"
SETUP_STEPS = "## One-time setup"
# Shell keywords that may start a command, and builtins: not programs a reader has to install.
SHELL_KEYWORDS = frozenset({"while", "until", "do", "done", "if", "then", "else", "fi", "!"})
SHELL_BUILTINS = frozenset({"cd", "read", "echo", "export", "set"})
OPERATORS = frozenset({"|", "||", "&&", ";", "&"})


def programs_run(section: str) -> set[str]:
    """The programs the section's bash blocks run: the first word of every command of every
    pipeline (quotes respected, continuation lines joined), shell keywords and builtins left
    out."""
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", section, re.DOTALL)
    text = "\n".join(blocks).replace("\\\n", " ")
    found = set()
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.commenters = "#"
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token not in OPERATORS:
                command.append(token)
                continue
            words = list(itertools.dropwhile(SHELL_KEYWORDS.__contains__, command))
            if words and words[0] not in SHELL_BUILTINS:
                found.add(words[0])
            command = []
    return found


def test_the_ci_set_up_steps_name_every_program_they_run() -> None:
    """A reader installs what the steps use before starting: each program is named, in code
    spans, in the section's opening paragraph (jq was once used without a word)."""
    section = CI_DOC.read_text(encoding="utf-8").split(f"\n{SETUP_STEPS}\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    opening = section.strip().split("\n\n", 1)[0]
    named = set(re.findall(r"`([^`\s]+)`", opening))
    programs = programs_run(section)
    assert {"pulumi", "gh", "jq"} <= programs, f"the parser missed a program: {programs}"
    missing = sorted(programs - named)
    assert not missing, (
        f"docs/ci.md's set-up steps run {missing} without saying so first; name them in the "
        f"opening paragraph of '{SETUP_STEPS}'"
    )


# The README's "__main__.py reads in the same order" line, by the component each phrase names.
ORDER_LINE = re.compile(r"`__main__.py` reads in the same order: (.*?)\. Each box", re.DOTALL)
COMPONENT_OF_PHRASE = {
    "network": "Network",
    "image": "ContainerImage",
    "secrets": "AppSecrets",
    "exec session record": "ExecSessions",
    "the workers' queues": "WorkQueue",
    "roles": "TaskRoles",
    "cluster": "Cluster",
    "service namespace": "ServiceNamespace",
    "certificate": "Certificate",
    "access logs": "AccessLogBucket",
    "load balancer": "LoadBalancer",
    "web ACL": "WebAcl",
    "CloudFront edge": "Edge",
    "DNS": "AliasRecords",
    "alarm topic": "AlarmTopic",
    "internal services": "AppService",
    "the app's container and service": "FargateService",
    "alarms": "Alarms",
    "scheduled jobs": "ScheduledTasks",
}


def test_the_readme_lists_the_components_in_the_order_main_creates_them() -> None:
    found = ORDER_LINE.search(README.read_text())
    assert found, "the README lost its '`__main__.py` reads in the same order: ...' line"
    phrases = [p.strip() for p in " ".join(found.group(1).split()).split(",")]
    named = [COMPONENT_OF_PHRASE[p] for p in phrases if p in COMPONENT_OF_PHRASE]
    assert len(named) == len(COMPONENT_OF_PHRASE), (
        f"the README's order line names {named}; expected every one of "
        f"{sorted(COMPONENT_OF_PHRASE.values())}"
    )
    program = (ROOT / "__main__.py").read_text()
    calls = {name: re.search(rf"\b{name}\(", program) for name in named}
    missing = [name for name, call in calls.items() if call is None]
    assert not missing, f"__main__.py creates none of {missing}"
    in_program = sorted(named, key=lambda name: calls[name].start())  # type: ignore[union-attr]
    assert named == in_program, (
        f"the README lists the components as {named}; __main__.py creates them as {in_program}"
    )
