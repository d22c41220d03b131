"""gunicorn as the container runs it: app/gunicorn.conf.py, a real process, real sockets.

Shutdown tests serve tests/fixtures/slow_wsgi.py (the production app plus a slow route) so a
request can be in flight when SIGTERM arrives. Every wait is bounded and every process started
here is killed, with its workers, in teardown.
"""

import contextlib
import http.client
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from gunicorn.config import Config

APP_DIR = Path(__file__).resolve().parents[1]
CONFIG_FILE = APP_DIR / "gunicorn.conf.py"
FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
SLOW_APP = "slow_wsgi:app"
# The production config plus a hook that stops the master while a worker is being forked.
SIGTERM_DURING_BOOT_CONFIG = FIXTURE_DIR / "sigterm_during_boot.conf.py"

# The contract's variables; the tests set them explicitly, so the developer's shell cannot leak in.
CONTRACT_VARIABLES = (
    "PORT",
    "HEALTH_CHECK_PATH",
    "GRACEFUL_TIMEOUT",
    "WEB_CONCURRENCY",
    "LOG_LEVEL",
    "APP_VERSION",
)
ALB_IDLE_TIMEOUT_S = 60  # the ALB's idle timeout, set by the infrastructure
GRACEFUL_TIMEOUT_S = 10  # the contract's default
STARTUP_LIMIT_S = 15.0
REQUEST_TIMEOUT_S = 5.0
LOG_WAIT_S = 5.0
SLOW_REQUEST_S = 2.0
IDLE_EXIT_LIMIT_S = 2.0  # no request in flight: exit "within a couple of seconds"
# gunicorn 27 keeps idle kept-alive connections for at most 2 s after SIGTERM, not the whole
# keepalive, so an answer already on its way is not cut off; allow for that and process exit.
KEPT_ALIVE_EXIT_LIMIT_S = 4.0
REFUSAL_LIMIT_S = 3.0


# --- helpers ---------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return probe.getsockname()[1]


def http_get(port, path, timeout=REQUEST_TIMEOUT_S):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Server:
    """A gunicorn master process started by a test, with its combined output in a file."""

    process: subprocess.Popen
    port: int
    output: Path

    def text(self):
        return self.output.read_text(errors="replace")

    def log_entries(self):
        """Complete output lines parsed as JSON; a line that is not JSON fails the test."""
        text = self.text()
        entries = []
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n"):
                break  # still being written
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                pytest.fail(f"gunicorn wrote a line that is not JSON: {line!r}")
        return entries

    def wait_for_log(self, description, predicate, timeout=LOG_WAIT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.log_entries():
                if predicate(entry):
                    return entry
            time.sleep(0.05)
        pytest.fail(f"gunicorn did not log {description} within {timeout} s:\n{self.text()}")

    def wait_until_serving(self):
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.text()}")
            try:
                if http_get(self.port, "/health", timeout=1.0)[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not answer within {STARTUP_LIMIT_S} s:\n{self.text()}")

    def sigterm(self):
        self.process.send_signal(signal.SIGTERM)
        return time.monotonic()

    def seconds_to_exit(self, since, limit):
        """Seconds from `since` until the master exited; fails if it is still up after `limit`."""
        try:
            self.process.wait(timeout=max(limit - (time.monotonic() - since), 0) + 1.0)
        except subprocess.TimeoutExpired:
            pytest.fail(f"gunicorn still running {limit} s after SIGTERM:\n{self.text()}")
        return time.monotonic() - since

    def kill(self):
        # The master leads its own process group, so this reaches its workers too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def launch(workdir, app_module=None, wait=True, config=CONFIG_FILE, **env_overrides):
    """Start gunicorn with the production config, the way the image's CMD does."""
    port = free_port()
    for name in ("home", "cwd", "tmp"):
        (workdir / name).mkdir(parents=True, exist_ok=True)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in CONTRACT_VARIABLES and not name.startswith("GUNICORN")
    }
    env.update(
        PORT=str(port),
        GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT_S),
        LOG_LEVEL="info",
        PYTHONPATH=str(FIXTURE_DIR),
        PYTHONDONTWRITEBYTECODE="1",
        HOME=str(workdir / "home"),
        TMPDIR=str(workdir / "tmp"),
    )
    env.update(env_overrides)
    output = workdir / f"gunicorn-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "--config", str(config)]
    if app_module:
        command.append(app_module)
    with output.open("w") as sink:
        process = subprocess.Popen(
            command,
            cwd=workdir / "cwd",
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, output)
    if wait:
        try:
            server.wait_until_serving()
        except BaseException:
            server.kill()
            raise
    return server


@pytest.fixture
def start_server(tmp_path):
    """Start gunicorn processes for one test; all are killed afterwards."""
    servers = []

    def start(app_module=None, **env):
        server = launch(tmp_path / str(len(servers)), app_module, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """The production app (`webapp.wsgi:app`) at LOG_LEVEL=info, shared by read-only tests."""
    server = launch(tmp_path_factory.mktemp("production"))
    yield server
    server.kill()


def access_entries(server, query):
    return [e for e in server.log_entries() if e.get("query") == query]


def load_config(monkeypatch, **env):
    """gunicorn's Config as gunicorn builds it from app/gunicorn.conf.py and `env`."""
    for name in CONTRACT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = Config()
    for name, value in runpy.run_path(str(CONFIG_FILE)).items():
        if name in cfg.settings:
            cfg.set(name, value)
    return cfg


# --- configuration ---------------------------------------------------------------------------


def test_config_defaults_match_the_contract(monkeypatch):
    cfg = load_config(monkeypatch)

    assert cfg.bind == ["0.0.0.0:8000"], f"default bind is {cfg.bind}, expected 0.0.0.0:8000"
    assert cfg.workers == 2, f"default workers is {cfg.workers}, expected 2"
    assert cfg.graceful_timeout == 10, f"default graceful_timeout is {cfg.graceful_timeout}"
    assert cfg.loglevel == "info", f"default log level is {cfg.loglevel}"


def test_config_follows_the_environment(monkeypatch):
    cfg = load_config(
        monkeypatch, PORT="9000", WEB_CONCURRENCY="3", GRACEFUL_TIMEOUT="20", LOG_LEVEL="warning"
    )

    assert cfg.bind == ["0.0.0.0:9000"], f"PORT=9000 gave bind {cfg.bind}"
    assert cfg.workers == 3, f"WEB_CONCURRENCY=3 gave {cfg.workers} workers"
    assert cfg.graceful_timeout == 20, f"GRACEFUL_TIMEOUT=20 gave {cfg.graceful_timeout}"
    assert cfg.loglevel == "warning", f"LOG_LEVEL=warning gave {cfg.loglevel}"


def test_keepalive_outlasts_the_alb_idle_timeout(monkeypatch):
    cfg = load_config(monkeypatch)

    assert cfg.keepalive > ALB_IDLE_TIMEOUT_S, (
        f"keepalive {cfg.keepalive} s is not above the ALB's {ALB_IDLE_TIMEOUT_S} s idle timeout: "
        "the ALB could reuse a connection gunicorn is closing and answer 502"
    )
    assert cfg.worker_class.__name__ != "SyncWorker", "the sync worker ignores keepalive"


def test_config_writes_nothing_on_the_read_only_root_filesystem(monkeypatch):
    cfg = load_config(monkeypatch)

    assert cfg.worker_tmp_dir in ("/dev/shm", "/tmp"), (
        f"worker heartbeat files go to {cfg.worker_tmp_dir}, outside the writable /tmp volume"
    )
    assert cfg.pidfile is None, f"gunicorn writes a pid file at {cfg.pidfile}"
    assert cfg.control_socket_disable, "gunicorn's control socket would be created under $HOME"


def test_invalid_environment_stops_gunicorn_with_a_plain_message(tmp_path):
    # WEB_CONCURRENCY must at least be a number: gunicorn itself parses it when it is imported.
    server = launch(tmp_path, wait=False, PORT="eighty", WEB_CONCURRENCY="0", LOG_LEVEL="loud")
    try:
        returncode = server.process.wait(timeout=STARTUP_LIMIT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail("gunicorn started despite PORT=eighty")
    output = server.text()

    assert returncode != 0, "gunicorn exited successfully with an invalid environment"
    assert "PORT='eighty'" in output, f"the error does not name PORT:\n{output}"
    assert "WEB_CONCURRENCY='0'" in output, f"the error does not name WEB_CONCURRENCY:\n{output}"
    assert "LOG_LEVEL='loud'" in output, f"the error does not name LOG_LEVEL:\n{output}"
    assert "Traceback" not in output, f"bad input produced a traceback:\n{output}"


# --- serving ---------------------------------------------------------------------------------


def test_serves_the_app_on_port(production_server):
    status, body = http_get(production_server.port, "/")

    assert status == 200, f"GET / through gunicorn answered {status}"
    assert json.loads(body)["service"] == "webapp", f"GET / through gunicorn answered {body!r}"


def test_keeps_connections_alive_between_requests(production_server):
    conn = http.client.HTTPConnection("127.0.0.1", production_server.port, timeout=5)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        first_socket = conn.sock
        conn.request("GET", "/health")
        second = conn.getresponse()
        second.read()
        second_socket = conn.sock
    finally:
        conn.close()

    assert second.status == 200, f"the second request on the connection got {second.status}"
    assert first_socket is not None and second_socket is first_socket, (
        "gunicorn closed the connection after one request; the ALB could not reuse it"
    )


# --- logs ------------------------------------------------------------------------------------


def test_access_log_line_has_method_path_status_and_duration(production_server):
    marker = f"access={uuid.uuid4().hex}"
    http_get(production_server.port, f"/?{marker}")

    entry = production_server.wait_for_log(
        f"an access line for /?{marker}", lambda e: e.get("query") == marker
    )

    assert entry["method"] == "GET", f"access line method: {entry}"
    assert entry["path"] == "/", f"access line path: {entry}"
    assert entry["status"] == 200, f"access line status: {entry}"
    assert isinstance(entry["duration_ms"], int | float), f"access line duration: {entry}"
    assert entry["level"] == "INFO" and entry["time"], f"access line time/level: {entry}"
    assert entry["message"] == "GET / 200", f"access line message: {entry}"


def test_health_checks_are_not_logged_at_info(production_server):
    marker = f"probe={uuid.uuid4().hex}"
    http_get(production_server.port, f"/health?{marker}")
    # A later request's line proves the health check's line would have been written by now.
    http_get(production_server.port, f"/?after-{marker}")
    production_server.wait_for_log(
        "the follow-up request", lambda e: e.get("query") == f"after-{marker}"
    )

    assert access_entries(production_server, marker) == [], (
        "a health check was access-logged at LOG_LEVEL=info; the ALB's checks every few seconds "
        "would flood the logs"
    )


def test_health_checks_are_logged_at_debug(start_server):
    server = start_server(LOG_LEVEL="debug")
    marker = f"probe={uuid.uuid4().hex}"
    http_get(server.port, f"/health?{marker}")

    entry = server.wait_for_log("the health check at debug", lambda e: e.get("query") == marker)

    assert entry["level"] == "DEBUG", f"health check logged at {entry['level']}, expected DEBUG"


def test_every_line_gunicorn_writes_is_json_with_time_level_and_message(start_server):
    server = start_server()
    http_get(server.port, "/")
    http_get(server.port, "/missing")
    server.seconds_to_exit(server.sigterm(), GRACEFUL_TIMEOUT_S)

    entries = server.log_entries()  # fails on any line that is not JSON

    assert len(entries) >= 5, f"expected startup, access and shutdown lines:\n{server.text()}"
    for entry in entries:
        missing = {"time", "level", "message"} - entry.keys()
        assert not missing, f"log line lacks {sorted(missing)}: {entry}"


def test_gunicorn_writes_no_files_outside_tmp(start_server, tmp_path):
    server = start_server()
    http_get(server.port, "/")
    server.seconds_to_exit(server.sigterm(), GRACEFUL_TIMEOUT_S)
    workdir = tmp_path / "0"

    written = list((workdir / "home").rglob("*")) + list((workdir / "cwd").rglob("*"))

    assert written == [], (
        f"gunicorn wrote {written}; on Fargate the root filesystem is read-only, only /tmp is not"
    )


# --- graceful shutdown -----------------------------------------------------------------------


@dataclass
class Drain:
    """What happened when SIGTERM arrived during a slow request."""

    status: int | None
    body: bytes
    refused_after_s: float | None  # None: new connections were still accepted
    in_flight_when_refused: bool  # the slow response had not arrived yet
    exited_after_s: float
    output: str


@pytest.fixture(scope="module")
def drain(tmp_path_factory):
    """Given a slow request in flight, when SIGTERM arrives, record what the server does."""
    server = launch(tmp_path_factory.mktemp("drain"), SLOW_APP)
    try:
        marker = uuid.uuid4().hex
        slow = http.client.HTTPConnection("127.0.0.1", server.port, timeout=GRACEFUL_TIMEOUT_S + 5)
        slow.request("GET", f"/slow?seconds={SLOW_REQUEST_S}&marker={marker}")
        server.wait_for_log("the slow request starting", lambda e: e.get("marker") == marker)

        signalled = server.sigterm()

        refused_after_s, in_flight_when_refused = None, False
        while time.monotonic() - signalled < REFUSAL_LIMIT_S:
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1.0).close()
            except ConnectionRefusedError:
                refused_after_s = time.monotonic() - signalled
                in_flight_when_refused = not select.select([slow.sock], [], [], 0)[0]
                break
            except OSError:
                pass
            time.sleep(0.05)
        try:
            response = slow.getresponse()
            status, body = response.status, response.read()
        except (OSError, http.client.HTTPException):
            status, body = None, b""
        finally:
            slow.close()
        exited_after_s = server.seconds_to_exit(signalled, GRACEFUL_TIMEOUT_S + 5)
        yield Drain(
            status, body, refused_after_s, in_flight_when_refused, exited_after_s, server.text()
        )
    finally:
        server.kill()


def test_in_flight_request_completes_after_sigterm(drain):
    assert drain.status == 200, (
        f"a request in flight at SIGTERM got {drain.status} instead of finishing:\n{drain.output}"
    )
    assert json.loads(drain.body)["slept_s"] == SLOW_REQUEST_S, f"unexpected body {drain.body!r}"


def test_new_connections_are_refused_while_draining(drain):
    assert drain.refused_after_s is not None, (
        f"new connections were still accepted {REFUSAL_LIMIT_S} s after SIGTERM"
    )
    assert drain.in_flight_when_refused, (
        "new connections were accepted until the in-flight request had finished"
    )


def test_exits_promptly_once_in_flight_requests_finish(drain):
    assert drain.exited_after_s < GRACEFUL_TIMEOUT_S, (
        f"gunicorn took {drain.exited_after_s:.1f} s to exit after SIGTERM with one "
        f"{SLOW_REQUEST_S} s request in flight; it must exit well within GRACEFUL_TIMEOUT "
        f"({GRACEFUL_TIMEOUT_S} s), before ECS's stopTimeout kills it"
    )


def test_idle_server_exits_within_two_seconds_of_sigterm(start_server):
    server = start_server()

    elapsed = server.seconds_to_exit(server.sigterm(), IDLE_EXIT_LIMIT_S)

    assert elapsed < IDLE_EXIT_LIMIT_S, f"an idle gunicorn took {elapsed:.1f} s to exit"
    assert server.process.returncode == 0, f"gunicorn exited with {server.process.returncode}"


def test_idle_kept_alive_connection_does_not_hold_shutdown(start_server):
    server = start_server()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()  # the connection now idles in gunicorn's keepalive

        elapsed = server.seconds_to_exit(server.sigterm(), KEPT_ALIVE_EXIT_LIMIT_S)
    finally:
        conn.close()

    assert elapsed < KEPT_ALIVE_EXIT_LIMIT_S, (
        f"an idle kept-alive connection held gunicorn for {elapsed:.1f} s after SIGTERM"
    )


def test_sigterm_while_a_worker_is_forked_is_not_lost(tmp_path):
    # The fixture config signals the master from inside a new worker before the worker has its
    # own handlers; gunicorn's stock worker would miss that SIGTERM and serve on until killed.
    server = launch(tmp_path, wait=False, config=SIGTERM_DURING_BOOT_CONFIG)
    try:
        elapsed = server.seconds_to_exit(time.monotonic(), GRACEFUL_TIMEOUT_S)
    finally:
        server.kill()

    assert elapsed < GRACEFUL_TIMEOUT_S / 2, (
        f"gunicorn took {elapsed:.1f} s to stop when SIGTERM met a worker still booting: the "
        f"worker missed the signal and lived until the {GRACEFUL_TIMEOUT_S} s graceful timeout"
    )
