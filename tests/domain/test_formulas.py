"""Spreadsheet formulas typed as answers are graded by what they compute."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_tool.domain.formulas import (
    MAX_DEPTH,
    FormulaError,
    parse_formula,
    same_computation,
)

MEAN = parse_formula("=MOYENNE(B2:B6)")


@pytest.mark.parametrize(
    "typed",
    [
        "=MOYENNE(B2:B6)",
        "=moyenne(b2:b6)",
        "= MOYENNE( B2:B6 ) ",
        "=AVERAGE(B2:B6)",
        "=MOYENNE(B6:B2)",
        "=MOYENNE($B$2:$B$6)",
        "=SOMME(B2:B6)/5",
        "=SUM(B2:B6)/5",
        "=(SOMME(B2:B6))/5",
        "=SOMME(B2:B6)/NB(B2:B6)",
        "=SOMME(B2:B6)/NBVAL(B2:B6)",
        "=SUM(B2:B6)/COUNT(B2:B6)",
        "=(B2+B3+B4+B5+B6)/5",
        "=B2/5+B3/5+B4/5+B5/5+B6/5",
        "=MOYENNE(B2;B3;B4;B5;B6)",
        "=AVERAGE(B2,B3,B4,B5,B6)",
        "=SOMME(B2:B6)*0,2",
        "=SUM(B2:B6)*0.2",
        "=SOMME(B2:B6)*20%",
        "=-(-MOYENNE(B2:B6))",
    ],
)
def test_every_way_of_writing_the_mean_is_accepted(typed: str) -> None:
    assert same_computation(parse_formula(typed), MEAN)


@pytest.mark.parametrize(
    "typed",
    [
        "=MOYENNE(B2;B6)",  # two cells, not five
        "=MOYENNE(B2:B7)",  # one cell too many
        "=SOMME(B2:B6)/4",
        "=SOMME(B2:B6)",
        "=MEDIANE(B2:B6)",
        "=MAX(B2:B6)",
        "=ARRONDI(MOYENNE(B2:B6);0)",
        "=42",
        '="MOYENNE(B2:B6)"',
    ],
)
def test_formulas_that_compute_something_else_are_refused(typed: str) -> None:
    assert not same_computation(parse_formula(typed), MEAN)


@pytest.mark.parametrize(
    "typed",
    [
        "MOYENNE(B2:B6)",  # no « = »: a spreadsheet shows it as text
        "=",
        "=MOYENNE(B2:B6",
        "=MOYENNE(B2:B6))",
        "=RECHERCHEV(A2;D2:E9;2)",  # not evaluated: the text comparison decides
        "=Feuille2!B2",
        "=B2:ZZ9999",  # too large a range
        "=" + "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
        "<script>alert(1)</script>",
        "=SOMME(B2:B6)÷5",  # a spreadsheet refuses « ÷ », « × » and « − » too
        "=SOMME(B2:B6)×0,2",
        "=SOMME(B2:B6)−B2",
    ],
)
def test_what_cannot_be_evaluated_is_a_formula_error(typed: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(typed)


@pytest.mark.parametrize(
    ("formula", "cells", "expected"),
    [
        ("=-2^2", {}, 4.0),  # negation binds first, as in spreadsheets
        ("=2^3^2", {}, 64.0),  # left to right
        ("=1+2*3", {}, 7.0),
        ("=SOMME(1;5)", {}, 6.0),
        ("=SUM(1,5)", {}, 6.0),
        ("=B2*1,5", {"B2": 2.0}, 3.0),
        ('=SI(A1<B2;"oui";"non")', {"A1": 1.0, "B2": 2.0}, "oui"),
        ('=IF(A1>=B2,"oui","non")', {"A1": 1.0, "B2": 2.0}, "non"),
        ('=NB.SI(A1:A3;">1")', {"A1": 1.0, "A2": 2.0, "A3": 3.0}, 2.0),
        (
            '=SOMME.SI(A1:A3;"<>2";B1:B3)',
            {"A1": 1.0, "A2": 2.0, "A3": 3.0, "B1": 10.0, "B2": 20.0, "B3": 30.0},
            40.0,
        ),
        ("=ARRONDI(2,675;2)", {}, 2.68),
        ("=ARRONDI.INF(-2,5;0)", {}, -2.0),
        ("=ET(A1>0;A2>0)", {"A1": 1.0, "A2": -1.0}, False),
        ('=A1&" €"', {"A1": 12.0}, "12 €"),
        ("=1/0", {}, "#DIV/0!"),
        ("=9^9^9^9", {}, "#NOMBRE!"),
        ("=(-8)^0,5", {}, "#NOMBRE!"),
        ('="a"+1', {}, "#VALEUR!"),
        ("=MOYENNE(A1:A2)", {"A1": "", "A2": ""}, "#DIV/0!"),
    ],
)
def test_values(formula: str, cells: dict[str, float | str], expected: object) -> None:
    assert parse_formula(formula).value(cells) == pytest.approx(expected)


def test_the_cells_read_are_known() -> None:
    assert parse_formula("=SI(A1>0;SOMME(B1:B2);C3)").cells == {"A1", "B1", "B2", "C3"}


def test_grading_is_deterministic() -> None:
    typed = parse_formula("=SOMME(B2:B6)/5")
    assert all(same_computation(typed, MEAN) for _ in range(5))


_FORMULA_ALPHABET = '=;,.:$()+-*/^&%<>"ABZ0129 SOMEYNIé!\u2212'


@settings(derandomize=True, database=None, max_examples=400, deadline=None)
@given(st.text(alphabet=_FORMULA_ALPHABET, max_size=40))
def test_any_text_is_a_formula_error_or_a_value(text: str) -> None:
    """Parsing and evaluating never raise anything but ``FormulaError``."""
    try:
        formula = parse_formula("=" + text)
    except FormulaError:
        return
    assert same_computation(formula, formula) in (True, False)
