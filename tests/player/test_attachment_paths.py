"""Odd attachment paths end in 404, never in a server error or a file outside the folder."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    "path",
    [
        "/attachments/a%00b",
        "/attachments/a1-export-aides-ccas.csv%00.png",
        "/attachments/..%2f..%2fpyproject.toml",
        "/attachments/..%2F..%2Fpyproject.toml",
        "/attachments/%2e%2e/%2e%2e/pyproject.toml",
        "/attachments/../../pyproject.toml",
        "/attachments/..%5c..%5cpyproject.toml",
        "/attachments/%2fetc%2fpasswd",
        "/attachments//etc/passwd",
        "/attachments/" + "a" * 5000,
        "/attachments/" + "a/" * 3000 + "b",
        "/attachments/nothing-here.csv",
        "/attachments/",
    ],
)
def test_odd_attachment_paths_are_404(client: FlaskClient, path: str) -> None:
    # Werkzeug merges doubled slashes with a redirect inside /attachments/: follow it.
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 404, (path, response.status_code)


def test_a_real_attachment_is_served(client: FlaskClient) -> None:
    response = client.get("/attachments/a1-export-aides-ccas.csv")
    response.close()
    assert response.status_code == 200
