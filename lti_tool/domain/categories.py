"""The categories an agent may declare on the start page (optional).

The three categories of the French civil service (A: design and management, B: application,
C: execution) and contract agents (contractuel), who have none. Training services plan by
category (Rennes breaks its results down by it), so the reports group by it; an agent who
says nothing is counted as « non précisée », never guessed.
"""

from __future__ import annotations

from typing import Final

AGENT_CATEGORIES: Final = ("A", "B", "C", "contractuel")


def parse_category(value: object) -> str | None:
    """The declared category, or None for anything else (nothing, or a forged value)."""
    return value if isinstance(value, str) and value in AGENT_CATEGORIES else None
