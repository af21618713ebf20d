"""The background process of a deployment (``socle worker``): everything periodic, in one.

The xAPI delivery loop runs in the main thread (it owns the SIGTERM handling: the batch in
flight is delivered and marked before the process exits); the purge of expired rows and the
idle-attempt reports run in the thread ``socle xapi worker`` already starts; the grade sync
runs in a thread of its own, here. One process and one image instead of shell loops around
separate commands: one thing to supervise, one log, one place where a periodic job fails.

The tool's web processes still send a score in the background right after the attempt that
earned it ends (``GradeSync.kick``); this process retries what they could not send.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lti_tool.config import Settings


@contextmanager
def grade_sync_beside(settings: Settings, interval: float) -> Iterator[None]:
    """Run the grade sync every ``interval`` seconds while the body runs."""
    from lti_tool.db import Database
    from lti_tool.migrate import upgrade_database
    from lti_tool.player.grades import GradeSync

    upgrade_database(settings.database_url, secret_key=settings.secret_key)
    database = Database(settings.database_url)
    grades = GradeSync(database, settings, interval=interval)
    grades.kick()  # starts its thread, first pass now
    try:
        yield
    finally:
        grades.stop()
        database.dispose()
