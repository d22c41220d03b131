"""The web app's behaviour through Flask's test client, its settings and its JSON log lines."""

import io
import json
import logging
import sys

import pytest
from webapp import create_app
from webapp.logs import JsonFormatter, configure_logging
from webapp.settings import Settings, SettingsError

CONTRACT_VARIABLES = (
    "PORT",
    "HEALTH_CHECK_PATH",
    "GRACEFUL_TIMEOUT",
    "WEB_CONCURRENCY",
    "LOG_LEVEL",
    "APP_VERSION",
)


@pytest.fixture
def client():
    return create_app(Settings()).test_client()


# --- routes ---------------------------------------------------------------------------------


def test_index_returns_service_hostname_and_version():
    client = create_app(Settings(app_version="1.2.3")).test_client()

    response = client.get("/")

    assert response.status_code == 200, f"GET / answered {response.status_code}, expected 200"
    assert response.is_json, f"GET / answered {response.content_type}, expected JSON"
    body = response.get_json()
    assert body["service"] == "webapp", f"GET / names the service {body['service']!r}"
    assert body["hostname"], "GET / does not say which host (task) answered"
    assert body["version"] == "1.2.3", f"GET / reports version {body['version']!r}, not APP_VERSION"


def test_index_reports_no_version_when_app_version_is_unset(client):
    body = client.get("/").get_json()

    assert body["version"] is None, f"without APP_VERSION, / reports version {body['version']!r}"


def test_health_check_answers_200_with_a_tiny_json_body(client):
    response = client.get("/health")

    assert response.status_code == 200, f"GET /health answered {response.status_code}"
    assert response.get_json() == {"status": "ok"}, f"GET /health answered {response.data!r}"
    assert len(response.data) < 64, f"the health check body is {len(response.data)} bytes"


def test_health_check_is_never_cached(client):
    response = client.get("/health")

    assert response.headers.get("Cache-Control") == "no-store", (
        "a cached health check could report a dead task as healthy"
    )


def test_health_check_path_follows_health_check_path_variable():
    settings = Settings.from_env({"HEALTH_CHECK_PATH": "/healthz"})
    client = create_app(settings).test_client()

    assert client.get("/healthz").status_code == 200, "HEALTH_CHECK_PATH=/healthz is not served"
    assert client.get("/health").status_code == 404, (
        "the default /health is still served after HEALTH_CHECK_PATH moved it"
    )


def test_unknown_path_answers_json_404(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404, f"an unknown path answered {response.status_code}"
    assert response.is_json, f"the 404 page is {response.content_type}, not JSON"
    assert response.get_json()["error"]["status"] == 404, f"404 body: {response.data!r}"


def test_wrong_method_answers_json_405_with_allowed_methods(client):
    response = client.post("/")

    assert response.status_code == 405, f"POST / answered {response.status_code}"
    assert response.is_json, f"the 405 page is {response.content_type}, not JSON"
    assert "GET" in response.headers.get("Allow", ""), "the 405 does not say which methods work"


def test_unhandled_error_answers_json_500_without_internals(caplog):
    app = create_app(Settings())

    @app.get("/boom")  # added to this test's own app instance only
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")

    assert response.status_code == 500, f"an unhandled error answered {response.status_code}"
    assert response.is_json, f"the 500 page is {response.content_type}, not JSON"
    assert b"secret detail" not in response.data, "the 500 body leaks the exception's text"
    assert any(r.exc_info for r in caplog.records), "the unhandled error was not logged"


# --- settings (the environment contract) ---------------------------------------------------


def test_settings_default_to_the_contract_values():
    settings = Settings.from_env({})

    assert settings == Settings(
        port=8000,
        health_check_path="/health",
        graceful_timeout_s=10,
        web_concurrency=2,
        log_level="info",
        app_version=None,
    ), f"defaults drifted from the documented contract: {settings}"


def test_settings_read_every_contract_variable():
    env = {
        "PORT": "9000",
        "HEALTH_CHECK_PATH": "/ping",
        "GRACEFUL_TIMEOUT": "25",
        "WEB_CONCURRENCY": "3",
        "LOG_LEVEL": "DEBUG",
        "APP_VERSION": "abc123",
    }

    settings = Settings.from_env(env)

    assert settings == Settings(
        port=9000,
        health_check_path="/ping",
        graceful_timeout_s=25,
        web_concurrency=3,
        log_level="debug",
        app_version="abc123",
    ), f"{env} was read as {settings}"


def test_settings_report_every_invalid_variable_at_once():
    env = {
        "PORT": "eighty",
        "HEALTH_CHECK_PATH": "health",
        "GRACEFUL_TIMEOUT": "0",
        "WEB_CONCURRENCY": "-1",
        "LOG_LEVEL": "loud",
    }

    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)

    message = str(raised.value)
    for name, value in env.items():
        assert f"{name}={value!r}" in message, f"the error does not name {name}: {message}"


def test_health_check_on_the_index_path_is_answered_by_the_index():
    # The stack config allows healthCheckPath "/"; the app must start and answer it.
    client = create_app(Settings.from_env({"HEALTH_CHECK_PATH": "/"})).test_client()

    response = client.get("/")

    assert response.status_code == 200, f"HEALTH_CHECK_PATH=/ answered {response.status_code}"


def test_create_app_reads_the_process_environment(monkeypatch):
    for name in CONTRACT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_VERSION", "from-env")

    body = create_app().test_client().get("/").get_json()

    assert body["version"] == "from-env", "create_app() ignored APP_VERSION in the environment"


# --- JSON log lines --------------------------------------------------------------------------


def make_record(message="hello %s", args=("world",), level=logging.INFO, **extra):
    record = logging.LogRecord("webapp", level, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_log_line_is_one_json_object_with_time_level_and_message():
    line = JsonFormatter().format(make_record())

    assert "\n" not in line, "one log record spans several lines (several CloudWatch events)"
    entry = json.loads(line)
    assert entry["message"] == "hello world", f"message is {entry.get('message')!r}"
    assert entry["level"] == "INFO", f"level is {entry.get('level')!r}"
    assert entry["logger"] == "webapp", f"logger is {entry.get('logger')!r}"
    assert entry["time"].endswith("+00:00"), f"time {entry.get('time')!r} is not UTC ISO 8601"


def test_log_line_carries_fields_passed_as_extra():
    entry = json.loads(JsonFormatter().format(make_record(order_id=7, path="/x")))

    assert entry["order_id"] == 7, f"extra field order_id missing from {entry}"
    assert entry["path"] == "/x", f"extra field path missing from {entry}"


def test_log_line_keeps_a_traceback_in_one_field():
    try:
        raise ValueError("bad thing")
    except ValueError:
        record = logging.LogRecord(
            "webapp", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    line = JsonFormatter().format(record)

    assert "\n" not in line, "the traceback split the log line"
    assert "ValueError: bad thing" in json.loads(line)["exception"], "the traceback is missing"


def test_log_line_survives_fields_that_are_not_json():
    entry = json.loads(JsonFormatter().format(make_record(when=object())))

    assert "object" in entry["when"], "a non-JSON field was dropped or broke the line"


def test_configure_logging_writes_json_lines_and_does_not_stack_handlers():
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        configure_logging("info", stream)
        handler = configure_logging("info", stream)
        ours = [h for h in root.handlers if h not in before[0]]
        logging.getLogger("webapp.test").info("ready", extra={"port": 8000})
    finally:
        for h in root.handlers[:]:
            if h not in before[0]:
                root.removeHandler(h)
        root.setLevel(before[1])

    assert ours == [handler], f"configure_logging twice left {len(ours)} handlers, expected 1"
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, f"expected one log line, got {lines}"
    assert json.loads(lines[0])["port"] == 8000, f"the line is not the JSON expected: {lines[0]}"
