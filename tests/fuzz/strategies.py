"""Hypothesis strategies for hostile HTTP parameters, and requests built from them by hand.

What a browser, a crawler or an attacker may send in a query string or a form: nothing, the
empty string, a repeated key (an array), NUL bytes, bytes that are not UTF-8 (percent-encoded,
so they reach the app undecoded), numbers where text is expected and the reverse, JSON where
a form is expected, values of hundreds of kilobytes, and names the route never heard of. The
query string and the urlencoded body are encoded here, byte by byte, because the test
client's own encoding would repair the invalid UTF-8 we want to send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

Value = str | bytes
SESSION_FIELD = "lt"  # the page token (lti_tool.lti.tokens.TOKEN_FIELD)

# Values that mean something to some parser: numbers out of range, JSON, paths, markup, SQL,
# the player's own vocabulary. Each is a classic way for a view to trip over a type.
TRICKY: tuple[str, ...] = (
    "0",
    "-1",
    "1",
    "2",
    "4",
    "5",
    "1.5",
    "1,5",
    "1e309",
    "NaN",
    "-Infinity",
    "9" * 40,
    "-" + "9" * 400,
    "true",
    "null",
    "[]",
    "{}",
    '{"a": [1, {"b": null}]}',
    "\x00",
    "a\x00b",
    "\x00" * 64,
    "%00",
    "%ff%fe",
    "../../../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "/",
    "//",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e\ufeff\u200b",
    "😀" * 8,
    "\ud7ff\ue000\U0010ffff",
    " ",
    "\r\n",
    "validate",
    "skip",
    "http://",
    "https://127.0.0.1:1/.well-known/openid-configuration",
    "javascript:alert(1)",
    "csv",
)

# Names a route does not expect but that look like ones it does.
TRICKY_NAMES: tuple[str, ...] = (
    "",
    "answer.",
    "answer..",
    "answer.x",
    "answer[]",
    "area.",
    "area.1",
    "area.9",
    "lt[]",
    "lt ",
    "LT",
    "\x00",
    "a" * 300,
    "é",
    "__proto__",
    "format",
    "download",
)


def _long(unit: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: unit * n)


def fuzz_values(*, huge: bool = False) -> st.SearchStrategy[Value]:
    """One parameter value: ``str`` is sent as UTF-8, ``bytes`` as they are (often invalid).

    ``huge`` adds values past the 1 MiB request limit, for bodies: a URL that long never
    reaches the app (servers refuse request lines of a few KiB).
    """
    values = [
        st.just(""),
        st.sampled_from(TRICKY),
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8).map(
            lambda s: s + "\x00" + s
        ),
        st.binary(min_size=1, max_size=24),
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\xffb"]),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        # Very long values: past every column's length, not past the request size limit.
        _long("a", 256, 4_000),
        _long("é\x00", 300, 3_000),
    ]
    if huge:
        # Past the 1 MiB request limit, which must give a 413, never a 500.
        values.append(_long("x", 200_000, 1_200_000))
    return st.one_of(values)


def fuzz_names() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TRICKY_NAMES), st.text(min_size=1, max_size=12))


def encode(value: Value) -> str:
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote_from_bytes(raw, safe="")


def urlencode(pairs: Sequence[tuple[str, Value]]) -> str:
    """``application/x-www-form-urlencoded`` of ``pairs``, repeated names kept, bytes kept."""
    return "&".join(f"{encode(name)}={encode(value)}" for name, value in pairs)


def as_text(value: Value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


# A route's known value for a parameter is read from the fuzzed world when the test runs
# (tokens and challenge ids only exist then).
Known = Callable[[Any], Sequence[Value]]


@dataclass(frozen=True)
class RouteParams:
    """What one route reads: parameter names, with valid values where a random one would
    never get past the first check (a page token, the challenge on screen), and path variables.
    """

    names: tuple[str, ...] = ()
    known: dict[str, Known] = field(default_factory=dict)  # the valid value first
    path: dict[str, Known] = field(default_factory=dict)
    more_names: Known | None = None  # names only the content knows (``answer.<key>``)


@dataclass
class FuzzRequest:
    method: str
    path: str
    query: list[tuple[str, Value]]
    body: list[tuple[str, Value]]
    encoding: str  # "form", "multipart", "json" or "none"

    def send(self, client: Any) -> Any:
        options: dict[str, Any] = {"method": self.method, "query_string": urlencode(self.query)}
        if self.encoding == "form":
            options["data"] = urlencode(self.body).encode("ascii")
            options["content_type"] = "application/x-www-form-urlencoded"
        elif self.encoding == "multipart":
            # Encoded in memory: the test client's own encoding spools big bodies to a
            # temporary file it never closes.
            fields = MultiDict([(as_text(n), as_text(v)) for n, v in self.body])
            boundary, options["data"] = encode_multipart(fields)
            options["content_type"] = f"multipart/form-data; boundary={boundary}"
        elif self.encoding == "json":
            document: dict[str, Any] = {}
            for name, value in self.body:
                document[as_text(name)] = as_text(value)
            options["data"] = json.dumps(document)
            options["content_type"] = "application/json"
        return client.open(self.path, **options)

    def describe(self) -> str:
        def short(pairs: list[tuple[str, Value]]) -> list[tuple[str, Value]]:
            return [(n, v if len(v) <= 80 else v[:60] + f"...<{len(v)}>") for n, v in pairs]  # type: ignore[operator]

        return (
            f"{self.method} {self.path[:200]} query={short(self.query)!r} "
            f"body({self.encoding})={short(self.body)!r}"
        )


def _pair(draw: st.DrawFn, spec: RouteParams, world: Any, huge: bool) -> tuple[str, Value]:
    names = [*spec.names, *(spec.more_names(world) if spec.more_names else ())]
    if names and draw(st.integers(0, 9)) < 8:
        name = as_text(draw(st.sampled_from(names)))
    else:
        name = draw(fuzz_names())
    known = spec.known.get(name)
    if known is not None and draw(st.integers(0, 2)) > 0:
        value = draw(st.sampled_from(list(known(world))))
        return name, draw(st.one_of(st.just(value), mutations(value)))
    return name, draw(fuzz_values(huge=huge))


def mutations(value: Value) -> st.SearchStrategy[Value]:
    """A valid value spoiled just enough to pass the first checks and reach the database."""
    raw = value if isinstance(value, bytes) else value.encode()
    return st.sampled_from(
        [
            raw + b"\x00",
            b"\x00" + raw,
            raw[: len(raw) // 2] + b"\x00" + raw[len(raw) // 2 :],
            raw + b"\xff",
            raw + b"a" * 300,
            raw + b"/" + b"a" * 1_100,  # past a 1000-character column
            raw * 200,
            raw + b"%00",
            raw.upper(),
            raw[:-1],
        ]
    )


@st.composite
def fuzz_requests(draw: st.DrawFn, rule: str, method: str, spec: RouteParams, world: Any) -> Any:
    """One request to ``rule`` with ``method``: path variables, query and body fuzzed."""
    path = rule
    for variable, known in spec.path.items():
        placeholder = next(
            (
                p
                for p in _placeholders(rule)
                if p.endswith(":" + variable + ">") or p == f"<{variable}>"
            ),
            None,
        )
        if placeholder is None:  # a variable of another rule sharing these parameters
            continue
        if draw(st.booleans()):
            value: Value = draw(st.sampled_from(list(known(world))))
            segment = value if isinstance(value, str) else encode(value)
        else:
            segment = encode(draw(fuzz_values().filter(lambda v: len(v) < 5_000)))
            if draw(st.booleans()):
                segment = segment.replace("%2F", "/")
        path = path.replace(placeholder, segment or "x")
    body_method = method in {"POST", "PUT", "PATCH", "DELETE"}
    if body_method:
        encoding = draw(st.sampled_from(["form", "form", "form", "multipart", "json", "none"]))
    else:
        encoding = "none"
    query: list[tuple[str, Value]] = []
    body: list[tuple[str, Value]] = []

    def place(pair: tuple[str, Value], in_body: bool) -> None:
        target = body if in_body else query
        target.append(pair)
        # Arrays: the same name again, with the same or another value.
        if draw(st.integers(0, 4)) == 0:
            target.append((pair[0], draw(st.one_of(st.just(pair[1]), fuzz_values()))))

    known = dict(spec.known)
    session = known.pop(SESSION_FIELD, None)
    if session is not None:
        # Most requests carry a valid page token, or the fuzz would test the "no token" page
        # only; the others carry another launch's token, none, or a hostile one.
        tokens = list(session(world))
        how = draw(st.sampled_from(["valid"] * 5 + ["other", "absent", "hostile"]))
        in_body = encoding in {"form", "multipart"} and draw(st.booleans())
        if how == "valid":
            place((SESSION_FIELD, tokens[0]), in_body)
        elif how == "other":
            place((SESSION_FIELD, draw(st.sampled_from(tokens[1:]))), in_body)
        elif how == "hostile":
            token = tokens[0]
            place((SESSION_FIELD, draw(st.one_of(mutations(token), fuzz_values()))), in_body)
    extra = draw(st.integers(0, 6))
    if known and draw(st.booleans()):
        # A valid request with one or two values spoiled: how a hostile value gets past the
        # first checks (a page token, the required login parameters) to the code behind.
        # The first known value of each name is the valid one; none, one or two are spoiled.
        valid = [(name, values(world)[0]) for name, values in known.items()]
        spoiled = {
            draw(st.integers(0, len(valid) - 1)) for _ in range(draw(st.sampled_from([0, 1, 2])))
        }
        for index, (name, valid_value) in enumerate(valid):
            in_body = encoding != "none" and draw(st.integers(0, 7)) > 0
            value = valid_value
            if index in spoiled:
                value = draw(st.one_of(mutations(valid_value), fuzz_values(huge=in_body)))
            place((name, value), in_body)
        extra = draw(st.integers(0, 2))
    for _ in range(extra):
        in_body = encoding != "none" and draw(st.integers(0, 3)) > 0
        place(_pair(draw, spec, world, huge=in_body), in_body)
    return FuzzRequest(method, path, query, body, encoding)


def _placeholders(rule: str) -> list[str]:
    return re.findall(r"<[^>]+>", rule)
