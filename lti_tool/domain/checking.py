"""Grading an answer: a pure function from (challenge, submitted value) to a result.

Answers come from a web form (strings, lists of strings, ``{key: string}``) and may be
anything: ``None``, the wrong shape, 100 000 characters, markup, control characters, lone
surrogates. None of that may raise: it is graded ``ko`` with a ``KoReason`` saying why, so the
player can store it and move on. Grading never evaluates or renders the answer.

As in CTFd's challenge plugins, each challenge type has one comparator in a registry
(``COMPARATORS``); free-text comparison is shared and applies the format's tolerances:

* always: Unicode NFC, non-breaking/narrow/thin spaces to spaces, typographic apostrophes,
  quotes and dashes to their ASCII forms (phones insert ``’`` on their own), zero-width
  characters removed, runs of white space collapsed, trim;
* ``t1``: NFKC (full-width forms), case folded, accents removed, ``œ``/``æ`` spelt out, all
  white space removed;
* ``t2``: punctuation and symbols removed;
* ``t3``: accepted when the Levenshtein distance is at most 25 % of the accepted answer's
  length. The distance is computed in a band of that width and only for answers of a
  plausible length, so hostile input cannot burn CPU.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from text_to_num import text2num

from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.formulas import Formula, FormulaError, parse_formula, same_computation
from lti_tool.domain.framework import (
    AnswerFormat,
    Challenge,
    ChallengeType,
    DependentSolution,
    Field,
    FieldsSolution,
    MultipleChoiceSolution,
    NumberSolution,
    SingleChoiceSolution,
    TextSolution,
    Tolerance,
)
from lti_tool.domain.units import split_unit

#: Answers longer than this factor times the longest accepted answer are ``ko`` at once.
LENGTH_FACTOR = 4
#: ...but never refuse an answer of this many characters or fewer (a short accepted answer
#: such as "42" must still allow "42 euros" to be *graded*, if only to be found wrong).
MIN_LENGTH_LIMIT = 16
#: Ratio of the Levenshtein distance to the accepted answer's length allowed by ``t3``.
TYPO_RATIO = 0.25
#: Longest numeric answer read at all.
MAX_NUMBER_LENGTH = 64
#: Largest index accepted for a proposal (no authored challenge comes close).
MAX_INDEX_DIGITS = 4


class KoReason(enum.StrEnum):
    """Why an answer was not accepted; stable codes the player may map to messages."""

    WRONG = "wrong"
    EMPTY = "empty"
    INVALID_SHAPE = "invalid-shape"
    OUT_OF_RANGE = "out-of-range"
    DUPLICATE = "duplicate"
    TOO_LONG = "too-long"
    CONTROL_CHARACTER = "control-character"
    INVALID_UNICODE = "invalid-unicode"
    MARKUP = "markup"
    NOT_A_NUMBER = "not-a-number"
    NOT_AN_OPTION = "not-an-option"
    UNKNOWN_FIELD = "unknown-field"
    MISSING_FIELD = "missing-field"
    SKIPPED = "skipped"
    TIMED_OUT = "timed-out"


@dataclass(frozen=True, slots=True)
class AnswerResult:
    """The grade of one answer.

    ``fields`` gives, for ``qrocm-*`` challenges, whether each field (by key, in the order of
    the challenge's fields) was accepted, so the feedback can point at the wrong ones.
    ``reason`` is ``None`` for an ``ok`` answer.
    """

    status: AnswerStatus
    reason: KoReason | None = None
    fields: tuple[tuple[str, bool], ...] = ()

    @property
    def is_ok(self) -> bool:
        """Whether the answer is accepted."""
        return self.status is AnswerStatus.OK

    def field_results(self) -> dict[str, bool]:
        """Per-field detail as a mapping (empty for non-``qrocm`` challenges)."""
        return dict(self.fields)


OK = AnswerResult(AnswerStatus.OK)

Comparator = Callable[[Challenge, object], AnswerResult]


def _ko(reason: KoReason, fields: tuple[tuple[str, bool], ...] = ()) -> AnswerResult:
    return AnswerResult(AnswerStatus.KO, reason, fields)


# --- text normalisation ---------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0/C1 controls except tab, line feed, carriage return; DEL; bidirectional overrides and
# isolates (used to disguise text); interlinear annotations; private "noncharacters".
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufff9-\ufffb\ufffe\uffff]"
)
# Invisible characters that copy-paste and some keyboards insert: removed, not refused.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_WHITESPACE = re.compile(r"\s+")
_MARKUP = re.compile(r"<\s*[/!?a-zA-Z]")
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
#: Abbreviations of place and person names written either way (« St-Aubin », « Saint Aubin »;
#: « Mme Martin », « Madame Martin »): under ``t1`` each is read as its full word, in the
#: answer and in the accepted answers alike. Whole words only, with or without a full stop.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mme": "madame", "mmes": "mesdames"}
_ABBREVIATION = re.compile(r"(?<![^\W_])(st|ste|mme|mmes)(?:\.|(?![^\W_]))")


def _clean(raw: object, limit: int) -> str | KoReason:
    """Validate a submitted string and apply the always-on normalisation.

    ``limit`` bounds the length of the cleaned answer; the raw string is checked against a
    looser bound first so that even NFC never runs on a huge input.
    """
    if not isinstance(raw, str):
        return KoReason.INVALID_SHAPE
    if len(raw) > 2 * limit + 64:
        return KoReason.TOO_LONG
    if _SURROGATE.search(raw):
        return KoReason.INVALID_UNICODE
    if _CONTROL.search(raw):
        return KoReason.CONTROL_CHARACTER
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", raw)).translate(_TYPOGRAPHY)
    text = _WHITESPACE.sub(" ", text).strip()
    if not text:
        return KoReason.EMPTY
    if len(text) > limit:
        return KoReason.TOO_LONG
    return text


def _fold(text: str, tolerances: frozenset[Tolerance]) -> str:
    """Apply ``t1`` and ``t2`` to an already cleaned string (answers and accepted alike)."""
    if Tolerance.T1 in tolerances:
        text = unicodedata.normalize("NFKC", text).casefold().translate(_LIGATURES)
        text = _ABBREVIATION.sub(lambda match: _ABBREVIATIONS[match.group(1)], text)
        decomposed = unicodedata.normalize("NFD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFC", _WHITESPACE.sub("", text))
    if Tolerance.T2 in tolerances:
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")
        text = _WHITESPACE.sub(" ", text).strip()
    return text


@lru_cache(maxsize=4096)
def _accepted_form(accepted: str, tolerances: frozenset[Tolerance]) -> str:
    """Normalised form of an accepted answer (memoised: content is immutable).

    When ``t2`` would erase an accepted answer entirely (an answer that *is* punctuation),
    the answer is compared without ``t2`` so that it stays answerable.
    """
    cleaned = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", accepted)).strip()
    cleaned = cleaned.translate(_TYPOGRAPHY)
    folded = _fold(cleaned, tolerances)
    if not folded:
        folded = _fold(cleaned, tolerances - {Tolerance.T2})
    return folded


def within_distance(a: str, b: str, max_distance: int) -> bool:
    """Whether the Levenshtein distance between ``a`` and ``b`` is at most ``max_distance``.

    Banded dynamic programming: only cells within ``max_distance`` of the diagonal can stay
    under the bound, so the cost is O(len × max_distance) and stops as soon as a whole row
    exceeds the bound.
    """
    if abs(len(a) - len(b)) > max_distance:
        return False
    if max_distance <= 0:
        return a == b
    if len(a) > len(b):
        a, b = b, a
    big = max_distance + 1
    previous = [j if j <= max_distance else big for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        low = max(1, i - max_distance)
        high = min(len(b), i + max_distance)
        current = [big] * (len(b) + 1)
        current[0] = i if i <= max_distance else big
        char = a[i - 1]
        row_best = current[0]
        for j in range(low, high + 1):
            cost = 0 if b[j - 1] == char else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost, big)
            current[j] = value
            row_best = min(row_best, value)
        if row_best > max_distance:
            return False
        previous = current
    return previous[len(b)] <= max_distance


def _text_matches(answer: str, accepted: str, tolerances: frozenset[Tolerance]) -> bool:
    """Compare a cleaned answer to one accepted answer under ``tolerances``."""
    expected = _accepted_form(accepted, tolerances)
    given = _fold(answer, tolerances) or _fold(answer, tolerances - {Tolerance.T2})
    if given == expected:
        return True
    if Tolerance.T3 in tolerances and expected:
        return within_distance(given, expected, int(TYPO_RATIO * len(expected)))
    return False


def _text_limit(accepted: Sequence[str]) -> int:
    longest = max((len(value) for value in accepted), default=0)
    return max(LENGTH_FACTOR * longest, MIN_LENGTH_LIMIT)


def _check_text(
    raw: object, accepted: Sequence[str], tolerances: frozenset[Tolerance]
) -> KoReason | None:
    """``None`` when ``raw`` matches one of ``accepted``, otherwise why not."""
    cleaned = _clean(raw, _text_limit(accepted))
    if isinstance(cleaned, KoReason):
        return cleaned
    if _MARKUP.search(cleaned) and not any("<" in value for value in accepted):
        return KoReason.MARKUP
    if any(_text_matches(cleaned, value, tolerances) for value in accepted):
        return None
    return KoReason.WRONG


# --- numbers --------------------------------------------------------------------------------

_SPACES = re.compile("[ \u00a0\u2007\u2009\u202f]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)")
_SPACE_GROUPED = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?")
_DOT_GROUPED = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_COMMA_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
#: « 12. »: a full stop that ends the agent's sentence, not a decimal separator.
_FINAL_STOP = re.compile(r"(?<=\d)\.$")


def parse_number(raw: str) -> Decimal | None:
    """Read a number as a French agent types it; ``None`` if it is not one.

    Accepts full-width digits, a decimal comma or point, thousands grouped by (narrow,
    non-breaking) spaces ("1 234,5"), "1.234,5" and "1,234.5". A lone comma is decimal
    ("1,234" is 1.234, as in French). No exponents, units or expressions.
    """
    if len(raw) > MAX_NUMBER_LENGTH or _SURROGATE.search(raw) or _CONTROL.search(raw):
        return None
    text = unicodedata.normalize("NFKC", raw).translate(_TYPOGRAPHY).strip()
    text = _SPACES.sub(" ", text)
    text = re.sub(r"^([+-]) +", r"\1", text)
    text = _FINAL_STOP.sub("", text)
    if _PLAIN_NUMBER.fullmatch(text):
        normalised = text.replace(",", ".")
    elif _SPACE_GROUPED.fullmatch(text):
        normalised = text.replace(" ", "").replace(",", ".")
    elif _DOT_GROUPED.fullmatch(text):
        normalised = text.replace(".", "").replace(",", ".")
    elif _COMMA_GROUPED.fullmatch(text):
        normalised = text.replace(",", "")
    else:
        return None
    if normalised.startswith((".", "+.", "-.")):
        normalised = normalised.replace(".", "0.", 1)
    try:
        return Decimal(normalised)
    except InvalidOperation:
        return None


#: « 60.000 », « 5.400 »: a dot followed by exactly three digits is typed as a thousands
#: separator as often as a decimal point.
_LONE_DOT_THOUSANDS = re.compile(r"[+-]?\d{1,3}\.\d{3}")


def _unit_text(raw: str) -> str | None:
    """An answer normalised for reading a number and its unit (NFKC, typography, single
    spaces, trimmed); ``None`` when it holds what no answer may."""
    if _SURROGATE.search(raw) or _CONTROL.search(raw):
        return None
    text = unicodedata.normalize("NFKC", raw).translate(_TYPOGRAPHY)
    return _WHITESPACE.sub(" ", _SPACES.sub(" ", text)).strip()


def _thousands_reading(raw: str, units: tuple[str, ...]) -> Decimal | None:
    """The other reading of « 60.000 » (60 000), with or without a declared unit; ``None``
    when the answer is not written that way."""
    text = _unit_text(raw)
    if text is None:
        return None
    text = _FINAL_STOP.sub("", text)
    if units and not _LONE_DOT_THOUSANDS.fullmatch(text):
        text = split_unit(text, units) or text
    return Decimal(text.replace(".", "")) if _LONE_DOT_THOUSANDS.fullmatch(text) else None


def _number_with_unit(raw: str, units: tuple[str, ...]) -> Decimal | None:
    """A number followed by one of the declared unit spellings ("4 €", "12 Mo", "1 mois")."""
    text = _unit_text(raw)
    if text is None:
        return None
    head = split_unit(text, units)
    if not head:
        return None
    value = parse_number(head)
    return value if value is not None else parse_number_words(head)


#: Longest number written in words read at all (« quatre-vingt-dix-neuf mille… »).
MAX_NUMBER_WORDS_LENGTH = 80


def parse_number_words(raw: str) -> Decimal | None:
    """A whole number written in French words (« trois », « vingt et un », « onze »).

    Agents sometimes write small counts in words; « trois » is as right as « 3 ». Read with
    ``text_to_num`` (French grammar of numbers, hyphens or spaces); ``None`` for anything
    else, decimals in words included.
    """
    if len(raw) > MAX_NUMBER_WORDS_LENGTH or _SURROGATE.search(raw) or _CONTROL.search(raw):
        return None
    text = unicodedata.normalize("NFKC", raw).translate(_TYPOGRAPHY).strip().lower()
    text = text.removesuffix(".").rstrip()
    if not text or any(character.isdigit() for character in text):
        return None
    try:
        return Decimal(int(text2num(text, "fr")))
    except (ValueError, OverflowError):
        return None


# --- comparators per type -------------------------------------------------------------------


def _parse_index(raw: object, count: int) -> int | KoReason:
    """A 1-based proposal index from a form value (``"2"``) or an ``int``."""
    if isinstance(raw, bool):
        return KoReason.INVALID_SHAPE
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        if len(raw) > 32:
            return KoReason.TOO_LONG
        text = unicodedata.normalize("NFKC", raw).strip() if not _SURROGATE.search(raw) else ""
        if not text:
            return KoReason.EMPTY if not raw.strip() else KoReason.INVALID_SHAPE
        if not text.isascii() or not text.isdigit() or len(text) > MAX_INDEX_DIGITS:
            return KoReason.INVALID_SHAPE
        value = int(text)
    else:
        return KoReason.INVALID_SHAPE
    if not 1 <= value <= count:
        return KoReason.OUT_OF_RANGE
    return value


def _check_qcu(challenge: Challenge, answer: object) -> AnswerResult:
    solution = challenge.solution
    assert isinstance(solution, SingleChoiceSolution)
    if isinstance(answer, list | tuple) and len(answer) == 1:
        answer = answer[0]
    index = _parse_index(answer, len(challenge.proposals))
    if isinstance(index, KoReason):
        return _ko(index)
    return OK if index == solution.index else _ko(KoReason.WRONG)


def _check_qcm(challenge: Challenge, answer: object) -> AnswerResult:
    solution = challenge.solution
    assert isinstance(solution, MultipleChoiceSolution)
    if isinstance(answer, str | int) and not isinstance(answer, bool):
        answer = [answer]
    if not isinstance(answer, list | tuple | set | frozenset):
        return _ko(KoReason.INVALID_SHAPE)
    if not answer:
        return _ko(KoReason.EMPTY)
    if len(answer) > len(challenge.proposals):
        return _ko(KoReason.TOO_LONG)
    chosen: set[int] = set()
    for item in answer:
        index = _parse_index(item, len(challenge.proposals))
        if isinstance(index, KoReason):
            return _ko(index)
        if index in chosen:
            return _ko(KoReason.DUPLICATE)
        chosen.add(index)
    return OK if chosen == solution.indexes else _ko(KoReason.WRONG)


def _check_qroc(challenge: Challenge, answer: object) -> AnswerResult:
    if isinstance(answer, list | tuple) and len(answer) == 1:
        answer = answer[0]
    if challenge.answer_format is AnswerFormat.NUMBER:
        solution = challenge.solution
        assert isinstance(solution, NumberSolution)
        if not isinstance(answer, str):
            return _ko(KoReason.INVALID_SHAPE)
        if len(answer) > MAX_NUMBER_LENGTH:
            return _ko(KoReason.TOO_LONG)
        if not answer.strip():
            return _ko(KoReason.EMPTY)
        value = parse_number(answer)
        if value is None:
            value = parse_number_words(answer)
        if value is None and solution.units:
            value = _number_with_unit(answer, solution.units)
        if value is None:
            return _ko(KoReason.NOT_A_NUMBER)
        if value in solution.accepted or (
            _thousands_reading(answer, solution.units) in solution.accepted
        ):
            return OK
        return _ko(KoReason.WRONG)
    text_solution = challenge.solution
    assert isinstance(text_solution, TextSolution)
    tolerances = challenge.tolerances
    if challenge.answer_format is AnswerFormat.FORMULA:
        # A typo or a dropped « : » changes what a formula computes: only case and spaces
        # are folded before the formula itself is evaluated.
        tolerances = tolerances & _FORMULA_TOLERANCES
    reason = _check_text(answer, text_solution.accepted, tolerances)
    if challenge.answer_format is AnswerFormat.FORMULA and reason in _FORMULA_RETRY:
        # `=SI(A1<B2;…)` looks like markup to the text check; the formula parser refuses real
        # markup on its own.
        assert isinstance(answer, str)  # _check_text refuses any other shape first
        reason = _check_formula(answer, text_solution.accepted[0])
    return OK if reason is None else _ko(reason)


_FORMULA_RETRY = frozenset({KoReason.WRONG, KoReason.MARKUP})
_FORMULA_TOLERANCES = frozenset({Tolerance.T1})


@lru_cache(maxsize=256)
def _reference_formula(text: str) -> Formula:
    return parse_formula(text)


def _check_formula(answer: str, reference: str) -> KoReason | None:
    """A formula that computes what the reference computes is right, however it is written.

    Reached only for a well-formed answer that matched no accepted spelling; a text that is
    not a formula this module evaluates stays wrong.
    """
    try:
        typed = parse_formula(answer)
    except FormulaError:
        return KoReason.WRONG
    return None if same_computation(typed, _reference_formula(reference)) else KoReason.WRONG


def _option_or_reason(raw: object, field: Field) -> str | KoReason:
    """Drop-down value: must be one of the options exactly (no tolerance)."""
    assert field.options is not None
    if not isinstance(raw, str):
        return KoReason.INVALID_SHAPE
    if not raw.strip():
        return KoReason.EMPTY
    if raw not in field.options:
        return KoReason.NOT_AN_OPTION
    return raw


def _field_values(challenge: Challenge, answer: object) -> dict[str, object] | KoReason:
    """Check the shape of a ``qrocm`` answer: a mapping over exactly the challenge's keys."""
    if not isinstance(answer, Mapping):
        return KoReason.INVALID_SHAPE
    keys = {field.key for field in challenge.fields}
    if len(answer) > len(keys) or any(
        not isinstance(key, str) or key not in keys for key in answer
    ):
        return KoReason.UNKNOWN_FIELD
    if len(answer) < len(keys):
        return KoReason.MISSING_FIELD
    # A form sends lists (``getlist``): one value per field is expected, several are refused.
    return {
        str(key): value[0] if isinstance(value, list | tuple) and len(value) == 1 else value
        for key, value in answer.items()
    }


def _all_wrong(challenge: Challenge) -> tuple[tuple[str, bool], ...]:
    return tuple((field.key, False) for field in challenge.fields)


def _worst(reasons: Sequence[KoReason]) -> KoReason:
    """Report a hostile or malformed field before a merely wrong or empty one."""
    for reason in reasons:
        if reason not in (KoReason.WRONG, KoReason.EMPTY):
            return reason
    return KoReason.WRONG


def _check_qrocm_ind(challenge: Challenge, answer: object) -> AnswerResult:
    solution = challenge.solution
    assert isinstance(solution, FieldsSolution)
    values = _field_values(challenge, answer)
    if isinstance(values, KoReason):
        return _ko(values, _all_wrong(challenge))
    detail: list[tuple[str, bool]] = []
    reasons: list[KoReason] = []
    for field in challenge.fields:
        accepted = solution.for_field(field.key)
        raw = values[field.key]
        reason: KoReason | None
        if field.options is not None:
            option = _option_or_reason(raw, field)
            if isinstance(option, KoReason):
                reason = option
            else:
                reason = None if option in accepted else KoReason.WRONG
        else:
            reason = _check_text(raw, accepted, challenge.tolerances)
        detail.append((field.key, reason is None))
        if reason is not None:
            reasons.append(reason)
    if not reasons:
        return AnswerResult(AnswerStatus.OK, None, tuple(detail))
    return _ko(_worst(reasons), tuple(detail))


def _max_matching(candidates: Sequence[Sequence[int]]) -> dict[int, int]:
    """Maximum bipartite matching field -> group (Kuhn's augmenting paths; sizes are tiny)."""
    owner: dict[int, int] = {}

    def augment(field_index: int, seen: set[int]) -> bool:
        for group in candidates[field_index]:
            if group in seen:
                continue
            seen.add(group)
            if group not in owner or augment(owner[group], seen):
                owner[group] = field_index
                return True
        return False

    for field_index in range(len(candidates)):
        augment(field_index, set())
    return {field_index: group for group, field_index in owner.items()}


def _check_qrocm_dep(challenge: Challenge, answer: object) -> AnswerResult:
    solution = challenge.solution
    assert isinstance(solution, DependentSolution)
    values = _field_values(challenge, answer)
    if isinstance(values, KoReason):
        return _ko(values, _all_wrong(challenge))
    candidates: list[list[int]] = []
    reasons: list[KoReason] = []
    for field in challenge.fields:
        raw = values[field.key]
        matches: list[int] = []
        if field.options is not None:
            option = _option_or_reason(raw, field)
            if isinstance(option, KoReason):
                reasons.append(option)
            else:
                matches = [i for i, group in enumerate(solution.groups) if option in group]
        else:
            all_accepted = [value for group in solution.groups for value in group]
            cleaned = _clean(raw, _text_limit(all_accepted))
            if isinstance(cleaned, KoReason):
                reasons.append(cleaned)
            elif _MARKUP.search(cleaned) and not any("<" in value for value in all_accepted):
                reasons.append(KoReason.MARKUP)
            else:
                matches = [
                    i
                    for i, group in enumerate(solution.groups)
                    if any(_text_matches(cleaned, value, challenge.tolerances) for value in group)
                ]
        candidates.append(matches)
    matching = _max_matching(candidates)
    detail = tuple((field.key, index in matching) for index, field in enumerate(challenge.fields))
    hostile = [reason for reason in reasons if reason not in (KoReason.WRONG, KoReason.EMPTY)]
    if hostile:
        return _ko(hostile[0], detail)
    if len(matching) >= solution.expected:
        return AnswerResult(AnswerStatus.OK, None, detail)
    return _ko(KoReason.WRONG, detail)


#: One comparator per challenge type. Comparators are pure and total: they never raise on
#: a submitted value, whatever its type.
COMPARATORS: Mapping[ChallengeType, Comparator] = {
    ChallengeType.QCU: _check_qcu,
    ChallengeType.QCM: _check_qcm,
    ChallengeType.QROC: _check_qroc,
    ChallengeType.QROCM_IND: _check_qrocm_ind,
    ChallengeType.QROCM_DEP: _check_qrocm_dep,
}


def check_answer(
    challenge: Challenge,
    answer: object,
    *,
    skipped: bool = False,
    timed_out: bool = False,
) -> AnswerResult:
    """Grade ``answer`` to ``challenge``.

    ``answer`` is what the form sent: ``"2"`` (qcu), ``["1", "3"]`` (qcm), ``"text"`` (qroc),
    ``{"key": "text"}`` (qrocm-*). ``skipped`` (the agent pressed "skip") and ``timed_out``
    (the timer ran out before submission) take precedence and leave the answer ungraded:
    both count as failed for the engine. Never raises on the answer's content.
    """
    if skipped:
        return AnswerResult(AnswerStatus.SKIPPED, KoReason.SKIPPED, _blank_fields(challenge))
    if timed_out:
        return AnswerResult(AnswerStatus.TIMEDOUT, KoReason.TIMED_OUT, _blank_fields(challenge))
    return COMPARATORS[challenge.type](challenge, answer)


def is_blank_answer(challenge: Challenge, answer: object) -> bool:
    """Whether the form carried no answer at all: nothing chosen, nothing typed.

    A blank answer is not graded (the page asks the agent to answer or to skip). Only the
    shapes the challenge's own form sends count as blank: anything else — unknown keys,
    several values where one is expected — is graded (``ko``) as before.
    """

    def blank(value: object) -> bool:
        if isinstance(value, str):
            return value.strip() == ""
        if isinstance(value, list | tuple):
            return all(isinstance(v, str) and v.strip() == "" for v in value)
        return value is None

    if challenge.type in (ChallengeType.QROCM_IND, ChallengeType.QROCM_DEP):
        if not isinstance(answer, dict):
            return blank(answer)
        keys = {f.key for f in challenge.fields}
        return set(answer) <= keys and all(blank(v) for v in answer.values())
    if isinstance(answer, dict):
        return False
    return blank(answer)


def _blank_fields(challenge: Challenge) -> tuple[tuple[str, bool], ...]:
    if challenge.type in (ChallengeType.QROCM_IND, ChallengeType.QROCM_DEP):
        return _all_wrong(challenge)
    return ()
