"""Cost in USD of LLM calls, from a price table per model.

Three layers of prices, looked up together: the table shipped with Heron (``prices.json``), a user
file named by ``HERON_PRICES_FILE`` (same shape), and prices set at run time with :func:`set_price`.
For a model name, the most specific matching pattern wins; on a tie, run time beats the file, which
beats the shipped table. Specificity, from high to low: a pattern equal to the name, then a pattern
equal to the name less a date suffix (``gpt-4o-2024-08-06`` -> ``gpt-4o``, ``gpt-3.5-turbo-0125`` ->
``gpt-3.5-turbo``), then shell-style wildcard patterns (``gpt-4o*``) by how many literal characters
they have. Names are compared lower-cased, both as given and with any provider prefix removed
(``openai/gpt-4o``, ``azure/gpt-4o`` -> ``gpt-4o``), so ``gpt-4o-mini`` never gets ``gpt-4o``'s price.

A model without a price is *unpriced*: its cost is ``None``, never 0.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from importlib import resources
from typing import Any

from heron import config
from heron.errors import HeronError

__all__ = ["Price", "set_price", "price_for", "span_cost", "clear_prices", "token_count", "token_counts"]

_logger = logging.getLogger(__name__)

_DATE_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|(?:0[1-9]|1[0-2])\d{2})$")  # -YYYY-MM-DD or -MMDD
_WILDCARDS = frozenset("*?[")

# layer ranks, used to break ties between equally specific patterns
_BUILTIN, _FILE, _RUNTIME = 0, 1, 2


@dataclass(frozen=True)
class Price:
    """What one model costs, in USD per million tokens.

    ``cached_input_per_million`` is the price of input tokens read from the provider's prompt cache;
    ``None`` means the model has no cache discount and cached tokens cost the input price.
    """

    pattern: str
    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None
    checked: str | None = None
    source: str | None = None

    def cost(self, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
        """USD for a call; ``input_tokens`` includes the cached ones, as OpenAI and OTel report them."""
        cached = cached_input_tokens if cached_input_tokens <= input_tokens else input_tokens
        if cached < 0:
            cached = 0
        input_rate = self.input_per_million
        cached_rate = self.cached_input_per_million
        usd = (
            (input_tokens - cached) * input_rate
            + cached * (input_rate if cached_rate is None else cached_rate)
            + output_tokens * self.output_per_million
        ) / 1_000_000
        # to the nearest 1e-12 USD, so no float noise such as 1.2500000000000001e-05 in stored costs.
        # round(usd, 12) does the same through decimal text, three times slower (this runs for every span);
        # the two can differ in that last decimal, by 1e-12 USD, on costs of dollars and more.
        return round(usd * 1e12) / 1e12


@dataclass(frozen=True)
class _Layer:
    literal: Mapping[str, Price]
    wildcard: tuple[Price, ...]


def _layer(prices: Mapping[str, Price]) -> _Layer:
    return _Layer(
        literal={p: v for p, v in prices.items() if not _WILDCARDS & set(p)},
        wildcard=tuple(v for p, v in prices.items() if _WILDCARDS & set(p)),
    )


_lock = threading.Lock()
_builtin: _Layer | None = None
_runtime: dict[str, Price] = {}
_runtime_layer = _layer({})
_UNREAD = object()
_file_path: object = _UNREAD  # the HERON_PRICES_FILE value the file layer was read for
_file_layer = _layer({})
_cache: dict[str, Price | None] = {}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise HeronError.invalid(f"{what} must be a non-negative number of USD per million tokens, got {value!r}.")
    return float(value)


def _make_price(pattern: str, fields: Mapping[str, Any], where: str) -> Price:
    if not isinstance(pattern, str) or not pattern.strip():
        raise HeronError.invalid(f"A price's model pattern must be a non-empty string, got {pattern!r} in {where}.")
    cached = fields.get("cached_input_per_million")
    checked, source = fields.get("checked"), fields.get("source")
    return Price(
        pattern=pattern.strip().lower(),
        input_per_million=_number(fields.get("input_per_million"), f"{where}: {pattern}.input_per_million"),
        output_per_million=_number(fields.get("output_per_million"), f"{where}: {pattern}.output_per_million"),
        cached_input_per_million=None if cached is None else _number(cached, f"{where}: {pattern}.cached_input_per_million"),
        checked=str(checked) if checked is not None else None,
        source=str(source) if source is not None else None,
    )


def _parse_table(data: Any, where: str) -> dict[str, Price]:
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise HeronError.invalid(f'{where} must hold a JSON object {{"models": {{pattern: {{...}}}}}}.')
    table: dict[str, Price] = {}
    for pattern, fields in models.items():
        if not isinstance(fields, dict):
            raise HeronError.invalid(f"{where}: the entry for {pattern!r} must be an object, got {fields!r}.")
        price = _make_price(pattern, fields, where)
        table[price.pattern] = price
    return table


def _builtin_layer() -> _Layer:
    global _builtin
    if _builtin is None:
        text = resources.files("heron").joinpath("tracing/prices.json").read_text(encoding="utf-8")
        _builtin = _layer(_parse_table(json.loads(text), "heron/tracing/prices.json"))
    return _builtin


def _user_file_layer() -> _Layer:
    """The HERON_PRICES_FILE layer, read once per path; a bad file is logged once and ignored."""
    global _file_path, _file_layer
    path = config.PRICES_FILE.get()
    if path == _file_path:
        return _file_layer
    with _lock:
        if path != _file_path:
            layer = _layer({})
            if path:
                try:
                    with open(path, encoding="utf-8") as f:
                        layer = _layer(_parse_table(json.load(f), f"HERON_PRICES_FILE={path}"))
                except (OSError, ValueError, HeronError) as exc:
                    _logger.warning("Heron ignores the price file %s: %s", path, exc)
            _file_layer, _file_path = layer, path
            _cache.clear()
    return _file_layer


def set_price(
    model_pattern: str,
    *,
    input_per_million: float,
    output_per_million: float,
    cached_input_per_million: float | None = None,
) -> Price:
    """Set the price of the models matching ``model_pattern`` for this process, over the price table.

    ``model_pattern`` is a model name (which also matches its dated snapshots and provider-prefixed
    forms) or a shell-style pattern such as ``"my-azure-deployment-*"``. Raises HeronError when a price
    is negative or not a number. Thread-safe.
    """
    price = _make_price(
        model_pattern,
        {
            "input_per_million": input_per_million,
            "output_per_million": output_per_million,
            "cached_input_per_million": cached_input_per_million,
        },
        "set_price",
    )
    global _runtime_layer
    with _lock:
        _runtime[price.pattern] = price
        _runtime_layer = _layer(_runtime)
        _cache.clear()
    return price


def clear_prices() -> None:
    """Forget every price set with :func:`set_price` and re-read ``HERON_PRICES_FILE`` on next use."""
    global _runtime_layer, _file_path
    with _lock:
        _runtime.clear()
        _runtime_layer = _layer({})
        _file_path = _UNREAD
        _cache.clear()


def _forms(model: str) -> list[str]:
    name = model.strip().lower()
    bare = name.rsplit("/", 1)[-1]
    return [name, bare] if bare != name else [name]


def _best(model: str, layers: list[tuple[int, _Layer]]) -> Price | None:
    best: tuple[tuple[int, int, int], Price] | None = None

    def offer(score: tuple[int, int, int], price: Price) -> None:
        nonlocal best
        if best is None or score > best[0]:
            best = (score, price)

    for form in _forms(model):
        undated = _DATE_SUFFIX.sub("", form)
        for rank, layer in layers:
            exact = layer.literal.get(form)
            if exact is not None:
                offer((len(form), 2, rank), exact)
            if undated != form and (dated := layer.literal.get(undated)) is not None:
                offer((len(undated), 1, rank), dated)
            for price in layer.wildcard:
                if fnmatchcase(form, price.pattern):
                    offer((sum(c not in _WILDCARDS for c in price.pattern), 0, rank), price)
    return best[1] if best is not None else None


def price_for(model: str) -> Price | None:
    """The price that applies to ``model`` (e.g. ``"openai/gpt-4o-2024-08-06"``), or None if unpriced.

    Reads the shipped table and ``HERON_PRICES_FILE`` on first use. Thread-safe.
    """
    if not model:
        return None
    file_layer = _user_file_layer()
    try:
        return _cache[model]
    except KeyError:
        pass
    price = _best(model, [(_BUILTIN, _builtin_layer()), (_FILE, file_layer), (_RUNTIME, _runtime_layer)])
    if len(_cache) < 10_000:
        _cache[model] = price
    return price


def token_count(value: Any) -> int | None:
    """A token count as an int: an int, a whole float or a string of decimal digits ("12", as some
    instrumentations write them); None for anything else (bools, fractions, other text). The one reading
    of counts that pricing and the trace totals share, so a span is counted exactly when it is priced."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdecimal():  # not isdigit(): "²" is a digit that int() refuses
            return int(text)
    return None


def token_counts(attributes: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """``(input, output, cached input)`` tokens of a span from ``gen_ai.usage.*`` (each read by
    ``token_count``, a missing one 0), or None when it reports neither input nor output tokens: what
    pricing and the trace totals (``heron.tracing.usage``) both count. Plain ints take the short way,
    as nearly every span's do; the export thread runs this for every span."""
    get = attributes.get
    inp, out = get("gen_ai.usage.input_tokens"), get("gen_ai.usage.output_tokens")
    if type(inp) is not int:
        inp = token_count(inp)
    if type(out) is not int:
        out = token_count(out)
    if inp is None and out is None:
        return None
    cached = get("gen_ai.usage.cache_read.input_tokens")
    if type(cached) is not int:
        cached = token_count(cached) or 0
    return inp or 0, out or 0, cached


def span_cost(attributes: Mapping[str, Any]) -> tuple[float | None, bool]:
    """The cost of one span from its ``gen_ai.*`` attributes, as ``(usd, priced)``.

    Reads the model from ``gen_ai.response.model`` (else ``gen_ai.request.model``) and the usage from
    ``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens`` and
    ``gen_ai.usage.cache_read.input_tokens`` (counted inside the input tokens, priced at the cached rate).

    - ``(usd, True)``: the span used tokens and its model has a price.
    - ``(None, False)``: the span used tokens but its model has no price (or no model is named): the
      span is *unpriced*, and so is its trace's total.
    - ``(None, True)``: the span reports no token usage: there is nothing to price (a chain or tool
      span), which does not make its trace unpriced.

    Never raises on odd attribute values; blocks only to read the price files on first use.
    """
    counts = token_counts(attributes)
    if counts is None:
        return None, True
    get = attributes.get
    model = get("gen_ai.response.model") or get("gen_ai.request.model")
    price = price_for(model) if isinstance(model, str) else None
    if price is None:
        if isinstance(model, str) and model:
            request_model = attributes.get("gen_ai.request.model")
            # the response model may be a deployment-specific name the table lacks; the request may not
            if isinstance(request_model, str) and request_model != model:
                price = price_for(request_model)
        if price is None:
            return None, False
    return price.cost(*counts), True
