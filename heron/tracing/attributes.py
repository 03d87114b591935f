"""Attribute names on spans: OpenTelemetry's GenAI conventions where they exist, ``heron.*`` for the rest.

Integrations set the ``gen_ai.*`` names; ``heron.span.*`` carries what every span has (its type, its
inputs and outputs as JSON); ``heron.trace.*`` carries what ``update_current_trace`` says about the whole
trace, and the export thread folds it into the trace row.
"""

from __future__ import annotations

__all__ = [
    "SPAN_TYPE", "INPUTS", "OUTPUTS", "EXPERIMENT_ID", "RUN_ID", "TRACE_NAME", "TRACE_TAGS", "TRACE_METADATA",
    "SESSION_ID", "USER_ID", "COST_USD", "COST_UNPRICED",
    "GEN_AI_OPERATION_NAME", "GEN_AI_PROVIDER_NAME", "GEN_AI_SYSTEM", "GEN_AI_REQUEST_MODEL",
    "GEN_AI_RESPONSE_MODEL", "GEN_AI_REQUEST_TEMPERATURE", "GEN_AI_REQUEST_TOP_P", "GEN_AI_REQUEST_MAX_TOKENS",
    "GEN_AI_REQUEST_FREQUENCY_PENALTY", "GEN_AI_REQUEST_PRESENCE_PENALTY", "GEN_AI_REQUEST_STOP_SEQUENCES",
    "GEN_AI_REQUEST_SEED", "GEN_AI_REQUEST_CHOICE_COUNT", "GEN_AI_RESPONSE_ID", "GEN_AI_RESPONSE_FINISH_REASONS",
    "GEN_AI_OUTPUT_TYPE", "GEN_AI_USAGE_INPUT_TOKENS", "GEN_AI_USAGE_OUTPUT_TOKENS",
    "GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS", "GEN_AI_USAGE_REASONING_OUTPUT_TOKENS", "GEN_AI_INPUT_MESSAGES",
    "GEN_AI_OUTPUT_MESSAGES", "GEN_AI_SYSTEM_INSTRUCTIONS", "GEN_AI_TOOL_NAME", "GEN_AI_TOOL_CALL_ID",
    "GEN_AI_TOOL_DEFINITIONS", "CONTENT_ATTRIBUTES", "CONTENT_PREFIXES",
]

# heron.*: every span
SPAN_TYPE = "heron.span.type"
INPUTS = "heron.span.inputs"  # JSON text, size-bounded (see serialize.py)
OUTPUTS = "heron.span.outputs"  # JSON text, size-bounded
COST_USD = "heron.cost.usd"  # set on stored LLM spans whose model has a price
COST_UNPRICED = "heron.cost.unpriced"  # True on stored spans with tokens but no price

# heron.*: the first span of a trace in this process (its "local root")
EXPERIMENT_ID = "heron.experiment_id"
RUN_ID = "heron.run_id"

# the trace as a whole, set by update_current_trace on whichever span is current
TRACE_NAME = "heron.trace.name"
TRACE_TAGS = "heron.trace.tags"  # JSON object
TRACE_METADATA = "heron.trace.metadata"  # JSON object
SESSION_ID = "session.id"  # OpenTelemetry's (and OpenInference's) names
USER_ID = "user.id"

# OpenTelemetry GenAI semantic conventions
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"  # chat, text_completion, embeddings, execute_tool, ...
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"  # openai, ...
GEN_AI_SYSTEM = "gen_ai.system"  # the older name of gen_ai.provider.name
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_OUTPUT_TYPE = "gen_ai.output.type"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"  # includes cached input tokens
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"  # includes reasoning tokens
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions"

# What capture_content=False removes before export: message and payload content, never usage or models.
CONTENT_ATTRIBUTES = frozenset({
    INPUTS, OUTPUTS, GEN_AI_INPUT_MESSAGES, GEN_AI_OUTPUT_MESSAGES, GEN_AI_SYSTEM_INSTRUCTIONS,
    "gen_ai.prompt", "gen_ai.completion", "input.value", "output.value", "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
})
CONTENT_PREFIXES = ("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.",
                    "llm.prompts.", "retrieval.documents.")
