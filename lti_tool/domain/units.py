"""Units of numeric answers: what an agent may type after (or, for currencies, before) a number.

A numeric challenge that asks for an amount « en euros », « en Mo » or « en mois » must accept
"4 €", "4 euros", "12 Mo", "12 MB" and "1 mois" as well as the bare number: the unit is part of
a correct answer, never a reason to refuse it. A *different* unit ("12 Go" where Mo is asked)
is not silently converted: it is graded wrong, like any other wrong answer, because reading
the unit is part of the competence measured.

Content declares a unit on a ``format: number`` challenge either by the name of a preset below
(``unit: euros``) or as its own list of spellings (``unit: [km, kilomètre, kilomètres]``).
Spellings are compared after the same folding as ``t1`` (case, accents, spaces) and without a
final full stop ("min."), so each preset lists words, not their capitalised or accented
variants. NFKC folds superscripts, so "m³" and "m3" are one spelling.

A spelling may contain a digit ("m3", "m²") but never start with one, nor with a sign or a
decimal separator (``unit_spelling_problem``): the unit is only ever removed from the end of
the answer, whole, so its digit can never be read as part of the number ("193 m3" is 193,
not 1933).

Pure: standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Spellings per preset. The first is the symbol shown to agents and in statements.
PRESETS: dict[str, tuple[str, ...]] = {
    "euros": ("€", "euro", "euros", "eur"),
    "octets": ("o", "octet", "octets", "B", "byte", "bytes"),
    "ko": ("Ko", "kilooctet", "kilooctets", "kilo-octet", "kilo-octets", "kB", "KB", "Kio"),
    "mo": (
        "Mo",
        "megaoctet",
        "megaoctets",
        "mega-octet",
        "mega-octets",
        "MB",
        "Mio",
        "mega",
        "megas",
    ),
    "go": (
        "Go",
        "gigaoctet",
        "gigaoctets",
        "giga-octet",
        "giga-octets",
        "GB",
        "Gio",
        "giga",
        "gigas",
    ),
    "to": ("To", "teraoctet", "teraoctets", "tera-octet", "tera-octets", "TB", "Tio"),
    "secondes": ("s", "seconde", "secondes", "sec", "sec."),
    "minutes": ("min", "minute", "minutes", "mn", "min."),
    "heures": ("h", "heure", "heures", "hr", "hrs"),
    "jours": ("jours", "jour", "j"),
    "semaines": ("semaines", "semaine", "sem"),
    "mois": ("mois",),
    "ans": ("ans", "an", "annee", "annees"),
    "metres": ("m", "metre", "metres", "meter", "meters"),
    "kilometres": ("km", "kilometre", "kilometres"),
    "m2": ("m²", "m2", "metre carre", "metres carres", "metres carre", "metre carres"),
    "m3": ("m³", "m3", "metre cube", "metres cubes", "metres cube", "metre cubes"),
    "pixels": ("px", "pixel", "pixels"),
    "pourcent": ("%", "pour cent", "pourcent", "pourcents", "pour-cent"),
    "ppp": (
        "ppp",
        "ppi",
        "dpi",
        "pixels par pouce",
        "pixel par pouce",
        "px par pouce",
        "points par pouce",
        "point par pouce",
    ),
}
#: Symbols an agent may write before the number ("€4"), as is usual for currencies in English.
PREFIX_SYMBOLS = frozenset({"€", "$", "£"})
#: Longest unit spelling compared at all.
MAX_UNIT_LENGTH = 40

_SPACES = re.compile(r"\s+")


def fold_unit(text: str) -> str:
    """The comparable form of a unit spelling: NFKC, accents and case folded, no spaces, and
    a slash read as « par » (« pixels/pouce » = « pixels par pouce », « €/mois » = « € par
    mois »)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _SPACES.sub("", plain.casefold().replace("/", "par"))
    return folded[:-1] if len(folded) > 1 and folded.endswith(".") else folded


def unit_spellings(declared: str | Iterable[str]) -> tuple[str, ...]:
    """Spellings of a declared unit: a preset's (by name) or the list given, in order.

    Raises ``KeyError`` for an unknown preset name; the content loader reports it.
    """
    if isinstance(declared, str):
        return PRESETS[declared]
    return tuple(declared)


#: Characters a unit spelling must not start with: they would continue the number before it.
_NUMBER_CONTINUATIONS = frozenset("+-−.,")


def unit_spelling_problem(spelling: str) -> str | None:
    """Why ``spelling`` cannot be a unit spelling, or ``None`` if it can.

    A unit is written after a number, so it must not start with what could continue or be a
    number: a digit ("2 fichiers", "3m"), a sign or a decimal separator (",5 m").
    """
    text = unicodedata.normalize("NFKC", spelling).strip()
    if not text or len(spelling) > MAX_UNIT_LENGTH:
        return "is empty or too long"
    if text[0].isdigit() or text[0] in _NUMBER_CONTINUATIONS:
        return "starts with a digit, a sign or a decimal separator"
    return None


def count_noun(singular: str, plural: str | None = None) -> tuple[str, ...]:
    """Spellings of a counted noun ("3 personnes"): singular and plural (default: + s)."""
    return (plural or singular + "s", singular)


def split_unit(text: str, spellings: Iterable[str]) -> str | None:
    """Remove one accepted unit from the end (or a currency symbol from the start) of ``text``.

    Returns the remaining number text, or ``None`` if ``text`` ends with no accepted unit.
    ``text`` is already normalised (NFKC, typography, single spaces, trimmed). The unit must be
    separated from the number by a space or stand right after a digit, so "12 Mo" and "12Mo"
    lose their unit but "12 Mon" does not.
    """
    folded_units = sorted({fold_unit(s) for s in spellings if s}, key=len, reverse=True)
    stripped = text.rstrip()
    for unit in folded_units:
        if not unit or len(unit) > MAX_UNIT_LENGTH:
            continue
        # Compare the tail of the answer, folded the same way, character by character from
        # the end: folding may change lengths (accents), so fold growing suffixes.
        for cut in range(len(stripped) - 1, 0, -1):
            tail = stripped[cut:]
            folded_tail = fold_unit(tail)
            if len(folded_tail) > len(unit):
                break
            if folded_tail == unit:
                head = stripped[:cut].rstrip()
                if head and (head[-1].isdigit() or stripped[cut - 1] == " "):
                    return head
                break
    if stripped[:1] in PREFIX_SYMBOLS and any(fold_unit(stripped[0]) == u for u in folded_units):
        rest = stripped[1:].lstrip()
        return rest or None
    return None
