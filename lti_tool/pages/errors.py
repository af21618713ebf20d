"""The error page: what happened and what to do, in the agent's language."""

from __future__ import annotations

from flask import render_template


def render_error(message: str, advice: str, status: int, *, code: str = "") -> tuple[str, int]:
    return (
        render_template("error.html", message=message, advice=advice, status=status, code=code),
        status,
    )
