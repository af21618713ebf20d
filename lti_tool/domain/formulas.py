"""Spreadsheet formulas typed as answers, graded by what they compute, not by how they are written.

A challenge that asks « écrivez la formule qui calcule la moyenne de B2 à B6 » has many right
answers: ``=MOYENNE(B2:B6)``, ``=SOMME(B2:B6)/5``, ``=(B2+B3+B4+B5+B6)/5``,
``=AVERAGE(B2;B3;B4;B5;B6)``, ``=SOMME(B2:B6)/NB(B2:B6)``… No list of accepted spellings can
hold them all. A ``format: formula`` challenge therefore evaluates the typed formula and the
reference formula (the first accepted answer) on the same cell values, several sets of them,
and accepts the answer when both give the same result every time: two formulas that agree on
every sampled grid compute the same thing on those cells.

What is understood: numbers (decimal point, or decimal comma when arguments are separated by
``;`` as in French spreadsheets), text in double quotes, cell references (``B2``, ``$B$2``),
ranges (``B2:B6``, in either order), ``+ - * / ^ & %``, comparisons, parentheses, and the
functions below under their French (LibreOffice and Microsoft 365 in French) and English names.
A formula that uses anything else (another sheet, a function not listed) is not evaluated: the
challenge then falls back to comparing the text with its accepted answers, as before.

The sampled values are numbers drawn from a generator with a fixed seed: grading is
deterministic and pure (no I/O, standard library only).
"""

from __future__ import annotations

import math
import random
import re
import statistics
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

#: How many grids of values both formulas are evaluated on.
SAMPLES = 12
#: A range larger than this is not evaluated (the answer falls back to text comparison).
MAX_RANGE_CELLS = 2_000
#: Deeper nesting than this is not evaluated.
MAX_DEPTH = 40
_SEED = 20261207


class FormulaError(ValueError):
    """The text is not a formula this module can evaluate."""


class _SpreadsheetError(Exception):
    """A value error inside a formula (#DIV/0!, #VALEUR!), compared like a value."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


Value = float | str | bool


# --- tokens -----------------------------------------------------------------------------------

_CELL = r"\$?([A-Z]{1,3})\$?([0-9]{1,7})"
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<range>{_CELL}:{_CELL})
  | (?P<cell>{_CELL})(?![A-Z0-9_.(])
  | (?P<number>[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)
  | (?P<string>"(?:[^"]|"")*")
  | (?P<name>[A-Z_][A-Z0-9_.]*)
  | (?P<op><>|<=|>=|[-+*/^&%=<>(),;])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str


def _tokens(body: str, separator: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if match is None:
            raise FormulaError(f"unexpected {body[position]!r}")
        kind = match.lastgroup
        text = match.group(0)
        position = match.end()
        if kind == "space":
            continue
        if kind == "number":
            if separator == "," and "," in text:
                # "1,5" where "," separates arguments is two numbers: split them back.
                head, _, tail = text.partition(",")
                if head:
                    out.append(_Token("number", head))
                out.append(_Token("op", ","))
                if tail:
                    out.append(_Token("number", tail))
                continue
            text = text.replace(",", ".")
        assert kind is not None
        out.append(_Token(kind, text))
    return out


# --- syntax tree --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Constant:
    value: Value


@dataclass(frozen=True, slots=True)
class _Cell:
    name: str


@dataclass(frozen=True, slots=True)
class _Range:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Unary:
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class _Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    arguments: tuple[Node, ...]


Node = _Constant | _Cell | _Range | _Unary | _Binary | _Call


class _Parser:
    def __init__(self, tokens: list[_Token], separator: str) -> None:
        self.tokens = tokens
        self.position = 0
        self.separator = separator
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FormulaError("unexpected end")
        self.position += 1
        return token

    def accept(self, *texts: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text in texts:
            self.position += 1
            return token.text
        return None

    def parse(self) -> Node:
        node = self.comparison()
        if self.peek() is not None:
            raise FormulaError(f"unexpected {self.peek()}")
        return node

    def _nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError("nested too deep")

    def comparison(self) -> Node:
        node = self.concatenation()
        while op := self.accept("=", "<>", "<", ">", "<=", ">="):
            node = _Binary(op, node, self.concatenation())
        return node

    def concatenation(self) -> Node:
        node = self.additive()
        while self.accept("&"):
            node = _Binary("&", node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.term()
        while op := self.accept("+", "-"):
            node = _Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.power()
        while op := self.accept("*", "/"):
            node = _Binary(op, node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        while self.accept("^"):
            node = _Binary("^", node, self.unary())
        return node

    def unary(self) -> Node:
        if op := self.accept("+", "-"):
            self._nested()
            negated = _Unary(op, self.unary())
            self.depth -= 1
            return negated
        node = self.primary()
        while self.accept("%"):
            node = _Binary("/", node, _Constant(100.0))
        return node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return _Constant(float(token.text))
        if token.kind == "string":
            return _Constant(token.text[1:-1].replace('""', '"'))
        if token.kind == "cell":
            return _Cell(_cell_name(token.text))
        if token.kind == "range":
            return _Range(_range_cells(token.text))
        if token.kind == "op" and token.text == "(":
            self._nested()
            node = self.comparison()
            self.depth -= 1
            if not self.accept(")"):
                raise FormulaError("missing )")
            return node
        if token.kind == "name":
            if self.accept("("):
                return self.call(token.text)
            if token.text in ("VRAI", "TRUE"):
                return _Constant(True)
            if token.text in ("FAUX", "FALSE"):
                return _Constant(False)
            raise FormulaError(f"unknown name {token.text}")
        raise FormulaError(f"unexpected {token.text!r}")

    def call(self, name: str) -> Node:
        function = FUNCTIONS.get(name)
        if function is None:
            raise FormulaError(f"function {name} is not evaluated")
        self._nested()
        arguments: list[Node] = []
        if not self.accept(")"):
            while True:
                arguments.append(self.comparison())
                if self.accept(")"):
                    break
                if not self.accept(self.separator):
                    raise FormulaError("expected an argument separator or )")
        self.depth -= 1
        return _Call(name, tuple(arguments))


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _cell_name(text: str) -> str:
    return text.replace("$", "")


def _range_cells(text: str) -> tuple[str, ...]:
    first, second = text.replace("$", "").split(":")
    match_a = re.fullmatch(r"([A-Z]+)([0-9]+)", first)
    match_b = re.fullmatch(r"([A-Z]+)([0-9]+)", second)
    assert match_a is not None
    assert match_b is not None
    columns = sorted((_column_number(match_a.group(1)), _column_number(match_b.group(1))))
    rows = sorted((int(match_a.group(2)), int(match_b.group(2))))
    count = (columns[1] - columns[0] + 1) * (rows[1] - rows[0] + 1)
    if count > MAX_RANGE_CELLS:
        raise FormulaError("range too large")
    return tuple(
        f"{_column_letters(column)}{row}"
        for row in range(rows[0], rows[1] + 1)
        for column in range(columns[0], columns[1] + 1)
    )


# --- evaluation ---------------------------------------------------------------------------------


def _flatten(values: Sequence[object]) -> Iterator[Value]:
    for value in values:
        if isinstance(value, list):
            yield from value
        else:
            assert isinstance(value, float | str | bool)
            yield value


def _numbers(values: Sequence[object]) -> list[float]:
    """Numbers of the arguments: numbers in ranges, numbers and booleans given directly."""
    out: list[float] = []
    for value in values:
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, float))
        elif isinstance(value, bool):
            out.append(float(value))
        elif isinstance(value, float):
            out.append(value)
        else:
            out.append(_to_number(value))
    return out


def _to_number(value: object) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            return float(value.replace(",", "."))
        except ValueError:
            raise _SpreadsheetError("#VALEUR!") from None
    raise _SpreadsheetError("#VALEUR!")


def _scalar(value: object) -> Value:
    if isinstance(value, list):
        if len(value) == 1:
            return _scalar(value[0])
        raise _SpreadsheetError("#VALEUR!")
    assert isinstance(value, float | str | bool)
    return value


def _to_bool(value: object) -> bool:
    value = _scalar(value)
    if isinstance(value, str):
        raise _SpreadsheetError("#VALEUR!")
    return bool(value)


def _to_text(value: object) -> str:
    value = _scalar(value)
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float):
        return f"{value:.15g}" if value != int(value) else str(int(value))
    return value


def _criterion(raw: object) -> Callable[[Value], bool]:
    """A NB.SI / SOMME.SI criterion: ``">10"``, ``"<>0"``, ``5``, ``"texte"``."""
    raw = _scalar(raw)
    if isinstance(raw, float | bool):
        target_number = float(raw)
        return lambda v: isinstance(v, float) and v == target_number
    match = re.fullmatch(r"\s*(<>|<=|>=|<|>|=)?\s*(.*)", raw)
    assert match is not None
    op = match.group(1) or "="
    operand = match.group(2)
    try:
        number = float(operand.replace(",", "."))
    except ValueError:
        text = operand.casefold()
        if op == "=":
            return lambda v: isinstance(v, str) and v.casefold() == text
        if op == "<>":
            return lambda v: not (isinstance(v, str) and v.casefold() == text)
        raise _SpreadsheetError("#VALEUR!") from None
    return lambda v: isinstance(v, float) and _COMPARE[op](v, number)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _average(values: Sequence[object]) -> float:
    numbers = _numbers(values)
    if not numbers:
        raise _SpreadsheetError("#DIV/0!")
    return math.fsum(numbers) / len(numbers)


def _round(values: Sequence[object], mode: str) -> float:
    if not 1 <= len(values) <= 2:
        raise _SpreadsheetError("#VALEUR!")
    number = _to_number(_scalar(values[0]))
    digits = int(_to_number(_scalar(values[1]))) if len(values) == 2 else 0
    factor = 10.0**digits
    scaled = abs(number) * factor
    if mode == "half-up":
        rounded = math.floor(scaled + 0.5 + 1e-9)
    elif mode == "down":
        rounded = math.floor(scaled + 1e-9)
    else:
        rounded = math.ceil(scaled - 1e-9)
    return math.copysign(rounded / factor, number)


def _if(values: Sequence[object]) -> Value:
    if not 2 <= len(values) <= 3:
        raise _SpreadsheetError("#VALEUR!")
    if _to_bool(values[0]):
        return _scalar(values[1])
    return _scalar(values[2]) if len(values) == 3 else False


def _count_if(values: Sequence[object]) -> float:
    if len(values) != 2 or not isinstance(values[0], list):
        raise _SpreadsheetError("#VALEUR!")
    matches = _criterion(values[1])
    return float(sum(1 for v in values[0] if matches(v)))


def _sum_if(values: Sequence[object]) -> float:
    if len(values) not in (2, 3) or not isinstance(values[0], list):
        raise _SpreadsheetError("#VALEUR!")
    tested = values[0]
    summed = values[2] if len(values) == 3 else tested
    if not isinstance(summed, list) or len(summed) != len(tested):
        raise _SpreadsheetError("#VALEUR!")
    matches = _criterion(values[1])
    return math.fsum(
        s for t, s in zip(tested, summed, strict=True) if matches(t) and isinstance(s, float)
    )


def _min_max(values: Sequence[object], pick: Callable[[list[float]], float]) -> float:
    numbers = _numbers(values)
    return pick(numbers) if numbers else 0.0


def _median(values: Sequence[object]) -> float:
    numbers = _numbers(values)
    if not numbers:
        raise _SpreadsheetError("#NOMBRE!")
    return float(statistics.median(numbers))


def _product(values: Sequence[object]) -> float:
    return math.prod(_numbers(values))


def _one(values: Sequence[object]) -> Value:
    if len(values) != 1:
        raise _SpreadsheetError("#VALEUR!")
    return _scalar(values[0])


Function = Callable[[Sequence[object]], Value]

_BY_MEANING: dict[tuple[str, ...], Function] = {
    ("SOMME", "SUM"): lambda v: math.fsum(_numbers(v)),
    ("MOYENNE", "AVERAGE"): _average,
    ("NB", "COUNT"): lambda v: float(sum(1 for x in _flatten(v) if isinstance(x, float))),
    ("NBVAL", "COUNTA"): lambda v: float(sum(1 for x in _flatten(v) if x != "")),
    ("MIN",): lambda v: _min_max(v, min),
    ("MAX",): lambda v: _min_max(v, max),
    ("MEDIANE", "MÉDIANE", "MEDIAN"): _median,
    ("PRODUIT", "PRODUCT"): _product,
    ("ARRONDI", "ROUND"): lambda v: _round(v, "half-up"),
    ("ARRONDI.INF", "ROUNDDOWN"): lambda v: _round(v, "down"),
    ("ARRONDI.SUP", "ROUNDUP"): lambda v: _round(v, "up"),
    ("ABS",): lambda v: abs(_to_number(_one(v))),
    ("ENT", "INT"): lambda v: float(math.floor(_to_number(_one(v)))),
    ("SI", "IF"): _if,
    ("ET", "AND"): lambda v: all(_to_bool(x) for x in _flatten(v)),
    ("OU", "OR"): lambda v: any(_to_bool(x) for x in _flatten(v)),
    ("NON", "NOT"): lambda v: not _to_bool(_one(v)),
    ("NB.SI", "COUNTIF"): _count_if,
    ("SOMME.SI", "SUMIF"): _sum_if,
    ("CONCATENER", "CONCATENATE", "CONCAT"): lambda v: "".join(_to_text(x) for x in _flatten(v)),
}

#: Every function understood, by each of its names.
FUNCTIONS: dict[str, Function] = {
    name: function for names, function in _BY_MEANING.items() for name in names
}


def _evaluate(node: Node, cells: Mapping[str, Value]) -> object:
    if isinstance(node, _Constant):
        return node.value
    if isinstance(node, _Cell):
        return cells[node.name]
    if isinstance(node, _Range):
        return [cells[name] for name in node.names]
    if isinstance(node, _Unary):
        value = _to_number(_scalar(_evaluate(node.operand, cells)))
        return -value if node.op == "-" else value
    if isinstance(node, _Call):
        return FUNCTIONS[node.name]([_evaluate(argument, cells) for argument in node.arguments])
    return _binary(
        node.op, _scalar(_evaluate(node.left, cells)), _scalar(_evaluate(node.right, cells))
    )


def _binary(op: str, left: Value, right: Value) -> Value:
    if op == "&":
        return _to_text(left) + _to_text(right)
    if op in _COMPARE:
        if isinstance(left, str) or isinstance(right, str):
            a, b = _to_text(left).casefold(), _to_text(right).casefold()
            return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[
                op
            ]
        return _COMPARE[op](_to_number(left), _to_number(right))
    x, y = _to_number(left), _to_number(right)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        if y == 0:
            raise _SpreadsheetError("#DIV/0!")
        return x / y
    try:
        result: float | complex = x**y
    except (OverflowError, ZeroDivisionError):
        raise _SpreadsheetError("#NOMBRE!") from None
    if isinstance(result, complex):
        raise _SpreadsheetError("#NOMBRE!")
    return result


# --- public API ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Formula:
    """A parsed formula: its syntax tree and the cells it reads."""

    tree: Node
    cells: frozenset[str]

    def value(self, cells: Mapping[str, Value]) -> Value | str:
        """The result on ``cells`` (an error is returned as its code, e.g. ``"#DIV/0!"``)."""
        try:
            result = _scalar(_evaluate(self.tree, cells))
        except _SpreadsheetError as error:
            return error.code
        except (OverflowError, ValueError):
            return "#NOMBRE!"
        if isinstance(result, float) and not math.isfinite(result):
            return "#NOMBRE!"
        return result


def _cells_of(node: Node) -> set[str]:
    if isinstance(node, _Cell):
        return {node.name}
    if isinstance(node, _Range):
        return set(node.names)
    if isinstance(node, _Unary):
        return _cells_of(node.operand)
    if isinstance(node, _Binary):
        return _cells_of(node.left) | _cells_of(node.right)
    if isinstance(node, _Call):
        return set().union(*(_cells_of(argument) for argument in node.arguments))
    return set()


def parse_formula(text: str) -> Formula:
    """Parse a typed formula (``=`` first); ``FormulaError`` when it cannot be evaluated."""
    normalised = unicodedata.normalize("NFKC", text).strip()
    if not normalised.startswith("="):
        raise FormulaError("a formula starts with =")
    body = _upper_outside_strings(normalised[1:])
    # French spreadsheets separate arguments with « ; » and write « 0,5 »; English ones use
    # « , » and « 0.5 ». Without a « ; », « , » is read as a separator first, then as a decimal
    # comma if that does not parse (« =SOMME(B2:B6)*0,2 »).
    separators = (";",) if ";" in _outside_strings(body) else (",", ";")
    error = FormulaError("empty formula")
    for separator in separators:
        try:
            tokens = _tokens(body, separator)
            if not tokens:
                raise FormulaError("empty formula")
            tree = _Parser(tokens, separator).parse()
        except FormulaError as problem:
            error = problem
            continue
        return Formula(tree, frozenset(_cells_of(tree)))
    raise error


def _outside_strings(text: str) -> str:
    return re.sub(r'"(?:[^"]|"")*"', '""', text)


def _upper_outside_strings(text: str) -> str:
    parts = re.split(r'("(?:[^"]|"")*")', text)
    return "".join(part if part.startswith('"') else part.upper() for part in parts)


def _grids(cells: frozenset[str]) -> Iterator[dict[str, Value]]:
    generator = random.Random(_SEED)
    names = sorted(cells)
    for sample in range(SAMPLES):
        grid: dict[str, Value] = {}
        for name in names:
            if sample % 3 == 2:
                grid[name] = round(generator.uniform(-50, 500), 2)
            else:
                grid[name] = float(generator.randint(1, 999))
        yield grid


def _same(a: Value | str, b: Value | str) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def same_computation(answer: Formula, reference: Formula) -> bool:
    """Whether ``answer`` gives ``reference``'s result on every sampled grid of values."""
    return all(
        _same(answer.value(grid), reference.value(grid))
        for grid in _grids(answer.cells | reference.cells)
    )
