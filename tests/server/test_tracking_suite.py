"""The tracking test-suite of tests/tracking, run unchanged against a live server.

The tests are imported from their modules; the ``tracking_uri`` fixture below overrides the shared one
(tests/conftest.py) so that every fluent and Client call goes through the REST store, the HTTP API and
the server's SQL store on SQLite and PostgreSQL. Tests that reach into the SQL store directly
(``get_sql_store``) stay in tests/tracking.
"""

from __future__ import annotations

import pytest

from tests.tracking.test_experiments import (  # noqa: F401 - collected here, against the server
    test_bad_experiment_names,
    test_create_get_by_id_and_name,
    test_create_with_existing_name_raises,
    test_default_experiment_cannot_be_deleted,
    test_default_experiment_exists,
    test_experiment_tags,
    test_get_missing_experiment,
    test_rename_delete_restore,
    test_search_experiments_pages,
    test_set_experiment_creates_on_first_use_and_runs_go_there,
    test_set_experiment_needs_exactly_one_argument,
)
from tests.tracking.test_runs import (  # noqa: F401
    test_asyncio_tasks_have_their_own_active_run,
    test_bad_keys_are_refused_and_nothing_written,
    test_delete_and_restore_run,
    test_end_run_with_status_and_last_active_run,
    test_latest_metric_is_highest_step_not_last_logged,
    test_log_batch_is_all_or_nothing,
    test_log_batch_same_key_several_steps,
    test_log_without_active_run_starts_one,
    test_metric_value_must_be_a_number,
    test_metrics_history_steps_timestamps_and_special_values,
    test_nan_latest_metric,
    test_nested_runs_link_parent,
    test_params_are_immutable,
    test_resume_run_by_id,
    test_run_fails_when_block_raises,
    test_run_gets_a_generated_name_and_system_tags,
    test_second_run_without_nested_raises,
    test_start_run_context_manager_finishes,
    test_tags_set_overwrite_delete,
    test_threads_each_log_into_their_own_run,
    test_value_length_limits,
)


@pytest.fixture
def tracking_uri(suite_tracking_uri: str) -> str:
    """The imported tests' store: a live server (tests/server/conftest.py), overriding tests/conftest.py's."""
    return suite_tracking_uri
