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
from typing import Any, Final, TextIO
from urllib.parse import urljoin, urlsplit

import requests

from xapi import vocabulary as v
from xapi.delivery import LrsSettings
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


MAX_PAGES: Final = 1000
"""Pages followed at most: beyond, the LRS's paging is broken or the query far too wide."""


def query_statements(
    target: LrsTarget,
    params: Mapping[str, str],
    *,
    settings: LrsSettings,
    http: requests.Session | None = None,
    max_pages: int = MAX_PAGES,
) -> Iterator[dict[str, Any]]:
    """Yield the statements matching ``params`` once each, following ``more`` defensively.

    Why defensive: an LRS's paging is a cursor we do not control. Learning Locker's statement
    service can hand the same statement on two pages, and a faulty LRS could send a ``more``
    that points back to a page already read, or to another host (which would receive our
    credentials). So: statements are de-duplicated by id, a ``more`` seen before or off the
    LRS's origin is refused, and at most ``max_pages`` pages are read.
    """
    session = http or requests.Session()
    seen: set[str] = set()
    try:
        for statement in _pages(target, params, session, settings, max_pages):
            statement_id = str(statement.get("id", "")).lower()
            if statement_id in seen:
                continue
            seen.add(statement_id)
            yield statement
    finally:
        if http is None:
            session.close()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _pages(
    target: LrsTarget,
    params: Mapping[str, str],
    session: requests.Session,
    settings: LrsSettings,
    max_pages: int,
) -> Iterator[dict[str, Any]]:
    headers = {"X-Experience-API-Version": settings.version_of(target)}
    url: str | None = target.statements_url
    query: Mapping[str, str] | None = params
    followed: set[str] = set()
    for _ in range(max_pages):
        if url is None:
            return
        response = session.get(
            url,
            params=query,
            headers=headers,
            auth=(target.username, target.password),
            timeout=settings.timeouts,
            allow_redirects=False,
        )
        if response.status_code != 200:
            raise LrsQueryError(
                f"LRS {target.name} answered HTTP {response.status_code} to {response.url}: "
                f"{response.text[:500]}"
            )
        try:
            page = response.json()
        except ValueError as exc:
            raise LrsQueryError(
                f"LRS {target.name} answered {response.url} with something else than JSON: "
                f"{response.text[:200]}"
            ) from exc
        statements = page.get("statements") if isinstance(page, dict) else None
        if not isinstance(statements, list):
            raise LrsQueryError(f"LRS {target.name}: no statement list in {response.url}")
        yield from (item for item in statements if isinstance(item, dict))
        more = page.get("more") or ""
        if not more:
            return
        # ``more`` is relative to the LRS (often an absolute path): resolve it on the endpoint.
        url = urljoin(target.statements_url, str(more))
        if _origin(url) != _origin(target.statements_url):
            raise LrsQueryError(
                f"LRS {target.name}: its 'more' link leaves the LRS ({url}); not followed"
            )
        if url in followed:
            raise LrsQueryError(f"LRS {target.name}: its 'more' links loop ({url})")
        followed.add(url)
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
    iri_base: str | None = None,
) -> list[Completion]:
    """Every completion of a parcours, oldest first: ``verb=completed&activity=<parcours>``.

    The parcours is named under ``iri_base`` (``SOCLE_XAPI_IRI_BASE``, the stable base of
    content activities), the extensions under ``base_url``, as the statements were built.
    ``page_size`` asks the LRS for smaller pages (``limit``); the LRS's default otherwise.
    """
    params = {
        "verb": v.COMPLETED.iri,
        "activity": v.parcours_iri(v.normalize_base_url(iri_base or base_url), parcours_id),
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
