"""Every bad input is a HeronError with the right code and a message saying what was expected, and
writes nothing (issue 4, "Bad input")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import heron
from heron import MlflowClient
from heron.errors import HeronError
from heron.registry import resolve_model_version
from heron.registry.uris import VersionRef, parse


def _state() -> tuple[Any, ...]:
    """Everything the registry holds, for 'nothing was written' checks."""
    client = MlflowClient()
    models = [(m.name, m.description, sorted(m.tags.items()), sorted(m.aliases.items())) for m in client.search_registered_models()]
    versions = [(v.name, v.version, v.current_stage, sorted(v.tags.items())) for v in client.search_model_versions()]
    prompts = [(p.name, sorted(p.aliases.items()), p.latest_version) for p in heron.search_prompts()]
    return models, versions, prompts


def _rejects(call: Callable[..., Any], *args: Any, code: str = "INVALID_PARAMETER_VALUE", expect: str, **kw: Any) -> None:
    before = _state()
    with pytest.raises(HeronError) as info:
        call(*args, **kw)
    assert info.value.error_code == code, info.value.message
    assert expect in info.value.message, info.value.message
    assert _state() == before


@pytest.fixture
def seeded(tracking_uri: str) -> MlflowClient:
    client = MlflowClient()
    client.create_registered_model("m")
    client.create_model_version("m", "s3://b/1")
    client.set_registered_model_alias("m", "champion", 1)
    heron.register_prompt("p", "Hi {{ name }}")
    return client


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("", "must be a non-empty string"),
        ("   ", "must be a non-empty string"),
        ("team/model", "must not contain '/' or '@'"),
        ("model@v1", "must not contain '/' or '@'"),
        ("x" * 257, "at most 256 are allowed"),
        (" padded", "must not start or end with spaces"),
    ],
)
def test_invalid_names(seeded: MlflowClient, name: str, expect: str) -> None:
    _rejects(seeded.create_registered_model, name, expect=expect)
    _rejects(heron.register_model, "s3://b/x", name, expect=expect)
    _rejects(seeded.rename_registered_model, "m", name, expect=expect)
    _rejects(heron.register_prompt, name, "Hi", expect=expect)


def test_prompt_names_follow_mlflows_stricter_rule(seeded: MlflowClient) -> None:
    _rejects(heron.register_prompt, "my prompt", "Hi", expect="letters, digits, underscores (_), dashes (-) and periods (.)")
    assert heron.register_prompt("ok_name-1.2", "Hi").version == 1


@pytest.mark.parametrize(
    ("alias", "expect"),
    [
        ("3", "must not look like a version number"),
        ("v3", "must not look like a version number"),
        ("V12", "must not look like a version number"),
        ("latest", "'latest': it is reserved"),
        ("Latest", "'Latest': it is reserved"),
        ("", "Alias must be a non-empty string"),
        ("prod env", "may only contain letters, digits, underscores (_) and dashes (-)"),
        ("a" * 256, "at most 255 are allowed"),
    ],
)
def test_invalid_aliases(seeded: MlflowClient, alias: str, expect: str) -> None:
    _rejects(seeded.set_registered_model_alias, "m", alias, 1, expect=expect)
    _rejects(heron.set_prompt_alias, "p", alias, 1, expect=expect)


@pytest.mark.parametrize("version", ["abc", "1.5", "", "0", -1, True, None, "two"])
def test_a_version_that_is_not_a_number(seeded: MlflowClient, version: Any) -> None:
    expect = "version numbers start at 1" if version in ("0", -1) else "expected a version number such as 3"
    _rejects(seeded.get_model_version, "m", version, expect=expect)
    _rejects(seeded.set_registered_model_alias, "m", "champion", version, expect=expect)
    _rejects(seeded.transition_model_version_stage, "m", version, "Production", expect=expect)
    if version is not None:  # load_prompt(name) without a version loads the newest
        _rejects(heron.load_prompt, "p", version=version, expect=expect)


def test_an_unknown_template_format(seeded: MlflowClient) -> None:
    _rejects(
        heron.register_prompt, "p", "Hi {{ name }}", template_format="mustache",
        expect="Unknown template_format 'mustache': expected 'double_brace'",
    )
    _rejects(heron.register_prompt, "new-prompt", "Hi", template_format="f-string", expect="or 'jinja2'")
    assert heron.prompts.get_prompt("new-prompt") is None


def test_bad_templates(seeded: MlflowClient) -> None:
    _rejects(heron.register_prompt, "p", "", expect="must not be empty")
    _rejects(heron.register_prompt, "p", 42, expect="expected a string, or a non-empty list of chat messages")
    _rejects(heron.register_prompt, "p", [], expect="non-empty list of chat messages")
    _rejects(heron.register_prompt, "p", [{"role": "user"}], expect='a string "role" and a string "content"')
    _rejects(heron.register_prompt, "p", "{% if x %}unclosed", template_format="jinja2", expect="Invalid jinja2 template")
    _rejects(heron.register_prompt, "p", "Hi", response_format="json", expect="Invalid response_format")


@pytest.mark.parametrize(
    ("uri", "code", "expect"),
    [
        ("models:/m/7", "RESOURCE_DOES_NOT_EXIST", "Registered model 'm' has no version 7 (its versions are 1)."),
        ("models:/m@challenger", "RESOURCE_DOES_NOT_EXIST", "has no alias 'challenger' (its aliases are champion)"),
        ("models:/missing/1", "RESOURCE_DOES_NOT_EXIST", "Registered model 'missing' does not exist."),
        ("models:/m/abc", "INVALID_PARAMETER_VALUE", "'abc' is not a version number, 'latest' or a stage"),
        ("models:/m", "INVALID_PARAMETER_VALUE", "it names no version"),
        ("models:/m@3", "INVALID_PARAMETER_VALUE", "must not look like a version number"),
        ("models://m/1", "INVALID_PARAMETER_VALUE", "expected models:/NAME/VERSION, models:/NAME@ALIAS"),
        ("runs:/abc/model", "INVALID_PARAMETER_VALUE", "expected models:/NAME/VERSION"),
        ("models:/m/0", "INVALID_PARAMETER_VALUE", "version numbers start at 1"),
    ],
)
def test_models_uris_naming_something_missing_or_malformed(seeded: MlflowClient, uri: str, code: str, expect: str) -> None:
    _rejects(resolve_model_version, uri, code=code, expect=expect)


def test_prompts_uris(seeded: MlflowClient) -> None:
    assert parse("prompts:/p", "prompts") == VersionRef("p")
    assert parse("prompts:/p/latest", "prompts") == VersionRef("p")
    _rejects(heron.load_prompt, "prompts:/p/Production", expect="'Production' is not a version number or 'latest'")
    _rejects(heron.load_prompt, "prompts:/p/1", version=1, expect="got both the URI")
    _rejects(heron.load_prompt, "prompts:/p/4", code="RESOURCE_DOES_NOT_EXIST", expect="Prompt 'p' has no version 4")
    assert heron.load_prompt("prompts:/p/4", allow_missing=True) is None
    assert heron.load_prompt("missing", allow_missing=True) is None


def test_bad_search_filters_and_tokens(seeded: MlflowClient) -> None:
    _rejects(seeded.search_registered_models, "metrics.acc > 1", expect="expected a key starting with one of tags.")
    _rejects(seeded.search_model_versions, "version_number = 'one'", expect="compares to numbers")
    _rejects(seeded.search_registered_models, "name = 'm' AND", expect="at position 14")
    _rejects(seeded.search_registered_models, None, 100, ["tags.x"], expect="expected a key to order")
    _rejects(seeded.search_registered_models, page_token="nope", expect="Invalid page token")
    _rejects(seeded.search_registered_models, max_results=5000, expect="max_results must be an integer from 1 to 1000")


def test_bad_tags_and_stages(seeded: MlflowClient) -> None:
    _rejects(seeded.set_registered_model_tag, "m", "", "v", expect="Tag name must be a non-empty string")
    _rejects(seeded.set_model_version_tag, "m", 1, "k", "x" * 5001, expect="at most 5000 are allowed")
    _rejects(seeded.create_model_version, "m", "s3://b/2", tags={"../up": "x"}, expect="Invalid tag name")
    _rejects(seeded.get_latest_versions, "m", ["Prod"], expect="Invalid stage 'Prod'")
    _rejects(seeded.set_model_version_tag, "m", 1, "k", "v", stage="Production", expect="exactly one of version or stage")
