"""`python -m tools.ops`: argument parsing, and turning every expected failure into one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    TokenRetrievalError,
)

from tools.ops import errors, run, status
from tools.ops.aws import SessionFactory, error_code, make_clients
from tools.ops.console import Clock, Console
from tools.ops.errors import OpsError
from tools.ops.outputs import StackOutputs, read_outputs_file, read_pulumi_outputs

# Error codes AWS uses for credentials it does not accept (as opposed to missing permissions).
BAD_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})

DESCRIPTION = """\
Operate the app's ECS service (or, with --service NAME, another of the stack's services) from a
terminal or CI, using a Pulumi stack's outputs (`pulumi stack output --json`, or a file given with
--outputs).

  run -- COMMAND...   run COMMAND in a one-off task of the service and exit with its exit code
  status              show deployments, events, target health, stopped tasks and recent logs;
                      exit 1 when the service is not healthy
"""


RUN_DESCRIPTION = """\
Run COMMAND in a one-off task of the service: the service's task definition, subnets, security
groups and capacity providers, with the `app` container's command replaced. Progress goes to
stderr, the task's log lines to stdout as CloudWatch receives them, and the tool exits with the
container's exit code.
"""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    source = common.add_mutually_exclusive_group()
    source.add_argument(
        "--stack",
        metavar="NAME",
        help="Pulumi stack to read outputs from (default: the selected stack)",
    )
    source.add_argument(
        "--outputs",
        metavar="FILE",
        type=Path,
        help="JSON file of stack outputs (`pulumi stack output --json > FILE`) instead of Pulumi",
    )
    common.add_argument(
        "--region", help="AWS region (default: AWS_REGION or the profile's region, as boto3 does)"
    )
    common.add_argument(
        "--service",
        metavar="NAME",
        help="one of the stack's services (its name in the services setting; default: the main "
        "service, app)",
    )
    common.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document on stdout and nothing else (progress stays on stderr)",
    )

    parser = argparse.ArgumentParser(
        prog="python -m tools.ops",
        description=DESCRIPTION,
        epilog=errors.EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,status}")

    run_parser = commands.add_parser(
        "run",
        parents=[common],
        help="run a command in a one-off task and exit with its exit code",
        description=RUN_DESCRIPTION,
        epilog=errors.EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run_parser.add_argument(
        "--timeout",
        type=_seconds,
        default=run.DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"stop the task and exit 124 if it runs longer (default {run.DEFAULT_TIMEOUT_S:.0f})",
    )
    run_parser.add_argument(
        "--start-timeout",
        type=_seconds,
        default=run.DEFAULT_START_TIMEOUT_S,
        metavar="SECONDS",
        help="stop the task and exit 125 if it has not started by then"
        f" (default {run.DEFAULT_START_TIMEOUT_S:.0f})",
    )
    run_parser.add_argument(
        "argv", nargs=argparse.REMAINDER, metavar="-- COMMAND...", help="the command to run"
    )

    status_parser = commands.add_parser(
        "status",
        parents=[common],
        help="show the service's state; exit 1 when it is not healthy",
        description=status.__doc__,
        epilog=errors.EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status_parser.add_argument(
        "--events",
        type=_count,
        default=status.DEFAULT_EVENTS,
        metavar="N",
        help=f"service events to show (default {status.DEFAULT_EVENTS})",
    )
    status_parser.add_argument(
        "--tasks",
        type=_count,
        default=status.DEFAULT_STOPPED_TASKS,
        metavar="N",
        help=f"stopped tasks to show (default {status.DEFAULT_STOPPED_TASKS})",
    )
    status_parser.add_argument(
        "--lines",
        type=_count,
        default=status.DEFAULT_LOG_LINES,
        metavar="N",
        help=f"log lines to show (default {status.DEFAULT_LOG_LINES})",
    )
    return parser


def _command_argv(raw: Sequence[str]) -> list[str]:
    argv = list(raw)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise OpsError("run needs a command after --, e.g. `run -- python -m app.migrate`")
    return argv


def _load_outputs(args: argparse.Namespace) -> StackOutputs:
    if args.outputs is not None:
        return read_outputs_file(args.outputs)
    return read_pulumi_outputs(args.stack)


def _explain_client_error(exc: ClientError) -> str:
    code = error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "")
    if code in BAD_CREDENTIAL_CODES:
        return f"AWS rejected the credentials ({code}: {message}); refresh them (`aws sso login`)"
    if code in ACCESS_DENIED_CODES:
        return f"AWS denied {exc.operation_name}: {message}"
    return f"AWS {exc.operation_name} failed: {code}: {message}"


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    session_factory: SessionFactory = boto3.Session,
) -> int:
    """Run the CLI; returns the exit code. `clock` and `session_factory` are for tests."""
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console(json_mode=args.json, out=sys.stdout, err=sys.stderr)
    clock = clock or Clock()
    try:
        command = _command_argv(args.argv) if args.command == "run" else []
        outputs = _load_outputs(args).select(args.service)
        clients = make_clients(args.region, session_factory)
        if args.command == "run":
            return run.run_command(
                clients, outputs, console, clock, command, args.timeout, args.start_timeout
            )
        return status.status_command(
            clients, outputs, console, clock, args.events, args.tasks, args.lines
        )
    except OpsError as exc:
        console.say(f"error: {exc}")
    except (NoCredentialsError, PartialCredentialsError):
        console.say(
            "error: no AWS credentials found; configure them (`aws configure`, `aws sso login`,"
            " AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        )
    except TokenRetrievalError as exc:
        console.say(f"error: the AWS SSO session has expired ({exc}); run `aws sso login`")
    except NoRegionError:
        console.say("error: no AWS region configured; set AWS_REGION or pass --region")
    except EndpointConnectionError as exc:
        endpoint = exc.kwargs.get("endpoint_url")
        console.say(f"error: cannot reach AWS at {endpoint}; check the network and proxy")
    except ClientError as exc:
        console.say(f"error: {_explain_client_error(exc)}")
    except BotoCoreError as exc:
        console.say(f"error: {exc}")
    except KeyboardInterrupt:
        console.say("interrupted")
        return errors.EXIT_INTERRUPTED
    return errors.EXIT_USAGE
