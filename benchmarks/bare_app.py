"""The ceiling of the stack: a bare Flask + SQLAlchemy endpoint that inserts one row.

``benchmarks/load.py`` serves it with the same gunicorn settings as ``socle serve`` (same
worker and thread counts, same PostgreSQL) in the same run, so Socle's answers per second
are read as a share of what this machine, this database and this WSGI stack can do at all.

Run by hand: ``BARE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/x
.venv/bin/python -m gunicorn --workers 2 --threads 4 benchmarks.bare_app:app``.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from flask import Flask, request
from sqlalchemy import JSON, DateTime, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class BareAnswer(Base):
    """About the width of an answer row: an attempt id, a number, a small JSON response."""

    __tablename__ = "bare_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    response: Mapped[object] = mapped_column(JSON, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def create_schema(url: str) -> None:
    """Create the table once, before the workers start (concurrent CREATEs would collide)."""
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


def create_app(url: str | None = None) -> Flask:
    url = url or os.environ["BARE_DATABASE_URL"]
    engine = create_engine(url, pool_pre_ping=True)
    sessions = sessionmaker(engine, expire_on_commit=False)
    app = Flask(__name__)

    @app.post("/insert")
    def insert() -> tuple[str, int]:
        with sessions() as session, session.begin():
            session.add(
                BareAnswer(
                    attempt_id=request.form.get("attempt", str(uuid.uuid4())),
                    seq=int(request.form.get("seq", "1")),
                    response={"answer": request.form.get("answer", "")},
                    answered_at=datetime.now(UTC),
                )
            )
        return "ok", 200

    @app.get("/readyz")
    def ready() -> str:
        return "ok"

    return app


app = create_app() if "BARE_DATABASE_URL" in os.environ else None
