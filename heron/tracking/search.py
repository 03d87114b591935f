"""The filter language of ``search_runs`` and ``search_experiments``, ``order_by`` clauses and page tokens.

MLflow's language, plus ``OR`` and parentheses. Keywords are case-insensitive::

    filter      := or_expr
    or_expr     := and_expr ("OR" and_expr)*
    and_expr    := primary ("AND" primary)*          # AND binds tighter than OR
    primary     := "(" or_expr ")" | comparison
    comparison  := identifier operator value
                 | identifier "IS" ["NOT"] "NULL"
    operator    := "=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE" | "IN" | "NOT" "IN"
    value       := number | string | "(" literal ("," literal)* ")"    # a list only after IN / NOT IN
    identifier  := [entity "."] key                   # no entity: an attribute, as in MLflow
    order_by    := identifier ["ASC" | "DESC"]

Entities: ``metrics.``/``metric.``, ``params.``/``param.``/``parameters.``, ``tags.``/``tag.`` and
``attributes.``/``attribute.``/``attr.``/``run.``. A key may contain dots (``params.model.depth`` is the
key ``model.depth``) or be quoted with backquotes or double quotes (``metrics.`my metric```). Strings
are in single or double quotes; a quote inside is doubled (``'it''s'``). Metrics and numeric
attributes compare to numbers; params, tags and string attributes compare to strings with ``=``,
``!=``, ``LIKE``, ``ILIKE``, ``IN`` and ``NOT IN``.

Pure Python: the SQL lives in ``heron.tracking.store.search_sql``. Every parse error is a
``HeronError`` with code INVALID_PARAMETER_VALUE whose message quotes the input, gives the position
(0-based) and the token found, and says what was expected.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple, TypeAlias

from heron.errors import HeronError

__all__ = [
    "And",
    "Comparison",
    "EXPERIMENTS",
    "Expr",
    "Grammar",
    "OrderBy",
    "Or",
    "RUNS",
    "Token",
    "decode_page_token",
    "encode_page_token",
    "parse_filter",
    "parse_order_by",
    "parse_order_by_list",
    "tokenize",
]

Entity: TypeAlias = Literal["metric", "param", "tag", "attribute"]
Number: TypeAlias = int | float
Value: TypeAlias = Number | str | tuple[Number, ...] | tuple[str, ...] | None

NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "IS NULL", "IS NOT NULL")
STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL")
_SYMBOL_OPS = ("=", "!=", "<", "<=", ">", ">=")
_OPERATORS_HELP = "a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN)"
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "ASC", "DESC"})
_MAX_DEPTH = 50  # nesting of parentheses; deeper filters are refused, not a RecursionError


# ------------------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Comparison:
    """``entity.key op value``. ``value`` is a tuple for IN / NOT IN and None for IS [NOT] NULL."""

    entity: Entity
    key: str
    op: str
    value: Value


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


Expr: TypeAlias = Comparison | And | Or


class OrderBy(NamedTuple):
    """One ``order_by`` clause: ``("metric", "acc", False)`` for ``metrics.acc DESC``."""

    entity: Entity
    key: str
    ascending: bool


@dataclass(frozen=True)
class Grammar:
    """What one search accepts: its entities, its attributes (name -> canonical name) and their kinds."""

    subject: str  # "runs" or "experiments", for messages
    entities: frozenset[Entity]
    attributes: dict[str, str]  # accepted spelling (lower case) -> canonical attribute
    numeric_attributes: frozenset[str]  # canonical names that compare to numbers
    order_attributes: frozenset[str]  # canonical names order_by accepts
    order_entities: frozenset[Entity]


RUNS = Grammar(
    subject="runs",
    entities=frozenset({"metric", "param", "tag", "attribute"}),
    attributes={
        "run_id": "run_id",
        "run_uuid": "run_id",
        "run_name": "run_name",
        "run name": "run_name",
        "status": "status",
        "user_id": "user_id",
        "artifact_uri": "artifact_uri",
        "lifecycle_stage": "lifecycle_stage",
        "start_time": "start_time",
        "created": "start_time",
        "end_time": "end_time",
        "experiment_id": "experiment_id",
    },
    numeric_attributes=frozenset({"start_time", "end_time", "experiment_id"}),
    order_attributes=frozenset(
        {"run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage", "start_time", "end_time",
         "experiment_id"}
    ),
    order_entities=frozenset({"metric", "param", "tag", "attribute"}),
)

EXPERIMENTS = Grammar(
    subject="experiments",
    entities=frozenset({"tag", "attribute"}),
    attributes={
        "name": "name",
        "creation_time": "creation_time",
        "last_update_time": "last_update_time",
        "experiment_id": "experiment_id",
    },
    numeric_attributes=frozenset({"creation_time", "last_update_time", "experiment_id"}),
    order_attributes=frozenset({"name", "creation_time", "last_update_time", "experiment_id"}),
    order_entities=frozenset({"attribute"}),  # as MLflow: experiments are not ordered by tags
)

_ENTITY_PREFIXES: dict[str, Entity] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
_PREFIX_HELP: dict[Entity, str] = {
    "metric": "metrics.",
    "param": "params.",
    "tag": "tags.",
    "attribute": "attributes.",
}
_ENTITY_ORDER: tuple[Entity, ...] = ("metric", "param", "tag", "attribute")
_PLURAL: dict[Entity, str] = {"metric": "metrics", "param": "params", "tag": "tags", "attribute": "attributes"}


# ------------------------------------------------------------------------------------------ tokens


TokenKind: TypeAlias = Literal["IDENT", "KEYWORD", "NUMBER", "STRING", "OP", "LPAREN", "RPAREN", "COMMA", "END"]


@dataclass(frozen=True)
class Token:
    """One token and where it starts in the input.

    ``value`` is the string's contents (STRING), the number (NUMBER), the upper-cased keyword
    (KEYWORD), the operator (OP) or the key (IDENT). ``prefix`` is the entity part of an IDENT
    (``metrics`` in ``metrics.acc``), None when there is none.
    """

    kind: TokenKind
    text: str
    pos: int
    value: str | Number | None = None
    prefix: str | None = None

    def describe(self) -> str:
        if self.kind == "END":
            return "the end of the input"
        return self.text if self.kind == "STRING" else repr(self.text)


class _SyntaxError(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_WORD_RE = re.compile(r"[A-Za-z_]\w*")
_KEY_RE = re.compile(r"[\w.\-/]+")
_OP_RE = re.compile(r"[<>=!]+")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens ending with an END token; raises HeronError on a bad character."""
    try:
        return _tokenize(text)
    except _SyntaxError as e:
        raise _invalid("filter", text, e) from None


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            kind: TokenKind = "LPAREN" if c == "(" else "RPAREN" if c == ")" else "COMMA"
            tokens.append(Token(kind, c, i))
            i += 1
        elif c in "'\"":
            end, contents = _read_quoted(text, i)
            tokens.append(Token("STRING", text[i:end], i, contents))
            i = end
        elif c == "`":
            end, contents = _read_quoted(text, i)
            tokens.append(Token("IDENT", text[i:end], i, contents))
            i = end
        elif (m := _NUMBER_RE.match(text, i)) is not None:
            literal = m.group()
            number: Number = float(literal) if any(ch in literal for ch in ".eE") else int(literal)
            if isinstance(number, int) and not -(2**63) <= number < 2**63:
                number = float(number)  # beyond the databases' 64-bit integers: compare as a double
            tokens.append(Token("NUMBER", literal, i, number))
            i = m.end()
        elif (m := _WORD_RE.match(text, i)) is not None:
            word, end = m.group(), m.end()
            if end < n and text[end] == ".":
                tokens.append(_read_key(text, i, word, end + 1))
                i = tokens[-1].pos + len(tokens[-1].text)
            elif word.upper() in _KEYWORDS:
                tokens.append(Token("KEYWORD", word, i, word.upper()))
                i = end
            else:
                tokens.append(Token("IDENT", word, i, word))
                i = end
        elif (m := _OP_RE.match(text, i)) is not None:
            tokens.append(Token("OP", m.group(), i, m.group()))
            i = m.end()
        else:
            raise _SyntaxError(i, f"found the unexpected character {c!r}")
    tokens.append(Token("END", "", n))
    return tokens


def _read_quoted(text: str, start: int) -> tuple[int, str]:
    """(end, contents) of the quoted text at ``start``; a doubled quote character stands for itself."""
    quote = text[start]
    parts: list[str] = []
    i = start + 1
    while True:
        j = text.find(quote, i)
        if j < 0:
            what = "quoted key" if quote == "`" else "string"
            raise _SyntaxError(start, f"found a {what} that is never closed: {text[start:start + 30]!r} "
                                      f"has no closing {quote}")
        parts.append(text[i:j])
        if j + 1 < len(text) and text[j + 1] == quote:
            parts.append(quote)
            i = j + 2
            continue
        return j + 1, "".join(parts)


def _read_key(text: str, start: int, prefix: str, key_start: int) -> Token:
    if key_start < len(text) and text[key_start] in "`\"'":
        end, key = _read_quoted(text, key_start)
    else:
        m = _KEY_RE.match(text, key_start)
        if m is None:
            found = repr(text[key_start]) if key_start < len(text) else "the end of the input"
            raise _SyntaxError(key_start, f"expected a key after '{prefix}.' but found {found}")
        end, key = m.end(), m.group()
    if not key:
        raise _SyntaxError(key_start, f"expected a key after '{prefix}.' but found an empty quoted key")
    return Token("IDENT", text[start:end], start, key, prefix)


# ------------------------------------------------------------------------------------------ parser


def parse_filter(filter_string: str | None, grammar: Grammar = RUNS) -> Expr | None:
    """The AST of ``filter_string`` (None for an empty or blank filter).

    Raises HeronError(INVALID_PARAMETER_VALUE) naming the offending token and what was expected.
    Pure and thread-safe.
    """
    if filter_string is None:
        return None
    if not isinstance(filter_string, str):
        raise HeronError.invalid(f"Invalid filter {filter_string!r}: expected a string such as \"metrics.acc > 0.5\".")
    if not filter_string.strip():
        return None
    try:
        parser = _Parser(_tokenize(filter_string), grammar)
        expr = parser.or_expr(0)
        parser.expect_end("AND, OR or the end of the filter")
    except _SyntaxError as e:
        raise _invalid("filter", filter_string, e) from None
    return expr


def parse_order_by(clause: str, grammar: Grammar = RUNS) -> OrderBy:
    """``"metrics.acc DESC"`` -> ``OrderBy("metric", "acc", False)``; ascending unless DESC is given.

    Raises HeronError(INVALID_PARAMETER_VALUE) for a malformed clause or an unknown attribute.
    """
    if not isinstance(clause, str) or not clause.strip():
        raise HeronError.invalid(
            f"Invalid order_by clause {clause!r}: expected a key and an optional ASC or DESC, "
            "such as \"metrics.acc DESC\"."
        )
    try:
        parser = _Parser(_tokenize(clause), grammar)
        tok = parser.next()
        if tok.kind != "IDENT":
            raise _SyntaxError(tok.pos, f"expected a key such as {_key_examples(grammar)} but found {tok.describe()}")
        entity, key = parser.identifier(tok)
        if entity not in grammar.order_entities or (
            entity == "attribute" and key not in grammar.order_attributes
        ):
            keys = sorted(grammar.order_attributes) + [
                f"{_PREFIX_HELP[e]}<key>" for e in _ENTITY_ORDER if e != "attribute" and e in grammar.order_entities
            ]
            raise _SyntaxError(
                tok.pos, f"expected a key to order {grammar.subject} by ({', '.join(keys)}) but found {tok.describe()}"
            )
        ascending = True
        direction = parser.peek()
        if direction.kind == "KEYWORD" and direction.value in ("ASC", "DESC"):
            parser.next()
            ascending = direction.value == "ASC"
        parser.expect_end("ASC, DESC or the end of the clause")
    except _SyntaxError as e:
        raise _invalid("order_by clause", clause, e) from None
    return OrderBy(entity, key, ascending)


def parse_order_by_list(clauses: Iterable[str] | None, grammar: Grammar = RUNS) -> list[OrderBy]:
    """Each clause parsed; raises HeronError if one is malformed or two order by the same key."""
    if clauses is None:
        return []
    if isinstance(clauses, str):
        raise HeronError.invalid(
            f"Invalid order_by {clauses!r}: expected a list of clauses such as [\"metrics.acc DESC\"], not a string."
        )
    clauses = list(clauses)
    result: list[OrderBy] = []
    seen: set[tuple[str, str]] = set()
    for clause in clauses:
        order = parse_order_by(clause, grammar)
        if (order.entity, order.key) in seen:
            raise HeronError.invalid(
                f"Invalid order_by {clauses!r}: {_PREFIX_HELP[order.entity]}{order.key} appears twice; "
                "order by each key at most once."
            )
        seen.add((order.entity, order.key))
        result.append(order)
    return result


class _Parser:
    def __init__(self, tokens: list[Token], grammar: Grammar) -> None:
        self.tokens = tokens
        self.i = 0
        self.grammar = grammar

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "END":
            self.i += 1
        return tok

    def at_keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "KEYWORD" and tok.value == word

    def expect_end(self, expected: str) -> None:
        tok = self.peek()
        if tok.kind != "END":
            raise _SyntaxError(tok.pos, f"expected {expected} but found {tok.describe()}")

    def or_expr(self, depth: int) -> Expr:
        operands = [self.and_expr(depth)]
        while self.at_keyword("OR"):
            self.next()
            operands.append(self.and_expr(depth))
        return _flatten(Or, operands)

    def and_expr(self, depth: int) -> Expr:
        operands = [self.primary(depth)]
        while self.at_keyword("AND"):
            self.next()
            operands.append(self.primary(depth))
        return _flatten(And, operands)

    def primary(self, depth: int) -> Expr:
        tok = self.peek()
        if tok.kind == "LPAREN":
            if depth >= _MAX_DEPTH:
                raise _SyntaxError(tok.pos, f"expected at most {_MAX_DEPTH} nested parentheses but found more")
            self.next()
            expr = self.or_expr(depth + 1)
            close = self.next()
            if close.kind != "RPAREN":
                raise _SyntaxError(
                    close.pos,
                    f"expected AND, OR or ')' to close the '(' at position {tok.pos} but found {close.describe()}",
                )
            return expr
        return self.comparison()

    def comparison(self) -> Comparison:
        tok = self.next()
        if tok.kind != "IDENT":
            raise _SyntaxError(
                tok.pos, f"expected a key such as {_key_examples(self.grammar)} or '(' but found {tok.describe()}"
            )
        entity, key = self.identifier(tok)
        numeric = entity == "metric" or (entity == "attribute" and key in self.grammar.numeric_attributes)
        what = f"{_PREFIX_HELP[entity]}{key}" if entity == "attribute" else _PLURAL[entity]
        op_tok = self.next()
        op = self.operator(op_tok)
        allowed = NUMERIC_OPS if numeric else STRING_OPS
        if op not in allowed:
            verb = "compares" if entity == "attribute" else "compare"
            if numeric:
                message = f"{what} {verb} to numbers with =, !=, <, <=, >, >=, IN or NOT IN, but found {op_tok.describe()}"
            else:
                message = (
                    f"{what} {verb} as strings with =, !=, LIKE, ILIKE, IN or NOT IN, but found {op_tok.describe()}"
                )
                if entity in ("param", "tag"):
                    message += " (log the value as a metric to compare it as a number)"
            raise _SyntaxError(op_tok.pos, message)
        if op in ("IS NULL", "IS NOT NULL"):
            return Comparison(entity, key, op, None)
        if op in ("IN", "NOT IN"):
            return Comparison(entity, key, op, self.value_list(numeric, what, entity == "attribute"))
        return Comparison(entity, key, op, self.literal(numeric, what, entity == "attribute"))

    def identifier(self, tok: Token) -> tuple[Entity, str]:
        key = str(tok.value)
        grammar = self.grammar
        if tok.prefix is None:
            entity: Entity = "attribute"
        else:
            found = _ENTITY_PREFIXES.get(tok.prefix.lower())
            if found is None or found not in grammar.entities:
                allowed = ", ".join(p for e, p in _PREFIX_HELP.items() if e in grammar.entities)
                raise _SyntaxError(
                    tok.pos,
                    f"expected a key starting with one of {allowed} (to search {grammar.subject}) "
                    f"but found {tok.describe()}",
                )
            entity = found
        if entity == "attribute":
            canonical = grammar.attributes.get(key.lower())
            if canonical is None:
                hint = ""
                if tok.prefix is None and "metric" in grammar.entities:
                    hint = f" (a metric, param or tag needs its prefix, as in metrics.{key})"
                raise _SyntaxError(
                    tok.pos,
                    f"expected an attribute of {grammar.subject} "
                    f"({', '.join(sorted(set(grammar.attributes.values())))}) but found {tok.describe()}{hint}",
                )
            return entity, canonical
        return entity, key

    def operator(self, tok: Token) -> str:
        if tok.kind == "OP" and tok.text in _SYMBOL_OPS:
            return tok.text
        if tok.kind == "KEYWORD":
            word = str(tok.value)
            if word in ("LIKE", "ILIKE", "IN"):
                return word
            if word == "NOT":
                after = self.next()
                if after.kind == "KEYWORD" and after.value == "IN":
                    return "NOT IN"
                raise _SyntaxError(after.pos, f"expected IN after NOT but found {after.describe()}")
            if word == "IS":
                after = self.next()
                negated = after.kind == "KEYWORD" and after.value == "NOT"
                if negated:
                    after = self.next()
                if after.kind == "KEYWORD" and after.value == "NULL":
                    return "IS NOT NULL" if negated else "IS NULL"
                expected = "NULL" if negated else "NULL or NOT NULL"
                raise _SyntaxError(after.pos, f"expected {expected} after IS but found {after.describe()}")
        raise _SyntaxError(tok.pos, f"expected {_OPERATORS_HELP} but found {tok.describe()}")

    def literal(self, numeric: bool, what: str, singular: bool) -> Number | str:
        tok = self.next()
        verb = "compares" if singular else "compare"
        if numeric:
            if tok.kind == "NUMBER" and isinstance(tok.value, int | float):
                return tok.value
            if tok.kind == "STRING":
                raise _SyntaxError(
                    tok.pos, f"{what} {verb} to numbers: expected a number such as 0.5 but found the string {tok.text}"
                )
            raise _SyntaxError(tok.pos, f"expected a number such as 0.5 but found {tok.describe()}")
        if tok.kind == "STRING":
            return str(tok.value)
        if tok.kind == "NUMBER":
            raise _SyntaxError(
                tok.pos,
                f"{what} {verb} to strings: expected a quoted string such as '{tok.text}' but found the number {tok.text}",
            )
        raise _SyntaxError(tok.pos, f"expected a quoted string such as 'value' but found {tok.describe()}")

    def value_list(self, numeric: bool, what: str, singular: bool) -> tuple[Number, ...] | tuple[str, ...]:
        open_tok = self.next()
        if open_tok.kind != "LPAREN":
            example = "(1, 2)" if numeric else "('a', 'b')"
            raise _SyntaxError(open_tok.pos, f"expected a list in parentheses such as {example} but found "
                                             f"{open_tok.describe()}")
        values = [self.literal(numeric, what, singular)]
        while True:
            tok = self.next()
            if tok.kind == "RPAREN":
                break
            if tok.kind != "COMMA":
                raise _SyntaxError(tok.pos, f"expected ',' or ')' but found {tok.describe()}")
            values.append(self.literal(numeric, what, singular))
        if numeric:
            return tuple(v for v in values if not isinstance(v, str))
        return tuple(str(v) for v in values)


def _flatten(kind: type[And] | type[Or], operands: list[Expr]) -> Expr:
    if len(operands) == 1:
        return operands[0]
    flat: list[Expr] = []
    for operand in operands:
        if isinstance(operand, kind):
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return kind(tuple(flat))


def _key_examples(grammar: Grammar) -> str:
    if "metric" in grammar.entities:
        return "metrics.acc, params.lr, tags.team or attributes.status"
    return "name, tags.team or attributes.creation_time"


def _invalid(what: str, text: str, error: _SyntaxError) -> HeronError:
    return HeronError.invalid(f'Invalid {what} "{text}": at position {error.pos}, {error.message}.')


# ------------------------------------------------------------------------------------- page tokens


def encode_page_token(offset: int) -> str:
    """The token for the page starting at ``offset`` (base64 of ``{"offset": N}``, as MLflow)."""
    return base64.b64encode(json.dumps({"offset": int(offset)}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset in ``token`` (0 for None or ""); raises HeronError for a token Heron did not make."""
    if token is None or token == "":
        return 0
    if not isinstance(token, str):
        raise HeronError.invalid(f"Invalid page token {token!r}: expected the string returned with a previous page.")
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
        offset = data["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise HeronError.invalid(
            f"Invalid page token {token[:100]!r}: expected the token returned with a previous page of results."
        )
    return offset
