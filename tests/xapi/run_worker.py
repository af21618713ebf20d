"""``python -m tests.xapi.run_worker worker`` — the real ``xapi`` CLI in a separate process.

The SIGKILL test needs a worker it can kill like an operator's process; it runs the command
group built by :func:`xapi.commands.create_commands`, configured by ``SOCLE_LRS_*`` variables
and ``XAPI_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy import create_engine

from xapi.commands import create_commands

if __name__ == "__main__":
    engine = create_engine(os.environ["XAPI_TEST_DATABASE_URL"])
    xapi_group, _report_group = create_commands(lambda: engine)
    try:
        xapi_group.main(sys.argv[1:], prog_name="xapi", standalone_mode=True)
    finally:
        engine.dispose()
