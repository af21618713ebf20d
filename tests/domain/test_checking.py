"""Answer checking: what must pass and what must fail, per type and tolerance."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from lti_tool.domain.answers import AnswerStatus
from lti_tool.domain.checking import (
    COMPARATORS,
    AnswerResult,
    KoReason,
    check_answer,
    parse_number,
    within_distance,
)
from lti_tool.domain.framework import Challenge, ChallengeType, Tolerance
from lti_tool.domain.units import PRESETS, count_noun, fold_unit, unit_spellings

from .factories import number, qcm, qcu, qroc, qrocm_dep, qrocm_ind

OK = AnswerStatus.OK
NONE: frozenset[Tolerance] = frozenset()
T1_ONLY = frozenset({Tolerance.T1})
T1_T2 = frozenset({Tolerance.T1, Tolerance.T2})


def _ok(challenge: Challenge, answer: object) -> None:
    result = check_answer(challenge, answer)
    assert result.status is OK, (answer, result)
    assert result.reason is None


def _ko(challenge: Challenge, answer: object, reason: KoReason) -> None:
    result = check_answer(challenge, answer)
    assert result.status is AnswerStatus.KO, (answer, result)
    assert result.reason is reason, (answer, result)


def test_every_type_has_a_comparator() -> None:
    assert set(COMPARATORS) == set(ChallengeType)


# --- qcu ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["2", 2, " 2 ", "２", ["2"], ("2",)])
def test_qcu_accepts(answer: object) -> None:
    _ok(qcu(solution=2, count=4), answer)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("1", KoReason.WRONG),
        (4, KoReason.WRONG),
        ("5", KoReason.OUT_OF_RANGE),
        ("0", KoReason.OUT_OF_RANGE),
        (10**100, KoReason.OUT_OF_RANGE),
        ("-1", KoReason.INVALID_SHAPE),
        ("2.0", KoReason.INVALID_SHAPE),
        ("deux", KoReason.INVALID_SHAPE),
        ("", KoReason.EMPTY),
        ("   ", KoReason.EMPTY),
        (None, KoReason.INVALID_SHAPE),
        (True, KoReason.INVALID_SHAPE),
        (2.0, KoReason.INVALID_SHAPE),
        (["1", "2"], KoReason.INVALID_SHAPE),
        ({"answer": "2"}, KoReason.INVALID_SHAPE),
        ("2" * 100_000, KoReason.TOO_LONG),
        ("\ud800", KoReason.INVALID_SHAPE),
        ("<b>2</b>", KoReason.INVALID_SHAPE),
    ],
)
def test_qcu_refuses(answer: object, reason: KoReason) -> None:
    _ko(qcu(solution=2, count=4), answer, reason)


# --- qcm ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [["1", "3"], ["3", "1"], ("1", 3), ["１", " 3 "]])
def test_qcm_accepts_the_exact_set_in_any_order(answer: object) -> None:
    _ok(qcm({1, 3}), answer)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (["1"], KoReason.WRONG),
        ("1", KoReason.WRONG),
        (["1", "3", "4"], KoReason.WRONG),
        (["1", "1", "3"], KoReason.DUPLICATE),
        ([], KoReason.EMPTY),
        (["1", "7"], KoReason.OUT_OF_RANGE),
        (["1", None], KoReason.INVALID_SHAPE),
        (["1", ["3"]], KoReason.INVALID_SHAPE),
        (["1"] * 10, KoReason.TOO_LONG),
        (None, KoReason.INVALID_SHAPE),
        ({"1": "3"}, KoReason.INVALID_SHAPE),
    ],
)
def test_qcm_refuses(answer: object, reason: KoReason) -> None:
    _ko(qcm({1, 3}), answer, reason)


# --- qroc text and tolerances ---------------------------------------------------------------

HOTEL = qroc("Hôtel de ville")


@pytest.mark.parametrize(
    "answer",
    [
        "Hôtel de ville",
        "hotel de ville",
        "HÔTEL DE VILLE",
        "hôtel-de-ville",
        "hôteldeville",
        "  hôtel de ville  ",
        "hôtel de ville.",
        "Hotel de vile",  # t3: one typo in 12 characters
        "hotl de vile",  # t3: two typos
        "hôtel\u00a0de\u202fville",  # non-breaking and narrow no-break spaces
        "ho\u0302tel de ville",  # combining circumflex (NFD input)
        "hôtel de ville\u200b",  # zero-width space from a copy-paste
        "ｈôtel de ville",  # full-width letter (NFKC under t1)
        ["hôtel de ville"],
    ],
)
def test_qroc_default_tolerances_accept(answer: object) -> None:
    _ok(HOTEL, answer)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("mairie", KoReason.WRONG),
        ("hotel", KoReason.WRONG),
        ("htl d vll", KoReason.WRONG),  # 4 edits: above 25 %
        ("", KoReason.EMPTY),
        ("  \t ", KoReason.EMPTY),
        ("!!!", KoReason.WRONG),
        (None, KoReason.INVALID_SHAPE),
        (42, KoReason.INVALID_SHAPE),
        (["a", "b"], KoReason.INVALID_SHAPE),
        ("x" * 100_000, KoReason.TOO_LONG),
        ("hôtel de ville " * 5, KoReason.TOO_LONG),
        ("hôtel\x00 de ville", KoReason.CONTROL_CHARACTER),
        ("hôtel\x1b[31m de ville", KoReason.CONTROL_CHARACTER),
        ("hôtel de ville\u202e", KoReason.CONTROL_CHARACTER),
        ("hôtel \ud83d de ville", KoReason.INVALID_UNICODE),
        ("<b>hôtel de ville</b>", KoReason.MARKUP),
        ("<script>alert(1)</script>", KoReason.MARKUP),
        ("<i>hotel de ville", KoReason.MARKUP),
    ],
)
def test_qroc_default_tolerances_refuse(answer: object, reason: KoReason) -> None:
    _ko(HOTEL, answer, reason)


@pytest.mark.parametrize(
    ("tolerances", "answer", "accepted"),
    [
        (NONE, "Hôtel de ville", True),
        (NONE, "Hôtel  de\u00a0ville ", True),  # base normalisation still applies
        (NONE, "hôtel de ville", False),
        (NONE, "Hotel de ville", False),
        (NONE, "Hôtel de vile", False),
        (T1_ONLY, "HOTEL DE VILLE", True),
        (T1_ONLY, "hoteldeville", True),
        (T1_ONLY, "hôtel-de-ville", False),
        (T1_ONLY, "hotel de vile", False),
        (T1_T2, "hôtel-de-ville !", True),
        (T1_T2, "hotel de vile", False),
        (frozenset({Tolerance.T3}), "Hôtel de vile", True),
        (frozenset({Tolerance.T3}), "hôtel de ville", True),  # one substitution
        (frozenset({Tolerance.T3}), "HÔTEL DE VILLE", False),
    ],
)
def test_each_tolerance_can_be_turned_off(
    tolerances: frozenset[Tolerance], answer: str, accepted: bool
) -> None:
    result = check_answer(qroc("Hôtel de ville", tolerances=tolerances), answer)
    assert result.is_ok is accepted


@pytest.mark.parametrize(
    ("challenge", "answer", "accepted"),
    [
        (qroc("l'adresse", tolerances=NONE), "l’adresse", True),  # phone apostrophe
        (qroc(".pdf", tolerances=NONE), ".pdf", True),
        (qroc(".pdf", tolerances=NONE), ".PDF", False),
        (qroc(".pdf", tolerances=NONE), "pdf", False),
        (qroc("ODT"), "odt", True),
        (qroc("ODT"), "ODF", False),  # too short for any typo
        (qroc('"', "guillemets"), '"', True),  # an answer made of punctuation only
        (qroc('"', "guillemets"), "«", True),
        (qroc('"', "guillemets"), "Les guillemets", False),
        (qroc("cœur"), "coeur", True),
        (qroc("=A1<B1"), "=a1<b1", True),  # '<' is not markup when answers contain it
        (qroc("Paris", "Lutèce"), "lutece", True),
        (qroc("Straße"), "strasse", True),
    ],
)
def test_text_edge_cases(challenge: Challenge, answer: str, accepted: bool) -> None:
    assert check_answer(challenge, answer).is_ok is accepted


@pytest.mark.parametrize(
    ("accepted", "answer", "ok"),
    [
        ("Saint-Aubin-des-Prés", "St-Aubin-des-Prés", True),
        ("Saint-Aubin-des-Prés", "ST AUBIN DES PRES", True),
        ("Saint-Aubin-des-Prés", "St. Aubin des Prés", True),
        ("St-Aubin", "Saint Aubin", True),  # the accepted answer may be the short one
        ("Sainte-Marie", "Ste-Marie", True),
        ("Mme Martinez", "Madame Martinez", True),
        ("Madame Martinez", "mme martinez", True),
        ("Mesdames Petit et Martinez", "Mmes Petit et Martinez", True),
        ("Sainte-Marie", "St-Marie", False),  # saint is not sainte
        ("Le stade", "Le saintade", False),  # inside a word: not an abbreviation
        ("Est", "Esaint", False),
        ("Madame Martinez", "Monsieur Martinez", False),
    ],
)
def test_name_abbreviations_are_read_as_their_word(accepted: str, answer: str, ok: bool) -> None:
    assert check_answer(qroc(accepted, tolerances=T1_T2), answer).is_ok is ok


def test_name_abbreviations_need_only_t1() -> None:
    assert check_answer(qroc("Saint Aubin", tolerances=T1_ONLY), "St Aubin").is_ok
    assert not check_answer(qroc("Saint Aubin", tolerances=NONE), "St Aubin").is_ok


# --- qroc numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "1234.5",
        "1234,5",
        "1 234,5",
        "1\u202f234,5",
        "1\u00a0234.5",
        "1\u2009234,50",
        "１２３４，５",
        "+1234.5",
        "1.234,5",
        "1,234.5",
        " 1234,500 ",
        "1234,5.",  # a full stop ending the sentence
    ],
)
def test_number_accepts_french_and_international_writing(answer: str) -> None:
    _ok(number("1234.5"), answer)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("1234", KoReason.WRONG),
        ("12 €", KoReason.NOT_A_NUMBER),
        ("1e3", KoReason.NOT_A_NUMBER),
        ("douze", KoReason.WRONG),  # a number in words, but not this one
        ("douze virgule cinq", KoReason.NOT_A_NUMBER),
        ("1 2", KoReason.NOT_A_NUMBER),
        ("1,2,3", KoReason.NOT_A_NUMBER),
        ("0x10", KoReason.NOT_A_NUMBER),
        ("", KoReason.EMPTY),
        (None, KoReason.INVALID_SHAPE),
        (1234.5, KoReason.INVALID_SHAPE),
        ("9" * 100, KoReason.TOO_LONG),
        ("12\x00", KoReason.NOT_A_NUMBER),
    ],
)
def test_number_refuses(answer: object, reason: KoReason) -> None:
    _ko(number("1234.5"), answer, reason)


EUROS = unit_spellings("euros")
MO = unit_spellings("mo")
MOIS = unit_spellings("mois")
HEURES = unit_spellings("heures")
POURCENT = unit_spellings("pourcent")
PERSONNES = count_noun("personne")
M3 = unit_spellings("m3")
M2 = unit_spellings("m2")
PPP = unit_spellings("ppp")


@pytest.mark.parametrize(
    ("accepted", "units", "answer", "ok"),
    [
        ("60000", (), "60.000", True),  # a dot before three digits: thousands, in French typing
        ("5400", EUROS, "5.400 €", True),
        ("5400", EUROS, "5.400", True),
        ("5.4", (), "5.400", True),  # …or a decimal point: both readings count
        ("-2000", (), "-2.000", True),
        ("60000", (), "60.00", False),  # two decimals: only a decimal point
        ("60000", (), "60.0000", False),
        ("1234567", (), "1.234.567", True),  # several groups: thousands only, as before
        ("60000", (), "60.000,5", False),
    ],
)
def test_a_lone_dot_before_three_digits_reads_both_ways(
    accepted: str, units: tuple[str, ...], answer: str, ok: bool
) -> None:
    assert check_answer(number(accepted, units=units), answer).is_ok is ok


@pytest.mark.parametrize(
    ("accepted", "units", "answer"),
    [
        ("4", EUROS, "4"),
        ("4", EUROS, "4 €"),
        ("4", EUROS, "4€"),
        ("4", EUROS, "4,00 €"),
        ("4", EUROS, "4 euros"),
        ("4", EUROS, "4 Euros"),
        ("4", EUROS, "4 EUR"),
        ("4", EUROS, "€4"),
        ("4", EUROS, "4 €"),
        ("1800", EUROS, "1 800 €"),
        ("1800", EUROS, "1 800 euros"),
        ("12", MO, "12 Mo"),
        ("12", MO, "12Mo"),
        ("12", MO, "12 MB"),
        ("12", MO, "12 mégaoctets"),
        ("12", MO, "12 méga-octets"),
        ("12", MO, "12 Mégas"),
        ("1", MOIS, "1 mois"),
        ("1", MOIS, "1 Mois"),
        ("72", HEURES, "72 h"),
        ("72", HEURES, "72h"),
        ("72", HEURES, "72 heures"),
        ("25", POURCENT, "25 %"),
        ("25", POURCENT, "25%"),
        ("25", POURCENT, "25 pour cent"),
        ("3", PERSONNES, "3 personnes"),
        ("3", PERSONNES, "3 personne"),
        ("10", ("min", "minute", "minutes", "min."), "10 min."),
        ("19215", M3, "19215 m³"),
        ("19215", M3, "19 215 m3"),
        ("19215", M3, "19215m3"),
        ("19215", M3, "19215 M3"),
        ("19215", M3, "19 215 mètres cubes"),
        ("19215", M3, "19215"),
        ("12.5", M2, "12,5 m²"),
        ("12.5", M2, "12,5m2"),
        ("12.5", M2, "12,5 mètres carrés"),
        ("150", PPP, "150 ppp"),
        ("150", PPP, "150 dpi"),
        ("150", PPP, "150 pixels/pouce"),  # a slash reads « par »
        ("150", PPP, "150 px / pouce"),
        ("150", PPP, "150 Pixels par pouce"),
        ("30", ("€ par mois", "euros par mois"), "30 €/mois"),
    ],
)
def test_number_accepts_its_declared_unit(
    accepted: str, units: tuple[str, ...], answer: str
) -> None:
    _ok(number(accepted, units=units), answer)


@pytest.mark.parametrize(
    ("units", "answer", "reason"),
    [
        (MO, "12 Go", KoReason.NOT_A_NUMBER),  # another unit is never converted
        (PPP, "150 pixels", KoReason.NOT_A_NUMBER),  # pixels are not pixels per inch
        (MO, "12 Mon", KoReason.NOT_A_NUMBER),
        (MO, "Mo", KoReason.NOT_A_NUMBER),
        (MO, "12 Mo Mo", KoReason.NOT_A_NUMBER),
        (MO, "13 Mo", KoReason.WRONG),
        (EUROS, "13 €", KoReason.WRONG),
        (EUROS, "€", KoReason.NOT_A_NUMBER),
        (EUROS, "12 € 50", KoReason.NOT_A_NUMBER),
        (EUROS, "12 $", KoReason.NOT_A_NUMBER),
        (EUROS, "12 €\x00", KoReason.NOT_A_NUMBER),
        ((), "12 Mo", KoReason.NOT_A_NUMBER),  # no unit declared: bare numbers only
        (M3, "12 m2", KoReason.NOT_A_NUMBER),  # square metres where cubic metres are asked
        (M3, "12 m", KoReason.NOT_A_NUMBER),
        (M3, "123", KoReason.WRONG),  # the digit of the unit never joins the number
        ((), "12 m3", KoReason.NOT_A_NUMBER),
    ],
)
def test_number_with_a_unit_refuses(units: tuple[str, ...], answer: str, reason: KoReason) -> None:
    _ko(number("12", units=units), answer, reason)


@pytest.mark.parametrize(
    ("accepted", "units", "answer"),
    [
        ("3", (), "trois"),
        ("3", (), " Trois "),
        ("21", (), "vingt et un"),
        ("21", (), "vingt-et-un"),
        ("99", (), "quatre-vingt-dix-neuf"),
        ("1200", (), "mille deux cents"),
        ("0", (), "zéro"),
        ("3", (), "trois."),
        ("3", PERSONNES, "trois personnes"),
        ("11", MOIS, "onze mois"),
        ("4", EUROS, "quatre euros"),
    ],
)
def test_a_whole_number_written_in_french_words_is_read(
    accepted: str, units: tuple[str, ...], answer: str
) -> None:
    _ok(number(accepted, units=units), answer)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("quatre", KoReason.WRONG),
        ("trois mois", KoReason.NOT_A_NUMBER),  # another unit
        ("trois 3", KoReason.NOT_A_NUMBER),
        ("environ trois", KoReason.NOT_A_NUMBER),
        ("trois " * 30, KoReason.TOO_LONG),
    ],
)
def test_words_that_are_not_the_number_are_refused(answer: str, reason: KoReason) -> None:
    _ko(number("3", units=PERSONNES), answer, reason)


@pytest.mark.parametrize("answer", ["193 m3", "193m3", "193 m³", "193"])
def test_a_unit_with_a_digit_is_not_read_as_part_of_the_number(answer: str) -> None:
    _ok(number("193", units=M3), answer)
    _ko(number("1933", units=M3), answer, KoReason.WRONG)
    _ko(number("19", units=M3), answer, KoReason.WRONG)


def test_unit_presets_fold_without_collisions() -> None:
    """A spelling must not mean two units (e.g. "m" for metres and "min" stay apart)."""
    seen: dict[str, str] = {}
    for name, spellings in PRESETS.items():
        for spelling in spellings:
            folded = fold_unit(spelling)
            assert seen.setdefault(folded, name) == name, (spelling, name, seen[folded])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", Decimal(12)),
        ("012", Decimal(12)),
        ("1,234", Decimal("1.234")),  # a lone comma is a French decimal comma
        ("1.234.567", Decimal(1234567)),
        ("1 234 567,25", Decimal("1234567.25")),
        ("−12", Decimal(-12)),  # U+2212 minus sign
        ("- 3,5", Decimal("-3.5")),
        (",5", Decimal("0.5")),
        ("12.", Decimal("12")),  # a full stop ending the sentence
        ("1 23", None),
        ("∞", None),
    ],
)
def test_parse_number(text: str, value: Decimal | None) -> None:
    assert parse_number(text) == value


# --- qrocm ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"ville": "montpellier", "format": "PDF"},
        {"ville": "Montpelier", "format": "ODT"},
        {"ville": ["Montpellier"], "format": ("PDF",)},  # lists from request.form.getlist
    ],
)
def test_qrocm_ind_accepts(answer: object) -> None:
    result = check_answer(qrocm_ind(), answer)
    assert result.is_ok
    assert result.field_results() == {"ville": True, "format": True}


@pytest.mark.parametrize(
    ("answer", "reason", "detail"),
    [
        ({"ville": "Lille", "format": "PDF"}, KoReason.WRONG, (False, True)),
        ({"ville": "Montpellier", "format": "EXE"}, KoReason.WRONG, (True, False)),
        ({"ville": "Montpellier", "format": "pdf"}, KoReason.NOT_AN_OPTION, (True, False)),
        ({"ville": "", "format": "PDF"}, KoReason.WRONG, (False, True)),
        ({"ville": None, "format": "PDF"}, KoReason.INVALID_SHAPE, (False, True)),
        (
            {"ville": ["Montpellier", "Lille"], "format": "PDF"},
            KoReason.INVALID_SHAPE,
            (False, True),
        ),
        ({"ville": "<img src=x>", "format": "PDF"}, KoReason.MARKUP, (False, True)),
        ({"ville": "Montpellier"}, KoReason.MISSING_FIELD, (False, False)),
        ({"ville": "a", "format": "PDF", "x": ""}, KoReason.UNKNOWN_FIELD, (False, False)),
        ({1: "a", "format": "PDF"}, KoReason.UNKNOWN_FIELD, (False, False)),
        ("Montpellier", KoReason.INVALID_SHAPE, (False, False)),
        (["Montpellier", "PDF"], KoReason.INVALID_SHAPE, (False, False)),
    ],
)
def test_qrocm_ind_refuses_with_field_detail(
    answer: object, reason: KoReason, detail: tuple[bool, bool]
) -> None:
    result = check_answer(qrocm_ind(), answer)
    assert result.status is AnswerStatus.KO
    assert result.reason is reason
    assert tuple(ok for _, ok in result.fields) == detail


@pytest.mark.parametrize(
    "answer",
    [
        {"a": "courriel", "b": "PDF"},
        {"a": "tableur", "b": "e-mail"},
        {"a": "Mail", "b": "tableur"},
        {"a": "pdf", "b": "courriels"},  # typo tolerance applies per field
    ],
)
def test_qrocm_dep_accepts_different_answers_in_any_order(answer: object) -> None:
    result = check_answer(qrocm_dep(), answer)
    assert result.is_ok
    assert result.field_results() == {"a": True, "b": True}


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ({"a": "courriel", "b": "mail"}, (True, False)),  # synonyms of one answer count once
        ({"a": "pdf", "b": "pdf"}, (True, False)),
        ({"a": "", "b": "pdf"}, (False, True)),
        ({"a": "word", "b": "excel"}, (False, False)),
    ],
)
def test_qrocm_dep_refuses(answer: object, detail: tuple[bool, bool]) -> None:
    result = check_answer(qrocm_dep(), answer)
    assert result.reason is KoReason.WRONG
    assert tuple(ok for _, ok in result.fields) == detail


def test_qrocm_dep_expected_fewer_than_fields() -> None:
    result = check_answer(qrocm_dep(expected=1), {"a": "n'importe quoi", "b": "tableur"})
    assert result.is_ok
    assert result.field_results() == {"a": False, "b": True}


# --- skipped, timed out, hostile input ------------------------------------------------------


@pytest.mark.parametrize(
    "challenge", [qcu(), qcm({1}), qroc("x"), number("1"), qrocm_ind(), qrocm_dep()]
)
def test_skipped_and_timed_out_are_not_graded(challenge: Challenge) -> None:
    right = {"c-qcu": "2", "c-qcm": ["1"], "c-qroc": "x", "c-number": "1"}.get(challenge.id)
    skipped = check_answer(challenge, right, skipped=True)
    timed_out = check_answer(challenge, right, timed_out=True)
    assert (skipped.status, skipped.reason) == (AnswerStatus.SKIPPED, KoReason.SKIPPED)
    assert (timed_out.status, timed_out.reason) == (AnswerStatus.TIMEDOUT, KoReason.TIMED_OUT)
    assert not skipped.is_ok
    assert all(not ok for _, ok in skipped.fields)


def _hostile(rng: random.Random, depth: int = 0) -> object:
    choice = rng.randrange(9 if depth < 2 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([0, -1, 2**70, True, 1.5, float("nan")])
    if choice == 2:
        alphabet = "aé\u0301<>&;\x00\x07\t\n \u00a0\u202f\ud800\udfff\u202e１,.-€😀"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
    if choice == 3:
        return "x" * rng.choice([10**3, 10**5])
    if choice == 4:
        return b"bytes"
    if choice == 5:
        return str(rng.randrange(-5, 50))
    if choice == 6:
        return [_hostile(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if choice == 7:
        keys = ["ville", "format", "a", "b", "", None, 3]
        return {rng.choice(keys): _hostile(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    return (_hostile(rng, depth + 1),)


def test_hostile_answers_never_raise() -> None:
    rng = random.Random(20260323)
    challenges = [
        qcu(),
        qcm({1, 3}),
        qroc("Hôtel de ville"),
        number("12"),
        qrocm_ind(),
        qrocm_dep(),
    ]
    statuses: set[AnswerStatus] = set()
    for _ in range(3000):
        challenge = rng.choice(challenges)
        result = check_answer(challenge, _hostile(rng))
        assert isinstance(result, AnswerResult)
        assert (result.reason is None) is (result.status is OK)
        statuses.add(result.status)
    assert AnswerStatus.KO in statuses


@pytest.mark.parametrize(
    ("a", "b", "bound", "within"),
    [
        ("kitten", "sitting", 3, True),
        ("kitten", "sitting", 2, False),
        ("", "abc", 3, True),
        ("abc", "", 2, False),
        ("abc", "abc", 0, True),
        ("abc", "abd", 0, False),
        ("hoteldeville", "hotldevile", 3, True),
        ("a" * 5000, "a" * 5000 + "b", 1, True),
        ("a" * 5000, "b" * 5000, 3, False),
    ],
)
def test_bounded_levenshtein(a: str, b: str, bound: int, within: bool) -> None:
    assert within_distance(a, b, bound) is within
