"""The registry and prompt test-suites of tests/registry and tests/prompts, run unchanged against a live
server: every registry and prompt call goes through the REST registry store, the HTTP API and the
server's SQL store, on SQLite and PostgreSQL.

The tests are imported from their modules; ``tracking_uri`` (from test_tracking_suite) overrides the
shared fixture of tests/conftest.py. Tests that count SQL statements in the client process
(tests/prompts/test_cache.py) stay where they are, and so does the trace link test: it reads traces
back with ``search_traces``, which has no REST store yet.
"""

from __future__ import annotations

from tests.prompts.conftest import _fresh_prompt_state  # noqa: F401 - autouse, as in tests/prompts
from tests.prompts.test_links import (  # noqa: F401 - collected here, against the server
    fresh_tracing,
    test_load_prompt_inside_a_run_links_the_run,
    test_outside_spans_and_runs_nothing_is_linked,
)
from tests.prompts.test_prompt_registry import (  # noqa: F401
    test_aliases,
    test_jinja2_prompts_round_trip,
    test_prompt_methods_on_the_client,
    test_register_and_load_versions,
    test_search_tags_and_delete,
)
from tests.registry.test_bad_input import (  # noqa: F401
    seeded,
    test_a_version_that_is_not_a_number,
    test_an_unknown_template_format,
    test_bad_search_filters_and_tokens,
    test_bad_tags_and_stages,
    test_bad_templates,
    test_invalid_aliases,
    test_invalid_names,
    test_models_uris_naming_something_missing_or_malformed,
    test_prompt_names_follow_mlflows_stricter_rule,
    test_prompts_uris,
)
from tests.registry.test_concurrency import (  # noqa: F401
    test_eight_processes_create_versions_of_one_name,
    test_processes_registering_a_new_name_at_once_agree_on_it,
)
from tests.registry.test_models import (  # noqa: F401
    test_a_version_is_immutable_apart_from_its_metadata,
    test_aliases_point_at_one_version_and_move,
    test_an_alias_move_is_atomic_for_readers,
    test_copy_model_version_across_models,
    test_create_get_update_delete_a_registered_model,
    test_create_model_version_needs_an_existing_model,
    test_deleting_an_aliased_version_removes_the_alias,
    test_models_and_prompts_never_appear_in_each_others_results,
    test_models_uris_resolve_to_the_version_and_its_source,
    test_register_model_from_a_run_records_source_and_lineage,
    test_rename_carries_versions_tags_and_aliases,
    test_stage_transitions_and_latest_versions_per_stage,
    test_tags_on_versions_by_number_or_stage,
    test_the_registry_is_in_the_tracking_store_and_survives_reopening,
    test_versions_are_numbered_1_2_3_and_never_reused,
)
from tests.registry.test_search import (  # noqa: F401
    registry,
    test_a_quote_in_a_value_is_just_a_character,
    test_model_versions_by_name_run_source_version_and_tags,
    test_registered_models_by_name_and_tags,
    test_registered_models_pages,
)
from tests.server.test_tracking_suite import tracking_uri  # noqa: F401 - the live-server fixture
