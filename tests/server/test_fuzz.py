"""Fuzzing the published OpenAPI schema with schemathesis: whatever comes in, no answer is a 5xx.

Every operation gets a bounded number of generated requests, valid and invalid ones (schemathesis'
positive and negative modes), which keeps the run well under a minute. Error answers keep MLflow's
shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a test dependency")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from heron.server import BackgroundServer  # noqa: E402
from tests.server.conftest import server_settings  # noqa: E402

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def fuzzed_server(tmp_path: Path) -> Iterator[BackgroundServer]:
    with BackgroundServer(server_settings(tmp_path, max_body_bytes=256 * 1024)) as server:
        yield server


def _check(case: Any, failures: list[str]) -> None:
    response = case.call(timeout=30)
    where = f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:200]}"
    if response.status_code >= 500:
        failures.append(f"{where} -> {response.status_code} {response.text[:300]}")
    content_type = response.headers.get("content-type") or [""]
    if 400 <= response.status_code < 500 and content_type[0].startswith("application/json"):
        body = response.json()
        if not (isinstance(body, dict) and set(body) == {"error_code", "message"}):
            failures.append(f"{where} -> error body {body!r}")


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_input_makes_the_server_fail(fuzzed_server: BackgroundServer, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: Any) -> None:
            _check(case, failures)

        try:
            fuzz()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing invalid to send (e.g. /health takes no input)
    assert operations >= 25
    assert failures == [], "\n".join(failures[:20])
