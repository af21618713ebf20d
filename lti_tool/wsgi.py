"""WSGI entry point for gunicorn: ``gunicorn lti_tool.wsgi:app``."""

from __future__ import annotations

from lti_tool.app import create_app

app = create_app()
