"""What every page of the tool needs, below the views that use it.

The app's services (:func:`socle`), the request's database session (:func:`db_session`,
:func:`transaction`), the launch behind the page token (:mod:`lti_tool.pages.launch`) and the
error page (:mod:`lti_tool.pages.errors`). The views of ``lti``, ``player``, ``reports`` and
``web`` import from here, never from each other's views: the layers stay one-way
(``tests/architecture/test_import_layers.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flask import current_app, g
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from lti_tool.app import SocleExtension


def socle() -> SocleExtension:
    """The application's :class:`lti_tool.app.SocleExtension`."""
    extension: SocleExtension = current_app.extensions["socle"]
    return extension


def db_session() -> Session:
    """The request's database session, closed at the end of the request."""
    session: Session | None = g.get("db_session")
    if session is None:
        session = socle().database.sessions()
        g.db_session = session
    return session


@contextmanager
def transaction() -> Iterator[Session]:
    """The request's session as one unit of work: committed at the end, rolled back on error.

    Reads made earlier in the request (the launch behind the page token) already began the
    session's transaction; this commits them together with the changes.
    """
    session = db_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
