"""The price table, its matching rules, overrides, and the cost of a span."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.errors import HeronError
from heron.tracing import cost
from heron.tracing.cost import Price, clear_prices, price_for, set_price, span_cost


@pytest.fixture(autouse=True)
def _no_overrides() -> Iterator[None]:
    clear_prices()
    yield
    clear_prices()


def _shipped() -> dict[str, dict[str, object]]:
    path = Path(cost.__file__).with_name("prices.json")
    return json.loads(path.read_text())["models"]  # type: ignore[no-any-return]


def test_shipped_table_covers_current_openai_models_with_a_date_and_source() -> None:
    table = _shipped()
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o1", "o1-mini", "o3",
                  "o3-mini", "o4-mini", "gpt-4-turbo", "gpt-3.5-turbo", "text-embedding-3-small",
                  "text-embedding-3-large", "text-embedding-ada-002", "gpt-5", "gpt-5-mini", "gpt-5-nano"):
        assert model in table, model
    for model, entry in table.items():
        assert entry["checked"] == "2026-11-22", model
        assert str(entry["source"]).startswith("https://"), model
        assert isinstance(entry["input_per_million"], float) and isinstance(entry["output_per_million"], float)


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # never gpt-4o's price
        ("openai/gpt-4o", "gpt-4o"),
        ("azure/gpt-4o-mini", "gpt-4o-mini"),
        ("openrouter/openai/gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("GPT-4O", "gpt-4o"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # a dated snapshot with its own price
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106"),
        ("o1-mini-2024-09-12", "o1-mini"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
        ("gpt-4-0613", "gpt-4"),
        ("text-embedding-3-small", "text-embedding-3-small"),
    ],
)
def test_model_names_resolve_to_the_most_specific_entry(model: str, pattern: str) -> None:
    price = price_for(model)
    assert price is not None and price.pattern == pattern


@pytest.mark.parametrize("model", ["llama-3-70b", "gpt-4o-fancy", "ft:gpt-4o-mini-2024-07-18:acme::abc", "", "gpt-4o-2024"])
def test_unknown_models_have_no_price(model: str) -> None:
    assert price_for(model) is None


def test_known_prices() -> None:
    mini = price_for("gpt-4o-mini")
    assert mini == Price("gpt-4o-mini", 0.15, 0.6, 0.075, "2026-11-22", "https://openai.com/api/pricing/")
    four_o = price_for("gpt-4o")
    assert four_o is not None and (four_o.input_per_million, four_o.output_per_million) == (2.5, 10.0)


def test_span_cost_prices_cached_tokens_at_the_cached_rate() -> None:
    usd, priced = span_cost({
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.input_tokens": 1_000,
        "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.cache_read.input_tokens": 400,
    })
    # 600 input at $2.50/M + 400 cached at $1.25/M + 100 output at $10/M
    assert priced is True
    assert usd == pytest.approx(0.0015 + 0.0005 + 0.001)


def test_span_cost_without_cache_discount_charges_cached_tokens_as_input() -> None:
    usd, priced = span_cost({"gen_ai.request.model": "gpt-4-turbo", "gen_ai.usage.input_tokens": 1_000_000,
                             "gen_ai.usage.output_tokens": 0, "gen_ai.usage.cache_read.input_tokens": 500_000})
    assert (usd, priced) == (10.0, True)


def test_span_cost_reads_the_request_model_when_the_response_has_none() -> None:
    assert span_cost({"gen_ai.request.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 1_000_000}) == (0.02, True)


def test_unpriced_is_none_and_flagged_never_zero() -> None:
    usd, priced = span_cost({"gen_ai.request.model": "my-local-llama", "gen_ai.usage.input_tokens": 10,
                             "gen_ai.usage.output_tokens": 5})
    assert usd is None and priced is False
    # tokens but no model at all: unpriced too
    assert span_cost({"gen_ai.usage.input_tokens": 3}) == (None, False)


def test_span_without_usage_has_nothing_to_price() -> None:
    assert span_cost({"gen_ai.request.model": "gpt-4o"}) == (None, True)
    assert span_cost({}) == (None, True)


def test_zero_tokens_cost_zero_when_priced() -> None:
    assert span_cost({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 0,
                      "gen_ai.usage.output_tokens": 0}) == (0.0, True)


def test_odd_attribute_values_do_not_raise() -> None:
    assert span_cost({"gen_ai.request.model": 42, "gen_ai.usage.input_tokens": "7"}) == (None, False)
    assert span_cost({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": True}) == (None, True)
    usd, priced = span_cost({"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 1e6})
    assert (usd, priced) == (2.5, True)


def test_response_model_unknown_falls_back_to_request_model() -> None:
    usd, priced = span_cost({"gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "my-deployment-7",
                             "gen_ai.usage.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0})
    assert (usd, priced) == (0.15, True)


def test_set_price_overrides_and_adds_models() -> None:
    set_price("gpt-4o", input_per_million=1.0, output_per_million=2.0)
    set_price("my-local-llama", input_per_million=0.0, output_per_million=0.0)
    assert span_cost({"gen_ai.response.model": "openai/gpt-4o-2024-08-06", "gen_ai.usage.input_tokens": 1_000_000,
                      "gen_ai.usage.output_tokens": 1_000_000}) == (3.0, True)
    # a model priced at zero by the user is priced (free), not unpriced
    assert span_cost({"gen_ai.request.model": "my-local-llama", "gen_ai.usage.input_tokens": 10}) == (0.0, True)
    # the override of gpt-4o leaves gpt-4o-mini alone
    mini = price_for("gpt-4o-mini")
    assert mini is not None and mini.input_per_million == 0.15
    clear_prices()
    four_o = price_for("gpt-4o")
    assert four_o is not None and four_o.input_per_million == 2.5


def test_wildcards_match_and_the_longest_literal_wins() -> None:
    set_price("my-deploy-*", input_per_million=1.0, output_per_million=1.0)
    set_price("my-deploy-eu-*", input_per_million=2.0, output_per_million=2.0)
    general, specific = price_for("azure/my-deploy-us-1"), price_for("azure/my-deploy-eu-1")
    assert general is not None and general.input_per_million == 1.0
    assert specific is not None and specific.input_per_million == 2.0
    # an exact shipped name is more specific than a user's wildcard
    set_price("gpt-4o*", input_per_million=9.0, output_per_million=9.0)
    mini = price_for("gpt-4o-mini")
    assert mini is not None and mini.pattern == "gpt-4o-mini"
    fancy = price_for("gpt-4o-fancy")
    assert fancy is not None and fancy.input_per_million == 9.0


def test_set_price_cached_rate() -> None:
    set_price("acme-1", input_per_million=4.0, output_per_million=8.0, cached_input_per_million=1.0)
    usd, _ = span_cost({"gen_ai.request.model": "acme-1", "gen_ai.usage.input_tokens": 1_000_000,
                        "gen_ai.usage.cache_read.input_tokens": 1_000_000, "gen_ai.usage.output_tokens": 0})
    assert usd == 1.0


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "1.0", None, True])
def test_set_price_rejects_bad_prices(bad: object) -> None:
    with pytest.raises(HeronError, match="non-negative number"):
        set_price("x", input_per_million=bad, output_per_million=1.0)  # type: ignore[arg-type]
    with pytest.raises(HeronError, match="non-empty"):
        set_price(" ", input_per_million=1.0, output_per_million=1.0)


def test_user_price_file_overrides_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {
        "gpt-4o-mini": {"input_per_million": 0.1, "output_per_million": 0.2, "cached_input_per_million": 0.05},
        "acme-*": {"input_per_million": 3.0, "output_per_million": 4.0},
    }}))
    monkeypatch.setenv("HERON_PRICES_FILE", str(path))
    mini = price_for("gpt-4o-mini-2024-07-18")
    assert mini is not None and (mini.input_per_million, mini.cached_input_per_million) == (0.1, 0.05)
    acme = price_for("acme-large")
    assert acme is not None and acme.output_per_million == 4.0
    # run-time prices beat the file
    set_price("gpt-4o-mini", input_per_million=7.0, output_per_million=7.0)
    mini = price_for("gpt-4o-mini")
    assert mini is not None and mini.input_per_million == 7.0
    # unset the variable: the shipped price again
    clear_prices()
    monkeypatch.delenv("HERON_PRICES_FILE")
    mini = price_for("gpt-4o-mini")
    assert mini is not None and mini.input_per_million == 0.15


def test_a_bad_price_file_is_logged_once_and_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"gpt-4o": {"input_per_million": -3, "output_per_million": 1}}}))
    monkeypatch.setenv("HERON_PRICES_FILE", str(path))
    with caplog.at_level(logging.WARNING, logger="heron.tracing.cost"):
        for _ in range(3):
            price = price_for("gpt-4o")
            assert price is not None and price.input_per_million == 2.5
    assert len([r for r in caplog.records if "ignores the price file" in r.getMessage()]) == 1
    monkeypatch.setenv("HERON_PRICES_FILE", str(tmp_path / "missing.json"))
    assert price_for("gpt-4o") is not None


def test_the_price_file_variable_is_declared_in_config() -> None:
    from heron import config

    assert config.PRICES_FILE.name == "HERON_PRICES_FILE"
    assert config.PRICES_FILE in config.ALL


def test_the_table_in_docs_matches_the_shipped_prices() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = tuple(None if c == "—" else float(c) for c in cells[1:])
    shipped = {m: (e["input_per_million"], e.get("cached_input_per_million"), e["output_per_million"])
               for m, e in _shipped().items()}
    assert rows == shipped


@settings(max_examples=2_000, deadline=None)
@given(
    prices=st.tuples(*[st.floats(min_value=0, max_value=500, allow_nan=False)] * 3),
    tokens=st.tuples(*[st.integers(min_value=-10, max_value=5_000_000)] * 3),
)
def test_cost_is_rounded_to_twelve_decimals(prices: tuple[float, float, float], tokens: tuple[int, int, int]) -> None:
    """Price.cost rounds without formatting decimal text (it runs for every span): to a whole number of
    1e-12 USD, within 1e-12 USD of ``round(usd, 12)``; cached tokens count only within the input tokens."""
    price = Price("m", input_per_million=prices[0], output_per_million=prices[1], cached_input_per_million=prices[2])
    inp, out, cached = tokens
    within = max(0, min(cached, inp))
    usd = ((inp - within) * prices[0] + within * prices[2] + out * prices[1]) / 1_000_000
    got = price.cost(inp, out, cached)
    assert got == round(got * 1e12) / 1e12
    assert abs(got - round(usd, 12)) <= 1e-12 * (1 + 1e-9) + abs(usd) * 1e-15
    if abs(usd) < 1:  # cents, as one call costs: the same as round(usd, 12) but for a tie
        assert got == round(usd, 12) or abs(abs(usd * 1e12 - round(usd * 1e12)) - 0.5) < 1e-3
