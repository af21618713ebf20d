"""Exports of the training reports: CSV and XLSX, one line per agent, streamed.

For the spreadsheets a training service already uses: French headers, ``;`` as separator and
a UTF-8 byte order mark (so Excel in a French locale opens the CSV with its accents and
columns right), XLSX written by openpyxl in write-only mode. Both are produced line by line
from :func:`lti_tool.reports.queries.iter_rows`: memory does not grow with the number of
agents (``benchmarks/reports.py`` measures 10 000 rows).

Every text cell goes through :func:`csv_cell` (CSV) or is typed as a string (XLSX): LMS ids
and names are chosen by whoever controls the account and must never reach a spreadsheet as a
formula.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from lti_tool.domain.framework import Content
from lti_tool.reports.analysis import (
    FINISHED,
    IN_PROGRESS,
    NOT_STARTED,
    AgentRow,
    PlanLine,
)

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and carriage
# return, strips them and then does). OWASP "CSV Injection": prefix such a cell with an
# apostrophe, which makes it text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

STATUS_LABELS = {NOT_STARTED: "non commencé", IN_PROGRESS: "en cours", FINISHED: "terminé"}
CATEGORY_LABELS = {"A": "A", "B": "B", "C": "C", "contractuel": "contractuel"}
CHUNK_BYTES = 64 * 1024


def csv_cell(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows and never evaluates.

    Numbers stay numbers (a negative gap is a number, never text); every string starting with
    a formula trigger gets a ``'``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def agent_header(codes: Sequence[str], content: Content) -> list[str]:
    areas = [area.code for area in content.areas]
    return [
        "Agent (identifiant)",
        "Nom",
        "Cours",
        "Activité",
        "Famille de métiers",
        "Catégorie",
        "Statut",
        "Palier",
        "Passages",
        "Début",
        "Fin",
        "Durée (min)",
        "Maîtrise (%)",
        *(f"Ressenti domaine {code} (1-4)" for code in areas),
        *(part for code in codes for part in (f"Niveau {code}", f"Écart {code}")),
    ]


def agent_line(
    row: AgentRow, codes: Sequence[str], content: Content, *, names: bool
) -> list[object]:
    family = content.job_profiles.get(row.job_family or "")
    return [
        row.sub,
        (row.name or "") if names else "",
        row.course or "",
        row.activity or "",
        family.title.get("fr") if family else "",
        CATEGORY_LABELS.get(row.category or "", ""),
        STATUS_LABELS.get(row.status, row.status),
        "" if row.stage is None else row.stage + 1,
        row.attempts,
        row.started_at.isoformat(timespec="seconds") if row.started_at else "",
        row.finished_at.isoformat(timespec="seconds") if row.finished_at else "",
        "" if row.duration_seconds is None else round(row.duration_seconds / 60, 1),
        "" if row.mastery is None else round(row.mastery * 100),
        *(row.feelings.get(area.code, "") for area in content.areas),
        *(
            part
            for code in codes
            for part in (
                row.levels.get(code, ""),
                "" if row.gap(code) is None else row.gap(code),
            )
        ),
    ]


PLAN_HEADER = [
    "Besoin",
    "Intitulé",
    "Compétence",
    "Agent (identifiant)",
    "Nom",
    "Famille de métiers",
    "Catégorie",
    "Niveau mesuré",
    "Niveau attendu",
    "Écart",
]


def plan_line(line: PlanLine, content: Content, *, names: bool) -> list[object]:
    family = content.job_profiles.get(line.row.job_family or "")
    return [
        line.subject,
        line.subject_title,
        line.code,
        line.row.sub,
        (line.row.name or "") if names else "",
        family.title.get("fr") if family else "",
        CATEGORY_LABELS.get(line.row.category or "", ""),
        "" if line.level is None else line.level,
        "" if line.expected is None else line.expected,
        "" if line.gap is None else line.gap,
    ]


def stream_csv(header: Sequence[str], lines: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV, a few kilobytes at a time: BOM, header, then each line as it is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    for line in lines:
        writer.writerow([csv_cell(value) for value in line])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(
    header: Sequence[str], lines: Iterable[Sequence[object]], out: IO[bytes], *, title: str
) -> None:
    """The workbook in openpyxl's write-only mode: each row goes to a temporary file as it
    is appended, none stays in memory."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "B2"
    sheet.append(list(header))
    for line in lines:
        sheet.append([_xlsx_cell(sheet, value) for value in line])
    workbook.save(out)


def _xlsx_cell(sheet: Any, value: object) -> object:
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with "=" as a formula: force a text cell.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def stream_xlsx(
    header: Sequence[str], lines: Iterable[Sequence[object]], *, title: str
) -> Iterator[bytes]:
    """The XLSX file in chunks, read back from a temporary file once written (a zip cannot be
    streamed before its directory is written)."""
    with tempfile.TemporaryFile() as spool:
        write_xlsx(header, lines, spool, title=title)
        spool.seek(0)
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
