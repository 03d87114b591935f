"""search_registered_models and search_model_versions: the filter language, ordering and pages."""

from __future__ import annotations

import pytest

import heron
from heron import MlflowClient


@pytest.fixture
def registry(tracking_uri: str) -> MlflowClient:
    client = MlflowClient()
    for name, team in (("Fraud-RF", "risk"), ("fraud-xgb", "risk"), ("churn", "growth"), ("qa_chain", "llm")):
        client.create_registered_model(name, tags={"team": team})
    with heron.start_run() as run:
        pass
    client.create_model_version("Fraud-RF", "s3://b/rf/1", tags={"validated": "yes"})
    client.create_model_version("Fraud-RF", f"runs:/{run.info.run_id}/model")
    client.create_model_version("Fraud-RF", "s3://b/rf/3")
    client.create_model_version("churn", "s3://b/churn/1", tags={"validated": "no"})
    client.transition_model_version_stage("Fraud-RF", 3, "Production")
    client.run_id = run.info.run_id  # type: ignore[attr-defined]
    return client


def _names(models: list[object]) -> list[str]:
    return [m.name for m in models]  # type: ignore[attr-defined]


def test_registered_models_by_name_and_tags(registry: MlflowClient) -> None:
    assert _names(registry.search_registered_models()) == ["Fraud-RF", "churn", "fraud-xgb", "qa_chain"]
    assert _names(registry.search_registered_models("name LIKE 'fraud%'")) == ["fraud-xgb"]  # LIKE is case-sensitive
    assert _names(registry.search_registered_models("name ILIKE 'fraud%'")) == ["Fraud-RF", "fraud-xgb"]
    assert _names(registry.search_registered_models("name = 'churn'")) == ["churn"]
    assert _names(registry.search_registered_models("tags.team = 'risk' AND name != 'fraud-xgb'")) == ["Fraud-RF"]
    assert _names(registry.search_registered_models("tags.team IN ('llm', 'growth')")) == ["churn", "qa_chain"]
    assert _names(registry.search_registered_models("tags.missing IS NULL AND name LIKE '%_chain'")) == ["qa_chain"]
    assert _names(registry.search_registered_models(order_by=["name DESC"])) == ["qa_chain", "fraud-xgb", "churn", "Fraud-RF"]


def test_registered_models_pages(registry: MlflowClient) -> None:
    first = registry.search_registered_models(max_results=3)
    assert len(first) == 3 and first.token
    rest = registry.search_registered_models(max_results=3, page_token=first.token)
    assert _names(rest) == ["qa_chain"] and rest.token is None
    assert _names(heron.search_registered_models(max_results=2)) == ["Fraud-RF", "churn"]


def test_model_versions_by_name_run_source_version_and_tags(registry: MlflowClient) -> None:
    def keys(flt: str | None = None, order_by: list[str] | None = None) -> list[tuple[str, int]]:
        return [(v.name, v.version) for v in registry.search_model_versions(flt, order_by=order_by)]

    assert keys() == [("Fraud-RF", 3), ("Fraud-RF", 2), ("Fraud-RF", 1), ("churn", 1)]
    assert keys("name = 'Fraud-RF' AND version_number >= 2") == [("Fraud-RF", 3), ("Fraud-RF", 2)]
    run_id = registry.run_id  # type: ignore[attr-defined]
    assert keys(f"run_id = '{run_id}'") == [("Fraud-RF", 2)]
    assert keys(f"run_id IN ('{run_id}', 'other')") == [("Fraud-RF", 2)]
    assert keys("source_path LIKE 's3://b/%/1'") == [("Fraud-RF", 1), ("churn", 1)]
    assert keys("tags.validated = 'yes'") == [("Fraud-RF", 1)]
    assert keys("current_stage = 'Production'") == [("Fraud-RF", 3)]
    assert keys("tags.validated = 'no' OR version_number = 2") == [("Fraud-RF", 2), ("churn", 1)]
    assert keys(order_by=["version_number ASC", "name DESC"]) == [
        ("churn", 1), ("Fraud-RF", 1), ("Fraud-RF", 2), ("Fraud-RF", 3)
    ]
    page = registry.search_model_versions(max_results=3)
    assert len(page) == 3 and page.token
    assert [(v.name, v.version) for v in registry.search_model_versions(max_results=3, page_token=page.token)] == [
        ("churn", 1)
    ]
    assert len(heron.search_model_versions(filter_string="name = 'Fraud-RF'")) == 3
    found = registry.search_model_versions("name = 'Fraud-RF' AND version_number = 3")[0]
    assert found.current_stage == "Production" and found.source == "s3://b/rf/3"


def test_a_quote_in_a_value_is_just_a_character(registry: MlflowClient) -> None:
    registry.create_registered_model("it's")
    assert _names(registry.search_registered_models("name = 'it''s'")) == ["it's"]
    assert _names(registry.search_registered_models("name = 'x'' OR ''1''=''1'")) == []
