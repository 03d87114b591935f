"""The filter language of ``search_traces`` and its ``order_by`` clauses. Pure Python.

The runs filter language (same tokens, quoting and error messages, see ``heron.tracking.search``) over
trace fields::

    filter      := or_expr
    or_expr     := and_expr ("OR" and_expr)*            # AND binds tighter than OR
    and_expr    := primary ("AND" primary)*
    primary     := "(" or_expr ")" | comparison
    comparison  := identifier operator value | identifier "IS" ["NOT"] "NULL"
    identifier  := [entity "."] key

- ``trace.`` (or ``attributes.``, or no prefix): ``status``, ``name``, ``trace_id``, ``run_id``,
  ``session_id``, ``user_id`` (strings); ``timestamp_ms``, ``execution_time_ms`` (``duration_ms``),
  ``input_tokens``, ``output_tokens``, ``total_tokens``, ``cached_input_tokens``, ``cost``,
  ``unpriced_spans``, ``span_count`` (numbers); ``text`` with LIKE / ILIKE: full text over the request and
  response previews and every span's inputs and outputs.
- ``tags.KEY`` and ``metadata.KEY``: strings.
- ``span.name``, ``span.type``, ``span.status`` (strings) and ``span.attributes.KEY`` (a string or a number,
  as the literal is): true when SOME span of the trace matches.

Errors are HeronError(INVALID_PARAMETER_VALUE) naming the offending token and its position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple, TypeAlias

from heron.errors import HeronError
from heron.tracking.search import Token, tokenize

__all__ = ["Comparison", "And", "Or", "Expr", "OrderBy", "parse_filter", "parse_order_by_list",
           "TRACE_FIELDS", "NUMERIC_FIELDS"]

Entity: TypeAlias = Literal["trace", "tag", "metadata", "span"]
Number: TypeAlias = int | float
Value: TypeAlias = Number | str | tuple[Number, ...] | tuple[str, ...] | None

# accepted spelling -> canonical trace field
TRACE_FIELDS: dict[str, str] = {
    "trace_id": "trace_id", "request_id": "trace_id",
    "name": "name",
    "status": "status", "state": "status",
    "run_id": "run_id", "session_id": "session_id", "user_id": "user_id",
    "timestamp_ms": "timestamp_ms", "timestamp": "timestamp_ms", "request_time": "timestamp_ms",
    "execution_time_ms": "execution_time_ms", "execution_duration": "execution_time_ms",
    "duration_ms": "execution_time_ms",
    "input_tokens": "input_tokens", "output_tokens": "output_tokens", "total_tokens": "total_tokens",
    "cached_input_tokens": "cached_input_tokens",
    "cost": "cost", "unpriced_spans": "unpriced_spans", "span_count": "span_count",
    "text": "text",
}
NUMERIC_FIELDS = frozenset({"timestamp_ms", "execution_time_ms", "input_tokens", "output_tokens", "total_tokens",
                            "cached_input_tokens", "cost", "unpriced_spans", "span_count"})
SPAN_FIELDS = {"name": "name", "type": "type", "span_type": "type", "status": "status"}
_ORDERABLE = frozenset(set(TRACE_FIELDS.values()) - {"text"})
_ENTITIES: dict[str, Entity] = {
    "trace": "trace", "attribute": "trace", "attributes": "trace", "attr": "trace",
    "tag": "tag", "tags": "tag",
    "metadata": "metadata", "request_metadata": "metadata",
    "span": "span", "spans": "span",
}
_NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "IS NULL", "IS NOT NULL")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL")
_SYMBOL_OPS = ("=", "!=", "<", "<=", ">", ">=")
_MAX_DEPTH = 50


@dataclass(frozen=True)
class Comparison:
    """``entity.key op value``; for spans ``key`` is name, type, status or ``attributes.KEY``."""

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
    field: str  # a canonical trace field
    ascending: bool


class _SyntaxError(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def _invalid(what: str, text: str, error: _SyntaxError) -> HeronError:
    return HeronError.invalid(f'Invalid {what} "{text}": at position {error.pos}, {error.message}.')


def parse_filter(filter_string: str | None) -> Expr | None:
    """The AST of a trace filter (None for an empty one). Raises HeronError(INVALID_PARAMETER_VALUE)."""
    if filter_string is None:
        return None
    if not isinstance(filter_string, str):
        raise HeronError.invalid(
            f"Invalid filter {filter_string!r}: expected a string such as \"trace.status = 'OK'\".")
    if not filter_string.strip():
        return None
    try:
        parser = _Parser(tokenize(filter_string))
        expr = parser.or_expr(0)
        parser.expect_end("AND, OR or the end of the filter")
    except _SyntaxError as e:
        raise _invalid("filter", filter_string, e) from None
    return expr


def parse_order_by_list(clauses: Iterable[str] | None) -> list[OrderBy]:
    """``["timestamp_ms DESC", "trace.cost"]`` -> OrderBy list. Raises HeronError for a bad clause."""
    if clauses is None:
        return []
    if isinstance(clauses, str):
        raise HeronError.invalid(
            f"Invalid order_by {clauses!r}: expected a list of clauses such as [\"timestamp_ms DESC\"].")
    result: list[OrderBy] = []
    for clause in clauses:
        if not isinstance(clause, str) or not clause.strip():
            raise HeronError.invalid(f"Invalid order_by clause {clause!r}: expected a trace field and an optional "
                                     "ASC or DESC, such as \"timestamp_ms DESC\".")
        try:
            parser = _Parser(tokenize(clause))
            tok = parser.next()
            entity, key = parser.identifier(tok) if tok.kind == "IDENT" else ("", "")
            if entity != "trace" or key not in _ORDERABLE:
                raise _SyntaxError(tok.pos, f"expected a trace field to order by ({', '.join(sorted(_ORDERABLE))}) "
                                            f"but found {tok.describe()}")
            ascending = True
            direction = parser.peek()
            if direction.kind == "KEYWORD" and direction.value in ("ASC", "DESC"):
                parser.next()
                ascending = direction.value == "ASC"
            parser.expect_end("ASC, DESC or the end of the clause")
        except _SyntaxError as e:
            raise _invalid("order_by clause", clause, e) from None
        result.append(OrderBy(key, ascending))
    return result


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

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
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self, depth: int) -> Expr:
        operands = [self.primary(depth)]
        while self.at_keyword("AND"):
            self.next()
            operands.append(self.primary(depth))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def primary(self, depth: int) -> Expr:
        tok = self.peek()
        if tok.kind == "LPAREN":
            if depth >= _MAX_DEPTH:
                raise _SyntaxError(tok.pos, f"expected at most {_MAX_DEPTH} nested parentheses but found more")
            self.next()
            expr = self.or_expr(depth + 1)
            close = self.next()
            if close.kind != "RPAREN":
                raise _SyntaxError(close.pos, f"expected AND, OR or ')' to close the '(' at position {tok.pos} "
                                              f"but found {close.describe()}")
            return expr
        return self.comparison()

    def identifier(self, tok: Token) -> tuple[Entity, str]:
        key = str(tok.value)
        entity: Entity = "trace"
        if tok.prefix is not None:
            found = _ENTITIES.get(tok.prefix.lower())
            if found is None:
                raise _SyntaxError(tok.pos, "expected a key starting with trace., tags., metadata. or span. "
                                            f"but found {tok.describe()}")
            entity = found
        if entity == "trace":
            canonical = TRACE_FIELDS.get(key.lower())
            if canonical is None:
                fields = ", ".join(sorted(set(TRACE_FIELDS.values())))
                raise _SyntaxError(tok.pos, f"expected a trace field ({fields}) but found {tok.describe()}")
            return entity, canonical
        if entity == "span":
            if key.lower().startswith("attributes.") and len(key) > len("attributes."):
                return entity, "attributes." + key[len("attributes."):]
            canonical = SPAN_FIELDS.get(key.lower())
            if canonical is None:
                raise _SyntaxError(tok.pos, "expected span.name, span.type, span.status or span.attributes.KEY "
                                            f"but found {tok.describe()}")
            return entity, canonical
        return entity, key

    def comparison(self) -> Comparison:
        tok = self.next()
        if tok.kind != "IDENT":
            raise _SyntaxError(tok.pos, "expected a key such as trace.status, tags.team, span.type or "
                                        f"trace.text, or '(' but found {tok.describe()}")
        entity, key = self.identifier(tok)
        what = {"trace": "trace.", "tag": "tags.", "metadata": "metadata.", "span": "span."}[entity] + key
        op_tok = self.next()
        op = self.operator(op_tok)
        if entity == "trace" and key == "text":
            if op not in ("LIKE", "ILIKE"):
                raise _SyntaxError(op_tok.pos, f"trace.text is searched with LIKE or ILIKE, such as "
                                               f"trace.text ILIKE '%refund%', but found {op_tok.describe()}")
            return Comparison(entity, key, op, self.literal("string", what))
        if entity == "span" and key.startswith("attributes."):
            kind = "any"
        else:
            kind = "number" if entity == "trace" and key in NUMERIC_FIELDS else "string"
        allowed = _STRING_OPS if kind == "string" else _NUMERIC_OPS if kind == "number" else (
            *_NUMERIC_OPS, "LIKE", "ILIKE")
        if op not in allowed:
            how = "to numbers with =, !=, <, <=, >, >=, IN or NOT IN" if kind == "number" else \
                "as strings with =, !=, LIKE, ILIKE, IN or NOT IN"
            raise _SyntaxError(op_tok.pos, f"{what} compares {how}, but found {op_tok.describe()}")
        if op in ("IS NULL", "IS NOT NULL"):
            return Comparison(entity, key, op, None)
        if op in ("IN", "NOT IN"):
            return Comparison(entity, key, op, self.value_list(kind, what))
        if op in ("LIKE", "ILIKE"):
            kind = "string"
        return Comparison(entity, key, op, self.literal(kind, what))

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
                raise _SyntaxError(after.pos, f"expected {'NULL' if negated else 'NULL or NOT NULL'} after IS but "
                                              f"found {after.describe()}")
        raise _SyntaxError(tok.pos, "expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN) "
                                    f"but found {tok.describe()}")

    def literal(self, kind: str, what: str) -> Number | str:
        tok = self.next()
        if tok.kind == "NUMBER" and isinstance(tok.value, int | float) and kind in ("number", "any"):
            return tok.value
        if tok.kind == "STRING" and kind in ("string", "any"):
            return str(tok.value)
        if tok.kind == "STRING":
            raise _SyntaxError(tok.pos, f"{what} compares to numbers: expected a number such as 100 but found "
                                        f"the string {tok.text}")
        if tok.kind == "NUMBER":
            raise _SyntaxError(tok.pos, f"{what} compares to strings: expected a quoted string such as "
                                        f"'{tok.text}' but found the number {tok.text}")
        example = "100" if kind == "number" else "'value'"
        raise _SyntaxError(tok.pos, f"expected a value such as {example} but found {tok.describe()}")

    def value_list(self, kind: str, what: str) -> tuple[Number, ...] | tuple[str, ...]:
        open_tok = self.next()
        if open_tok.kind != "LPAREN":
            example = "(1, 2)" if kind == "number" else "('a', 'b')"
            raise _SyntaxError(open_tok.pos, f"expected a list in parentheses such as {example} but found "
                                             f"{open_tok.describe()}")
        values = [self.literal(kind, what)]
        if kind == "any":  # the first literal decides: all numbers or all strings
            kind = "string" if isinstance(values[0], str) else "number"
        while True:
            tok = self.next()
            if tok.kind == "RPAREN":
                break
            if tok.kind != "COMMA":
                raise _SyntaxError(tok.pos, f"expected ',' or ')' but found {tok.describe()}")
            values.append(self.literal(kind, what))
        if kind == "number":
            return tuple(v for v in values if not isinstance(v, str))
        return tuple(str(v) for v in values)
