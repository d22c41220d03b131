"""One stack name -> every name the delivery path derives from it, and the promotion order.

Pulumi accepts a stack name of 1 to 100 letters, digits, `-`, `_` and `.` (pulumi/pulumi:
sdk/go/common/tokens/stack_name.go, ParseStackName). The names derived from it live under stricter
rules, so each is mapped once, here, and read by the bootstrap, the workflows' stack list and the
tests:

| stack        | Sid part    | GitHub variables          | roles (logical names)      |
|--------------|-------------|---------------------------|----------------------------|
| `dev`        | `Dev`       | `AWS_ROLE_ARN_DEV`        | `github-deploy-dev`        |
| `eu-staging` | `EuStaging` | `AWS_ROLE_ARN_EU_STAGING` | `github-deploy-eu-staging` |
| `a.b_c`      | `ABC`       | `AWS_ROLE_ARN_A_B_C`      | `github-deploy-a.b_c`      |

- Sid: IAM allows only letters and digits (IAM User Guide, "IAM JSON policy elements: Sid"): each
  run of other characters ends a word, and each word starts upper-case (`eu-staging` -> EuStaging).
- GitHub variable names: letters, digits and `_`, not starting with a digit, compared without case
  (GitHub Docs, "Store information in variables", naming conventions): each run of other
  characters becomes `_` and the whole name is upper-cased (`eu-staging` -> EU_STAGING).
- Role names: IAM role names are at most 64 characters and unique without regard to case (IAM
  User Guide, "IAM and AWS STS quotas"); Pulumi names a role `<logical name>-<7 random
  characters>`. A stack name too long for that is cut and given a hash of the whole name.
- GitHub environments: a stack after the first deploys in the environment named like the stack,
  and is previewed in `<stack>-preview`; their OIDC subjects are `environment:<that name>`.

Two stack names that map to the same Sid, variable or role name (`eu-staging` and `eu_staging`,
`Prod` and `prod`) cannot live in one repository: `naming_problems` says so.

Review stacks (docs/review-stacks.md) are the other kind: never committed, one per pull request,
named `pr-<number>` (`review_stack`), and served as one family by one set of names (`REVIEW`):

- stacks: `pr-12`, `pr-345`, ...; as one IAM and S3 wildcard, `pr-*`;
- Sid part `Review`; roles `github-review-deploy` and `github-review-sweep`;
- GitHub variables `AWS_ROLE_ARN_PR`, `AWS_ROLE_ARN_PR_SWEEP`, `PULUMI_BACKEND_URL_PR`,
  `PERMISSIONS_BOUNDARY_PR`, `SECRETS_PROVIDER_PR`;
- GitHub environments `pr-review` (deploys, required reviewers) and `pr-sweep` (the scheduled
  removal, main only).

IAM and S3 match the whole family with one wildcard, `pr-*` (roles under `/<project>/pr-*/`, state
objects `.pulumi/stacks/<project>/pr-*`), so no committed stack may be named `pr` or start with
`pr` and a separator, in any case (its names would fall under the wildcard or take the family's
variables), nor map to the family's Sid part: `naming_problems` refuses them.

The promotion order, the one list a user edits to add a stack to the deploy, is
`.github/promotion.yml`: the first stack deploys on every push to main and is previewed by every
pull request; each later stack waits for approval in its GitHub environment, for deploys and
previews alike (its secrets are then readable only from a reviewed run).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# Pulumi's rule for a stack name (ParseStackName): 1 to 100 of these characters.
STACK_NAME_MAX = 100
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# IAM: a role name is at most 64 characters; Pulumi's autonaming adds "-" and 7 random characters.
IAM_ROLE_NAME_MAX = 64
PULUMI_AUTONAME_SUFFIX_CHARS = 8
# The bootstrap's component is named "github"; its roles are "github-deploy-<key>" and
# "github-preview-<key>", the longer of which bounds the key.
ROLE_NAME_PREFIXES = ("github-deploy-", "github-preview-")
ROLE_KEY_MAX = IAM_ROLE_NAME_MAX - PULUMI_AUTONAME_SUFFIX_CHARS - max(map(len, ROLE_NAME_PREFIXES))
ROLE_KEY_HASH_CHARS = 6  # 24 bits of sha256: only long names that share a prefix need it
PREVIEW_ENVIRONMENT_SUFFIX = "-preview"
CHECKPOINT_SUFFIX = ".json"  # Pulumi's checkpoint file: `<stack>.json` (and .json.gz, .json.bak)
# Review stacks: `pr-<pull request number>`; REVIEW_STACKS matches them all as IAM and S3 wildcards.
REVIEW_STACK_PREFIX = "pr-"
REVIEW_STACKS = f"{REVIEW_STACK_PREFIX}*"
REVIEW_STACK = re.compile(r"^pr-([1-9][0-9]{0,9})$")
# The first word (stack_names' split) that no committed stack may start with, in any case.
REVIEW_RESERVED_WORD = "pr"

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMOTION_FILE = Path(".github") / "promotion.yml"
PROMOTION_KEY = "order"


class StackNameError(ValueError):
    """Stack names or a promotion order that the delivery path cannot serve, one problem a line."""


@dataclass(frozen=True)
class StackNames:
    """What the delivery path calls one stack: see the module docstring for the rules."""

    stack: str
    sid: str
    variable_suffix: str
    role_key: str

    @property
    def deploy_role_variable(self) -> str:
        return f"AWS_ROLE_ARN_{self.variable_suffix}"

    @property
    def preview_role_variable(self) -> str:
        return f"AWS_ROLE_ARN_PREVIEW_{self.variable_suffix}"

    @property
    def backend_variable(self) -> str:
        return f"PULUMI_BACKEND_URL_{self.variable_suffix}"

    @property
    def variables(self) -> tuple[str, str, str]:
        return (self.deploy_role_variable, self.preview_role_variable, self.backend_variable)

    @property
    def deploy_environment(self) -> str:
        return self.stack

    @property
    def preview_environment(self) -> str:
        return f"{self.stack}{PREVIEW_ENVIRONMENT_SUFFIX}"


@dataclass(frozen=True)
class ReviewStackNames:
    """What the delivery path calls the review stacks, as one family (see the module docstring).

    names: the family's StackNames (`stack` is the wildcard REVIEW_STACKS), for the Sids, the role
        key and the deploy role's and backend's variables.
    deploy_environment: the GitHub environment, with required reviewers, in which a pull request's
        review stack is deployed; the review deploy role trusts only its jobs.
    sweep_environment: the GitHub environment, open to main only, in which the scheduled sweep
        removes review stacks; the sweep role trusts only its jobs.
    """

    names: StackNames
    deploy_environment: str
    sweep_environment: str

    @property
    def deploy_role_variable(self) -> str:
        return self.names.deploy_role_variable

    @property
    def sweep_role_variable(self) -> str:
        return f"{self.names.deploy_role_variable}_SWEEP"

    @property
    def backend_variable(self) -> str:
        return self.names.backend_variable

    @property
    def boundary_variable(self) -> str:
        return f"PERMISSIONS_BOUNDARY_{self.names.variable_suffix}"

    @property
    def secrets_provider_variable(self) -> str:
        return f"SECRETS_PROVIDER_{self.names.variable_suffix}"

    @property
    def variables(self) -> tuple[str, ...]:
        return (
            self.deploy_role_variable,
            self.sweep_role_variable,
            self.backend_variable,
            self.boundary_variable,
            self.secrets_provider_variable,
        )

    @property
    def deploy_subject(self) -> str:
        """The OIDC subject (after `repo:OWNER/NAME:`) of a review deploy job."""
        return f"environment:{self.deploy_environment}"

    @property
    def sweep_subject(self) -> str:
        """The OIDC subject of a sweep job."""
        return f"environment:{self.sweep_environment}"


REVIEW = ReviewStackNames(
    names=StackNames(
        stack=REVIEW_STACKS,
        sid="Review",
        variable_suffix=REVIEW_RESERVED_WORD.upper(),
        role_key=REVIEW_RESERVED_WORD,
    ),
    deploy_environment=f"{REVIEW_STACK_PREFIX}review",
    sweep_environment=f"{REVIEW_STACK_PREFIX}sweep",
)


def review_stack(pull_request: object) -> str:
    """The review stack of a pull request number (`12` or `"12"` -> `pr-12`); ValueError for
    anything that is not a pull request number."""
    text = str(pull_request).strip()
    stack = f"{REVIEW_STACK_PREFIX}{text}"
    if not REVIEW_STACK.match(stack):
        raise ValueError(f"{pull_request!r} is not a pull request number")
    return stack


def review_pull_request(stack: str) -> int | None:
    """The pull request number of a review stack (`pr-12` -> 12); None for any other name."""
    m = REVIEW_STACK.match(stack)
    return int(m.group(1)) if m else None


def _words(stack: str) -> list[str]:
    return [w for w in re.split(r"[^A-Za-z0-9]+", stack) if w]


def names_for(stack: str) -> StackNames:
    """The names derived from `stack` (which must be a valid Pulumi stack name), or the review
    stacks' family names for REVIEW_STACKS."""
    if stack == REVIEW_STACKS:
        return REVIEW.names
    if not STACK_NAME.match(stack):
        raise StackNameError(stack_name_problem(stack))
    sid = "".join(w[:1].upper() + w[1:] for w in _words(stack))
    suffix = re.sub(r"[^A-Za-z0-9]+", "_", stack).upper()
    key = stack
    if len(key) > ROLE_KEY_MAX:
        digest = hashlib.sha256(stack.encode()).hexdigest()[:ROLE_KEY_HASH_CHARS]
        key = f"{stack[: ROLE_KEY_MAX - ROLE_KEY_HASH_CHARS - 1]}-{digest}"
    return StackNames(stack=stack, sid=sid, variable_suffix=suffix, role_key=key)


def stack_name_problem(stack: object) -> str:
    return (
        f"{stack!r} is not a Pulumi stack name: 1 to {STACK_NAME_MAX} letters, digits, "
        "'-', '_' or '.'"
    )


def naming_problems(stacks: list[str]) -> list[str]:
    """Why these stacks cannot share one repository's delivery path: invalid names, and pairs
    whose derived names collide. Empty when all is well."""
    problems = [stack_name_problem(s) for s in stacks if not STACK_NAME.match(s)]
    valid = [names_for(s) for s in dict.fromkeys(stacks) if STACK_NAME.match(s)]
    derived = {
        "IAM statement id part": lambda n: n.sid.lower(),
        "GitHub variable suffix": lambda n: n.variable_suffix,
        "role name part": lambda n: n.role_key.lower(),
        "GitHub environment": lambda n: n.deploy_environment.lower(),
    }
    for what, key in derived.items():
        seen: dict[str, str] = {}
        for names in valid:
            other = seen.setdefault(key(names), names.stack)
            if other != names.stack:
                problems.append(
                    f"stacks {other!r} and {names.stack!r} map to the same {what} "
                    f"({key(names)!r}); rename one of them"
                )
    # A stack named like another's preview environment would share its GitHub environment.
    environments = {n.deploy_environment.lower(): n.stack for n in valid}
    for names in valid:
        clash = environments.get(names.preview_environment.lower())
        if clash is not None:
            problems.append(
                f"stack {clash!r} is named like the preview environment of {names.stack!r} "
                f"({names.preview_environment!r}); rename one of them"
            )
    problems += [p for names in valid if (p := _review_clash(names))]
    # A stack's checkpoint grant, `<stack>.json*` (state_bucket.PULUMI_STACK_STATE_KEYS), would
    # also reach the checkpoint of a stack named `<stack>.json...`.
    for names in valid:
        for longer in valid:
            if longer.stack.startswith(f"{names.stack}{CHECKPOINT_SUFFIX}"):
                problems.append(
                    f"stack {longer.stack!r} starts with {names.stack!r} and"
                    f" {CHECKPOINT_SUFFIX!r}: {names.stack}'s state grants would reach its"
                    " state file; rename it"
                )
    return problems


def _review_clash(names: StackNames) -> str | None:
    """Why a committed stack cannot share a repository with the review stacks, or None."""
    words = _words(names.stack)
    if words and words[0].lower() == REVIEW_RESERVED_WORD:
        return (
            f"stack {names.stack!r} starts with {REVIEW_RESERVED_WORD!r}, which names the review "
            f"stacks ({REVIEW_STACK_PREFIX}<pull request number>, docs/review-stacks.md): the "
            "review roles reach every such stack; rename it"
        )
    if names.sid.lower() == REVIEW.names.sid.lower():
        return (
            f"stack {names.stack!r} maps to the IAM statement id part {names.sid!r}, which the "
            "review stacks use; rename it"
        )
    return None


# --- the promotion order -------------------------------------------------------------------------


def promotion_order(root: Path = REPO_ROOT) -> list[str]:
    """The stacks in the order a push to main deploys them, as `.github/promotion.yml` lists
    them; StackNameError when the file is missing or not a list of stack names."""
    path = root / PROMOTION_FILE
    example = f"{PROMOTION_KEY}:\n  - dev\n  - prod"
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as err:
        raise StackNameError(f"cannot read {PROMOTION_FILE}: {err}") from None
    except yaml.YAMLError as err:
        raise StackNameError(f"{PROMOTION_FILE} is not valid YAML: {err}") from None
    order = document.get(PROMOTION_KEY) if isinstance(document, dict) else None
    if not isinstance(order, list) or not order or not all(isinstance(s, str) for s in order):
        raise StackNameError(
            f"{PROMOTION_FILE} must list the stacks in deploy order under `{PROMOTION_KEY}:`, "
            f"for example:\n{example}"
        )
    return order


def check_promotion(order: list[str], committed: list[str]) -> list[str]:
    """Why `order` cannot deploy the committed stacks: every committed stack is deployed exactly
    once, and nothing else."""
    problems = naming_problems(order)
    twice = sorted({s for s in order if order.count(s) > 1})
    if twice:
        problems.append(f"{PROMOTION_FILE} lists {', '.join(twice)} more than once")
    missing = [s for s in committed if s not in order]
    if missing:
        problems.append(
            f"committed stack(s) {', '.join(missing)} are not in {PROMOTION_FILE}: add each "
            "where it belongs in the deploy order"
        )
    unknown = [s for s in order if s not in committed]
    if unknown:
        problems.append(
            f"{PROMOTION_FILE} lists {', '.join(unknown)}, which git does not track as "
            "Pulumi.<stack>.yaml: commit the stack file or remove the name"
        )
    return problems


def is_gated(stack: str, order: list[str]) -> bool:
    """Whether `stack` deploys (and previews) only after approval in a GitHub environment: every
    stack but the first of the promotion order."""
    return stack != order[0]


def deploy_subject(stack: str, order: list[str]) -> str:
    """The OIDC subject (after `repo:OWNER/NAME:`) of the job that deploys `stack`. A job that
    declares an environment presents `environment:<name>`, one that does not presents its branch
    (GitHub Docs, "OpenID Connect reference", subject claims)."""
    if is_gated(stack, order):
        return f"environment:{names_for(stack).deploy_environment}"
    return "ref:refs/heads/main"


def preview_subject(stack: str, order: list[str]) -> str:
    """The OIDC subject of the job that previews `stack` for a pull request."""
    if is_gated(stack, order):
        return f"environment:{names_for(stack).preview_environment}"
    return "pull_request"
