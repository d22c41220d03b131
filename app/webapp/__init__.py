"""The web service: a Flask application factory configured from the environment.

gunicorn serves `webapp.wsgi:app` (see gunicorn.conf.py); tests call `create_app()` directly,
optionally with their own `Settings`.
"""

from __future__ import annotations

import socket

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from webapp.settings import SERVICE_NAME, Settings

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; `settings` defaults to `Settings.from_env()` (raises SettingsError)."""
    settings = Settings.from_env() if settings is None else settings
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    # Behind the ALB every response is JSON; keep the bytes small and the key order stable.
    app.json.compact = True  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    hostname = socket.gethostname()

    @app.get("/")
    def index() -> Response:
        return jsonify(service=SERVICE_NAME, hostname=hostname, version=settings.app_version)

    def health() -> Response:
        # Answers from memory, touches no dependency: the ALB must only learn whether this
        # process can serve, never take every task out because a shared database is slow.
        response = jsonify(status="ok")
        response.headers["Cache-Control"] = "no-store"
        return response

    if settings.health_check_path != "/":  # otherwise the index, also a tiny 200, answers
        app.add_url_rule(settings.health_check_path, endpoint="health", view_func=health)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        # Werkzeug's error pages are HTML; clients of a JSON service expect JSON. Unhandled
        # exceptions arrive here as a 500 after Flask has logged them with their traceback.
        # get_response() keeps the error's own headers, such as Allow on a 405.
        response = error.get_response()
        response.data = app.json.dumps(
            {"error": {"status": error.code, "name": error.name, "message": error.description}},
            separators=(",", ":"),
        )
        response.content_type = "application/json"
        return response  # type: ignore[return-value]

    return app
