"""Span types: what a span stands for in an LLM app (MLflow's names). Free strings are allowed too."""

from __future__ import annotations

__all__ = ["SpanType"]


class SpanType:
    """The span types Heron and its integrations set; any other string is accepted as a type."""

    LLM = "LLM"
    CHAT_MODEL = "CHAT_MODEL"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    PARSER = "PARSER"
    MEMORY = "MEMORY"
    UNKNOWN = "UNKNOWN"
