"""Reports computed from the LRS, not from Socle's database.

Why from the LRS: the profile promises that a consumer can answer "who finished, with which
levels" from the statements alone; ``socle report completions`` is that consumer, so it proves
the promise on every use and works for attempts whose database rows are gone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urljoin

import requests

from xapi import vocabulary as v
from xapi.delivery import XAPI_VERSION, LrsSettings
from xapi.outbox import LrsTarget


class LrsQueryError(RuntimeError):
    """The LRS did not answer a statements query with 200."""


@dataclass(frozen=True)
class Completion:
    """One ``completed`` statement, flattened for a table or a CSV line."""

    platform: str
    account: str
    name: str | None
    registration: str | None
    completed_at: str
    mastery: float | None
    duration: str | None
    pix: int | None
    levels: Mapping[str, int]


def query_statements(
    target: LrsTarget,
    params: Mapping[str, str],
    *,
    settings: LrsSettings,
    http: requests.Session | None = None,
    max_pages: int = 10_000,
) -> Iterator[dict[str, Any]]:
    """Yield the statements matching ``params``, following ``more`` links page after page."""
    session = http or requests.Session()
    try:
        yield from _pages(target, params, session, settings, max_pages)
    finally:
        if http is None:
            session.close()


def _pages(
    target: LrsTarget,
    params: Mapping[str, str],
    session: requests.Session,
    settings: LrsSettings,
    max_pages: int,
) -> Iterator[dict[str, Any]]:
    headers = {"X-Experience-API-Version": XAPI_VERSION}
    url: str | None = target.statements_url
    query: Mapping[str, str] | None = params
    for _ in range(max_pages):
        if url is None:
            return
        response = session.get(
            url,
            params=query,
            headers=headers,
            auth=(target.username, target.password),
            timeout=settings.timeouts,
        )
        if response.status_code != 200:
            raise LrsQueryError(
                f"LRS {target.name} answered HTTP {response.status_code} to {response.url}: "
                f"{response.text[:500]}"
            )
        page = response.json()
        yield from page.get("statements", [])
        more = page.get("more") or ""
        # ``more`` is relative to the LRS (often an absolute path): resolve it on the endpoint.
        url = urljoin(target.statements_url, more) if more else None
        query = None
    raise LrsQueryError(f"LRS {target.name}: more than {max_pages} pages, giving up")


def completion_of(statement: Mapping[str, Any], base_url: str) -> Completion:
    """Flatten one ``completed`` statement; tolerant of missing optional parts."""
    actor = statement.get("actor", {})
    account = actor.get("account", {})
    result = statement.get("result", {})
    extensions = result.get("extensions", {})
    levels_raw = extensions.get(v.extension_iri(base_url, "levels"), {})
    levels = {
        str(code): int(level)
        for code, level in (levels_raw.items() if isinstance(levels_raw, dict) else [])
    }
    pix = extensions.get(v.extension_iri(base_url, "pix"))
    scaled = result.get("score", {}).get("scaled")
    return Completion(
        platform=str(account.get("homePage", "")),
        account=str(account.get("name", actor.get("mbox", ""))),
        name=actor.get("name"),
        registration=statement.get("context", {}).get("registration"),
        completed_at=str(statement.get("timestamp", "")),
        mastery=float(scaled) if scaled is not None else None,
        duration=result.get("duration"),
        pix=int(pix) if isinstance(pix, int | float) else None,
        levels=levels,
    )


def completions(
    target: LrsTarget,
    base_url: str,
    parcours_id: str,
    *,
    settings: LrsSettings,
    http: requests.Session | None = None,
    page_size: int | None = None,
) -> list[Completion]:
    """Every completion of a parcours, oldest first: ``verb=completed&activity=<parcours>``.

    ``page_size`` asks the LRS for smaller pages (``limit``); the LRS's default otherwise.
    """
    params = {
        "verb": v.COMPLETED.iri,
        "activity": v.parcours_iri(base_url, parcours_id),
        "ascending": "true",
    }
    if page_size is not None:
        params["limit"] = str(page_size)
    return [
        completion_of(statement, base_url)
        for statement in query_statements(target, params, settings=settings, http=http)
    ]


def _competence_codes(rows: Sequence[Completion]) -> list[str]:
    codes = {code for row in rows for code in row.levels}
    return sorted(
        codes, key=lambda code: tuple(int(part) for part in code.split(".") if part.isdigit())
    )


def write_csv(rows: Sequence[Completion], out: TextIO) -> None:
    """One line per completion, one column per competence met in any completion."""
    codes = _competence_codes(rows)
    writer = csv.writer(out)
    writer.writerow(
        [
            "platform",
            "account",
            "name",
            "registration",
            "completed_at",
            "mastery",
            "duration",
            "pix",
            *codes,
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.platform,
                row.account,
                row.name or "",
                row.registration or "",
                row.completed_at,
                "" if row.mastery is None else f"{row.mastery:.4g}",
                row.duration or "",
                "" if row.pix is None else row.pix,
                *(row.levels.get(code, "") for code in codes),
            ]
        )


def render_table(rows: Sequence[Completion]) -> str:
    """A plain-text table for a terminal: who, when, score, levels."""
    header = ["account", "platform", "completed at", "score", "levels"]
    lines = [
        [
            row.account + (f" ({row.name})" if row.name else ""),
            row.platform,
            row.completed_at,
            "" if row.mastery is None else f"{round(row.mastery * 100)} %",
            " ".join(f"{code}:{level}" for code, level in sorted(row.levels.items())),
        ]
        for row in rows
    ]
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=False)
    ]
    buffer = io.StringIO()
    for cells in [header, *lines]:
        buffer.write(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)
            ).rstrip()
        )
        buffer.write("\n")
    buffer.write(f"{len(rows)} completion(s)\n")
    return buffer.getvalue()
