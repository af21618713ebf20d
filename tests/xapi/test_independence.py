"""``xapi`` stays usable without the web app: importing it loads neither Flask nor lti_tool."""

from __future__ import annotations

import subprocess
import sys

from tests.xapi.lrs_peer import REPO


def test_xapi_imports_neither_flask_nor_lti_tool() -> None:
    code = (
        "import sys\n"
        "import xapi.builders, xapi.commands, xapi.delivery, xapi.outbox, xapi.profile\n"
        "import xapi.reports, xapi.status, xapi.vocabulary\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'lti_tool'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
