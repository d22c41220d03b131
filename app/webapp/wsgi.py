"""The WSGI entry point gunicorn imports: `webapp.wsgi:app`."""

from webapp import create_app

app = create_app()
