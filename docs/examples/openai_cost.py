"""Cost: the shipped price table, prices set at run time or from a file, and unpriced models.

Needs an OpenAI-compatible endpoint: the SDK reads OPENAI_BASE_URL and OPENAI_API_KEY.
"""

import json
import os
import tempfile

import openai

import heron
import heron.openai
from heron.tracing import price_for, set_price

# Dated snapshots and provider prefixes resolve to the model's entry.
for model in ("gpt-4o-mini-2024-07-18", "openai/gpt-4o", "azure/gpt-4.1-nano", "my-local-llama"):
    price = price_for(model)
    print(model, "->", None if price is None else (price.pattern, price.input_per_million, price.output_per_million))

heron.openai.autolog()
client = openai.OpenAI()
messages = [{"role": "user", "content": "What is a heron?"}]


def cost_of_last_trace() -> tuple[float | None, bool]:
    info = heron.get_trace(heron.get_last_active_trace_id()).info
    return info.cost, info.unpriced


client.chat.completions.create(model="gpt-4o-mini", messages=messages)
print("gpt-4o-mini:", cost_of_last_trace())

# A model the table does not know is unpriced: cost None and flagged, never $0.
client.chat.completions.create(model="my-local-llama", messages=messages)
cost, unpriced = cost_of_last_trace()
print("my-local-llama:", cost, "unpriced" if unpriced else "")
assert cost is None and unpriced

# Price it at run time (USD per million tokens) ...
set_price("my-local-llama", input_per_million=0.05, output_per_million=0.10)
client.chat.completions.create(model="my-local-llama", messages=messages)
print("my-local-llama, priced:", cost_of_last_trace())

# ... or in a JSON file named by HERON_PRICES_FILE (same shape as the shipped table).
prices = {"models": {"acme-*": {"input_per_million": 1.0, "output_per_million": 2.0, "cached_input_per_million": 0.5}}}
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    json.dump(prices, f)
os.environ["HERON_PRICES_FILE"] = f.name
client.chat.completions.create(model="acme-large", messages=messages)
print("acme-large, from the file:", cost_of_last_trace())
assert cost_of_last_trace()[0] is not None
os.unlink(f.name)
