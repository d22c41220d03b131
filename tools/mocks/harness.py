"""The recording harness: runs a whole Pulumi program under the AWS mocks and keeps everything it
registered (type, name, parent, provider, inputs, outputs, resource options, components' outputs),
its stack outputs, the invokes it made and the warnings it logged.

Shared by the tests and the offline plan (`python -m tools.plan`): both run the real program with a
stack's config (stack_files.py) and look at what it registers.
"""

from __future__ import annotations

import logging
import os
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from tools.mocks.aws import UNKNOWN, AwsMocks
from tools.mocks.ids import DEFAULT_REGION
from tools.mocks.stack_files import config_for_runtime, config_secret_keys


@dataclass
class RegisteredResource:
    """One resource the program registered, as the engine saw it."""

    type: str
    name: str
    urn: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    custom: bool
    parent: str
    provider: str
    protect: bool
    ignore_changes: list[str]
    depends_on: list[str]
    delete_before_replace: bool
    retain_on_delete: bool
    replace_on_changes: list[str] = field(default_factory=list)
    component_outputs: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.urn


def _plain(struct: Any) -> Any:
    """A registration's properties as plain Python values, without rehydrating resource
    references (which would start work on the engine thread's event loop): secrets are unwrapped,
    resource references become their URN, unknowns stay `UNKNOWN`."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            sig = value.get(rpc._special_sig_key)
            if sig == rpc._special_secret_sig:
                return convert(value.get("value"))
            if sig == rpc._special_resource_sig:
                return value.get("urn")
            if sig in (rpc._special_asset_sig, rpc._special_archive_sig):
                return {k: v for k, v in value.items() if k != rpc._special_sig_key}
            if sig == rpc._special_output_value_sig:
                return convert(value.get("value", UNKNOWN))
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)  # protobuf carries every number as a double
        return value

    return convert(json_format.MessageToDict(struct)) if struct is not None else {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock engine, also keeping what `new_resource` does not see: parent, provider, resource
    options (protect, ignore_changes, depends_on) and components' registered outputs."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.records: dict[str, RegisteredResource] = {}
        self.order: list[str] = []

    def RegisterResource(
        self, request: resource_pb2.RegisterResourceRequest
    ) -> resource_pb2.RegisterResourceResponse:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        record = RegisteredResource(
            type=request.type,
            name=request.name,
            urn=response.urn,
            id=registration.id or "",
            inputs=_plain(request.object),
            outputs=dict(registration.state),
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            protect=bool(getattr(request, "protect", False)),
            ignore_changes=list(request.ignoreChanges),
            depends_on=list(request.dependencies),
            delete_before_replace=bool(request.deleteBeforeReplace),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
            replace_on_changes=list(request.replaceOnChanges),
        )
        self.records[response.urn] = record
        self.order.append(response.urn)
        return response

    def RegisterResourceOutputs(
        self, request: resource_pb2.RegisterResourceOutputsRequest
    ) -> empty_pb2.Empty:
        if request.urn in self.records:
            self.records[request.urn].component_outputs = _plain(request.outputs)
        return super().RegisterResourceOutputs(request)


class Unknown:
    """A stack output whose value is not known until the resource exists (preview)."""

    def __repr__(self) -> str:
        return "<unknown>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown)

    def __hash__(self) -> int:
        return 0


@dataclass
class ProgramRun:
    """What a program registered under the mocks."""

    project: str
    stack: str
    preview: bool
    resources: list[RegisteredResource]
    outputs: dict[str, Any]
    invokes: list[tuple[str, dict[str, Any]]]
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)  # what `pulumi up` would print as warnings
    # IDs the program looked up rather than created (a data source's answer), named:
    # "sg-0f3a..." -> "CloudFront-VPCOrigins-Service-SG (looked up)".
    looked_up: dict[str, str] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> RegisteredResource:
        found = self.of_type(type_token)
        if len(found) != 1:
            names = ", ".join(r.name for r in found) or "none"
            raise AssertionError(f"expected exactly one {type_token}, found {len(found)}: {names}")
        return found[0]

    def named(self, name: str) -> RegisteredResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]

    def by_urn(self, urn: str) -> RegisteredResource:
        return next(r for r in self.resources if r.urn == urn)

    def children(self, parent: RegisteredResource) -> list[RegisteredResource]:
        return [r for r in self.resources if r.parent == parent.urn]

    @property
    def custom_resources(self) -> list[RegisteredResource]:
        return [
            r for r in self.resources if r.custom and not r.type.startswith("pulumi:providers:")
        ]


class _RecordingLog(logging.Logger):
    """Where the mocks' engine sends the program's pulumi.log messages; keeps the warnings."""

    def __init__(self) -> None:
        super().__init__("pulumi-program")
        self.warnings: list[str] = []

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.warnings.append(str(msg))


def run_program(
    program: Callable[[], Any] | str | Path,
    *,
    project: str,
    stack: str,
    config: Mapping[str, Any] | None = None,
    preview: bool = False,
    region: str | None = None,
    az_count: int | None = None,
    cwd: str | Path | None = None,
) -> ProgramRun:
    """Run `program` (a callable, or the path of a `__main__.py`) under the mocks.

    `config` keys may be bare (`cpu`) or namespaced (`aws:region`); values are native (as in a
    Pulumi.<stack>.yaml) and are handed over as the CLI would. An exception the program raises is
    returned in `.error`, not raised, so tests can assert on config errors. `az_count` is how
    many AZs the Region offers; by default the Region's own (tools/mocks/regions.py).
    """
    runtime_config = config_for_runtime(project, config or {})
    region = region or runtime_config.get("aws:region") or DEFAULT_REGION
    mocks = AwsMocks(region=region, preview=preview, az_count=az_count)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(runtime_config, config_secret_keys(project, config or {}))
    settings.ROOT.set(None)
    log = _RecordingLog()
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=preview, monitor=monitor, logger=log
    )
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()

    if isinstance(program, str | Path):
        path = Path(program).resolve()
        workdir = Path(cwd) if cwd else path.parent

        def run_main() -> None:
            runpy.run_path(str(path), run_name="__main__")

        body: Callable[[], Any] = run_main
    else:
        workdir = Path(cwd) if cwd else Path.cwd()
        body = program

    error: BaseException | None = None
    previous = Path.cwd()
    try:
        os.chdir(workdir)  # Pulumi runs programs from the project directory
        _sync_await(run_pulumi_func(body))
    except Exception as err:  # returned to the caller, which asserts on it
        error = err
    finally:
        os.chdir(previous)

    outputs = _stack_outputs() if error is None else {}
    records = [monitor.records[u] for u in monitor.order]
    looked_up = {
        str(answer["id"]): f"{answer['name']} (looked up)"
        for _, answer in mocks.answers
        if isinstance(answer.get("id"), str)
        and isinstance(answer.get("name"), str)
        and answer["id"] != answer["name"]
    }
    return ProgramRun(
        project, stack, preview, records, outputs, mocks.invokes, error, log.warnings, looked_up
    )


def _stack_outputs() -> dict[str, Any]:
    root = settings.get_root_resource()
    result: dict[str, Any] = {}
    for key, value in getattr(root, "outputs", {}).items():
        out = pulumi.Output.from_input(value)
        known = _sync_await(out.is_known())
        result[key] = _sync_await(out.future()) if known else Unknown()
    return result
