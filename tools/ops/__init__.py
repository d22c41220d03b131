"""Operations CLI for the deployed app: `python -m tools.ops {run,status}` (boto3).

- cli.py      arguments, and every expected failure as one line
- outputs.py  the stack outputs (`pulumi stack output --json` or --outputs FILE)
- aws.py      clients, the service and its `app` container
- run.py      one-off tasks: start, follow to STOPPED, stream logs, exit with the container's code
- status.py   the service's state and the health rules
- logs.py     CloudWatch Logs: follow a stream, latest lines
- reasons.py  what to check for known stop reasons
- console.py  stdout/stderr and the injectable clock
- errors.py   exit codes
"""
