"""Offline plan: `python -m tools.plan <stack>` shows a stack's resources, monthly idle cost and
deploy time without an AWS account, the Pulumi CLI or Docker (the program runs under the mocks).

- cli.py     arguments, progress on stderr, exit codes, `--update-snapshots`
- model.py   find the project and its stacks, check the stack file as the Pulumi CLI does, run
             the stack's program, build the plan (plain data)
- refs.py    lookups from AWS IDs/ARNs back to resources, and how values print
- lookups.py what the models and the display both read from resources' inputs, and AWS's
             defaults for inputs a program may leave unset (each with its source)
- tree.py    the resource tree and each type's key settings (`@shows`)
- cost.py    prices (named constants with sources) and each type's idle cost (`@prices`)
- deploy.py  the time of one deploy (rolling, blue/green, canary, linear) and a rolling deploy's
             alarm watch, from the service, target group, task definition and alarms
- services.py  each service of a stack of several with its own idle cost and deploy time
- render.py  plain text of one plan, and of two side by side (`--compare`)

Imports go one way: cli -> model -> {cost, deploy, services, tree} -> {lookups, refs}, and render
formats the model's plain data without importing any of them (tests/test_plan.py holds the layers).
"""
