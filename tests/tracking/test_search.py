"""Search: the filter parser alone, then search_runs / search_experiments on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from heron.errors import INVALID_PARAMETER_VALUE, HeronError
from heron.tracking.entities import Metric, Param, Run, RunStatus, RunTag, ViewType
from heron.tracking.frames import BASE_COLUMNS, runs_to_dataframe
from heron.tracking.search import (
    EXPERIMENTS,
    And,
    Comparison,
    Or,
    OrderBy,
    decode_page_token,
    encode_page_token,
    parse_filter,
    parse_order_by,
    parse_order_by_list,
    tokenize,
)
from heron.tracking.store.sql import SqlTrackingStore
from heron.tracking.stores import get_sql_store

# --------------------------------------------------------------------------------- parser, no DB


def test_parses_a_comparison_per_entity_with_aliases() -> None:
    assert parse_filter("metrics.acc > 0.5") == Comparison("metric", "acc", ">", 0.5)
    assert parse_filter("metric.acc <= -1e3") == Comparison("metric", "acc", "<=", -1000.0)
    assert parse_filter("params.lr = '0.1'") == Comparison("param", "lr", "=", "0.1")
    assert parse_filter("param.lr != \"0.1\"") == Comparison("param", "lr", "!=", "0.1")
    assert parse_filter("parameters.lr LIKE '0.%'") == Comparison("param", "lr", "LIKE", "0.%")
    assert parse_filter("tags.team ILIKE 'a%'") == Comparison("tag", "team", "ILIKE", "a%")
    assert parse_filter("tag.team IN ('a', 'b')") == Comparison("tag", "team", "IN", ("a", "b"))
    assert parse_filter("attributes.status NOT IN ('FAILED')") == Comparison("attribute", "status", "NOT IN", ("FAILED",))
    assert parse_filter("attribute.start_time >= 5") == Comparison("attribute", "start_time", ">=", 5)
    assert parse_filter("attr.run_name = 'x'") == Comparison("attribute", "run_name", "=", "x")
    assert parse_filter("run.end_time IS NULL") == Comparison("attribute", "end_time", "IS NULL", None)
    assert parse_filter("status = 'RUNNING'") == Comparison("attribute", "status", "=", "RUNNING")
    assert parse_filter("created < 10") == Comparison("attribute", "start_time", "<", 10)
    assert parse_filter("attributes.`Run name` = 'x'") == Comparison("attribute", "run_name", "=", "x")
    assert parse_filter("tags.x IS NOT NULL") == Comparison("tag", "x", "IS NOT NULL", None)
    assert parse_filter("metrics.acc IN (1, 2.5)") == Comparison("metric", "acc", "IN", (1, 2.5))


def test_keys_with_dots_spaces_and_quotes() -> None:
    assert parse_filter("params.model.depth = '3'") == Comparison("param", "model.depth", "=", "3")
    assert parse_filter("metrics.`my metric` = 1") == Comparison("metric", "my metric", "=", 1)
    assert parse_filter('metrics."my metric" = 1') == Comparison("metric", "my metric", "=", 1)
    assert parse_filter("tags.`mlflow.runName` = 'r'") == Comparison("tag", "mlflow.runName", "=", "r")
    assert parse_filter("tags.mlflow.runName = 'r'") == Comparison("tag", "mlflow.runName", "=", "r")
    assert parse_filter("tags.`a``b` = 'r'") == Comparison("tag", "a`b", "=", "r")
    assert parse_filter("metrics.val/loss-2 < 1") == Comparison("metric", "val/loss-2", "<", 1)


def test_string_literals_double_their_quotes() -> None:
    assert parse_filter("params.x = 'it''s'") == Comparison("param", "x", "=", "it's")
    assert parse_filter('params.x = "say ""hi"""') == Comparison("param", "x", "=", 'say "hi"')
    assert parse_filter("params.x = \"it's\"") == Comparison("param", "x", "=", "it's")
    assert parse_filter("params.x = ''") == Comparison("param", "x", "=", "")
    assert parse_filter("params.x = '1'' OR 1=1 --'") == Comparison("param", "x", "=", "1' OR 1=1 --")


def test_and_binds_tighter_than_or_and_parentheses_override() -> None:
    a = Comparison("param", "a", "=", "1")
    b = Comparison("param", "b", "=", "2")
    c = Comparison("param", "c", "=", "3")
    assert parse_filter("params.a = '1' OR params.b = '2' AND params.c = '3'") == Or((a, And((b, c))))
    assert parse_filter("params.a = '1' AND params.b = '2' OR params.c = '3'") == Or((And((a, b)), c))
    assert parse_filter("(params.a = '1' OR params.b = '2') AND params.c = '3'") == And((Or((a, b)), c))
    assert parse_filter("params.a = '1' and params.b = '2' and params.c = '3'") == And((a, b, c))
    assert parse_filter("((params.a = '1')) Or (params.b = '2' oR params.c = '3')") == Or((a, b, c))


def test_keywords_are_case_insensitive_and_blank_filters_are_none() -> None:
    assert parse_filter("tags.t like 'a' AnD tags.u iLiKe 'b' and tags.v not in ('c') and tags.w is not null") == And((
        Comparison("tag", "t", "LIKE", "a"),
        Comparison("tag", "u", "ILIKE", "b"),
        Comparison("tag", "v", "NOT IN", ("c",)),
        Comparison("tag", "w", "IS NOT NULL", None),
    ))
    assert parse_filter(None) is None
    assert parse_filter("") is None
    assert parse_filter("   \n") is None


def test_tokens_keep_their_offsets() -> None:
    tokens = tokenize("metrics.`a b` >= 1 AND (params.x = 'y')")
    assert [(t.kind, t.pos) for t in tokens] == [
        ("IDENT", 0), ("OP", 14), ("NUMBER", 17), ("KEYWORD", 19), ("LPAREN", 23), ("IDENT", 24), ("OP", 33),
        ("STRING", 35), ("RPAREN", 38), ("END", 39),
    ]
    assert tokens[0].prefix == "metrics" and tokens[0].value == "a b"


BAD_FILTERS = [
    # (filter, position, token named in the message, words the message must contain)
    ("metrics.acc >> 0.5", 12, "'>>'", "expected a comparison operator"),
    ("metrics.acc = 'abc'", 14, "'abc'", "metrics compare to numbers"),
    ("params.x > 3", 9, "'>'", "params compare as strings"),
    ("params.x = 3", 11, "3", "quoted string"),
    ("attributes.start_time = 'yesterday'", 24, "'yesterday'", "compares to numbers"),
    ("metrics.acc", 11, "the end of the input", "expected a comparison operator"),
    ("metrics.acc > ", 14, "the end of the input", "expected a number"),
    ("(metrics.a > 1", 14, "the end of the input", "to close the '(' at position 0"),
    ("metrics.a > 1)", 13, "')'", "expected AND, OR or the end of the filter"),
    ("metrics.a > 1 AND", 17, "the end of the input", "expected a key"),
    ("metrics.a > 1 params.b = '2'", 14, "'params.b'", "expected AND, OR"),
    ("acc > 0.5", 0, "'acc'", "metrics.acc"),
    ("foo.bar = 'x'", 0, "'foo.bar'", "metrics., params., tags., attributes."),
    ("attributes.color = 'red'", 0, "'attributes.color'", "expected an attribute of runs"),
    ("params.x IN 'a'", 12, "'a'", "expected a list in parentheses"),
    ("params.x IN ('a' 'b')", 17, "'b'", "expected ',' or ')'"),
    ("params.x = 'abc", 11, "'abc", "never closed"),
    ("metrics.a NOT LIKE 1", 14, "'LIKE'", "expected IN after NOT"),
    ("metrics.a LIKE 1", 10, "'LIKE'", "metrics compare to numbers"),
    ("params.x = 'a' # comment", 15, "'#'", "unexpected character"),
    ("metrics.a IS 1", 13, "'1'", "expected NULL or NOT NULL"),
    ("metrics. > 1", 8, "' '", "expected a key after 'metrics.'"),
    ("params.x == 'a'", 9, "'=='", "expected a comparison operator"),
]


@pytest.mark.parametrize(("filter_string", "position", "token", "words"), BAD_FILTERS)
def test_malformed_filter_names_position_and_token(filter_string: str, position: int, token: str, words: str) -> None:
    with pytest.raises(HeronError) as info:
        parse_filter(filter_string)
    error = info.value
    assert error.error_code == INVALID_PARAMETER_VALUE
    assert error.message.startswith(f'Invalid filter "{filter_string}": at position {position}, ')
    assert token in error.message
    assert words in error.message


def test_deep_nesting_is_refused_cleanly() -> None:
    with pytest.raises(HeronError, match="nested parentheses"):
        parse_filter("(" * 500 + "params.a = '1'" + ")" * 500)
    assert parse_filter("(" * 20 + "params.a = '1'" + ")" * 20) == Comparison("param", "a", "=", "1")


def test_experiment_filters_have_their_own_attributes() -> None:
    assert parse_filter("name LIKE 'exp%'", EXPERIMENTS) == Comparison("attribute", "name", "LIKE", "exp%")
    assert parse_filter("attributes.creation_time > 5", EXPERIMENTS) == Comparison(
        "attribute", "creation_time", ">", 5
    )
    assert parse_filter("tags.group = 'x'", EXPERIMENTS) == Comparison("tag", "group", "=", "x")
    with pytest.raises(HeronError, match="one of tags., attributes."):
        parse_filter("metrics.acc > 1", EXPERIMENTS)
    with pytest.raises(HeronError, match="attribute of experiments"):
        parse_filter("status = 'x'", EXPERIMENTS)


def test_parse_order_by() -> None:
    assert parse_order_by("metrics.acc DESC") == ("metric", "acc", False)
    assert parse_order_by("metrics.`my metric` desc") == OrderBy("metric", "my metric", False)
    assert parse_order_by("params.lr") == OrderBy("param", "lr", True)
    assert parse_order_by("tags.mlflow.runName ASC") == OrderBy("tag", "mlflow.runName", True)
    assert parse_order_by("attributes.start_time ASC") == OrderBy("attribute", "start_time", True)
    assert parse_order_by("created") == OrderBy("attribute", "start_time", True)
    assert parse_order_by("name DESC", EXPERIMENTS) == OrderBy("attribute", "name", False)
    for bad, words in [
        ("metrics.acc DOWN", "at position 12, expected ASC, DESC or the end of the clause but found 'DOWN'"),
        ("metrics.acc DESC DESC", "at position 17"),
        ("speed", "at position 0, expected an attribute of runs"),
        ("> 1", "at position 0, expected a key"),
        ("", "expected a key and an optional ASC or DESC"),
    ]:
        with pytest.raises(HeronError) as info:
            parse_order_by(bad)
        assert info.value.error_code == INVALID_PARAMETER_VALUE
        assert words in info.value.message
    with pytest.raises(HeronError, match="to order experiments by"):
        parse_order_by("tags.group", EXPERIMENTS)
    with pytest.raises(HeronError, match="appears twice"):
        parse_order_by_list(["metrics.acc", "metric.acc DESC"])
    with pytest.raises(HeronError, match="a list of clauses"):
        parse_order_by_list("metrics.acc")


def test_page_tokens_round_trip_and_garbage_is_refused() -> None:
    for offset in (0, 1, 1000, 10**9):
        assert decode_page_token(encode_page_token(offset)) == offset
    assert decode_page_token(None) == 0
    assert decode_page_token("") == 0
    for garbage in ("xyz", "!!!!", "eyJhIjogMX0=", "eyJvZmZzZXQiOiAtMX0=", "eyJvZmZzZXQiOiAiMSJ9", "bnVsbA=="):
        with pytest.raises(HeronError, match="Invalid page token") as info:
            decode_page_token(garbage)
        assert info.value.error_code == INVALID_PARAMETER_VALUE


# ------------------------------------------------------------------------------- runs in a store


@dataclass
class Dataset:
    store: SqlTrackingStore
    experiment_id: str
    ids: dict[str, str]  # run name -> run id

    def names(self, filter_string: str | None, view_type: int = ViewType.ACTIVE_ONLY) -> set[str]:
        return set(self.ordered(filter_string, None, view_type))

    def ordered(
        self, filter_string: str | None, order_by: list[str] | None, view_type: int = ViewType.ACTIVE_ONLY
    ) -> list[str]:
        found = self.store.search_runs([self.experiment_id], filter_string, view_type, 1000, order_by, None)
        assert found.token is None
        return [r.info.run_name for r in found]


def _run(store: SqlTrackingStore, experiment_id: str, name: str, start: int, *, status: str = RunStatus.RUNNING,
         end: int | None = None, user: str = "alice", metrics: Sequence[tuple[str, float, int]] = (),
         params: dict[str, str] | None = None, tags: dict[str, str] | None = None) -> str:
    run = store.create_run(experiment_id, user, start, [], name)
    run_id = run.info.run_id
    store.log_batch(
        run_id,
        [Metric(k, v, start + step, step) for k, v, step in metrics],
        [Param(k, v) for k, v in (params or {}).items()],
        [RunTag(k, v) for k, v in (tags or {}).items()],
    )
    if status != RunStatus.RUNNING or end is not None:
        store.update_run_info(run_id, status, end, None)
    return run_id


@pytest.fixture
def data(tracking_uri: str) -> Dataset:
    """Seven runs covering every kind of value: ties, NaN, ±inf, missing keys, odd characters."""
    store = get_sql_store(tracking_uri)
    exp = store.create_experiment("search")
    ids = {
        "r1": _run(store, exp, "r1", 1000, status=RunStatus.FINISHED, end=1500,
                   metrics=[("acc", 0.1, 0), ("acc", 0.9, 1), ("loss", 0.1, 0), ("my metric", 1.0, 0)],
                   params={"depth": "3", "lr": "0.1", "model.depth": "7"}, tags={"team": "Alpha", "my tag": "x"}),
        "r2": _run(store, exp, "r2", 2000, status=RunStatus.FINISHED, end=2500, user="bob",
                   metrics=[("acc", 0.5, 0), ("loss", math.nan, 0)], params={"depth": "5", "lr": "0.01"},
                   tags={"team": "alpha"}),
        "r3": _run(store, exp, "r3", 3000, metrics=[("acc", math.nan, 0)], params={"depth": "3"},
                   tags={"team": "beta"}),
        "r4": _run(store, exp, "r4", 4000, status=RunStatus.FAILED, end=4500, user="bob",
                   metrics=[("acc", math.inf, 0), ("loss", -math.inf, 0)], params={"depth": "10"},
                   tags={"team": "b*ta", "path": "C:\\dir_1"}),
        "r5": _run(store, exp, "r5", 5000, status=RunStatus.KILLED, end=5500, user="carol",
                   metrics=[("acc", -math.inf, 0)]),
        "r6": _run(store, exp, "r6", 6000, user="carol", metrics=[("acc", 0.99, 0), ("acc", 0.5, 1)],
                   params={"depth": "3", "lr": "1E-3"}, tags={"team": "it's"}),
        "r7": _run(store, exp, "r7", 7000, metrics=[("acc", 0.95, 0)], params={"depth": "3"}, tags={"team": "Alpha"}),
    }
    store.delete_run(ids["r7"])
    return Dataset(store, exp, ids)


ACTIVE = {"r1", "r2", "r3", "r4", "r5", "r6"}

METRIC_CASES = [
    ("metrics.acc = 0.5", {"r2", "r6"}),
    ("metrics.acc != 0.5", {"r1", "r3", "r4", "r5"}),  # NaN is unequal to everything
    ("metrics.acc > 0.5", {"r1", "r4"}),
    ("metrics.acc >= 0.5", {"r1", "r2", "r4", "r6"}),
    ("metrics.acc < 0.5", {"r5"}),
    ("metrics.acc <= 0.5", {"r2", "r5", "r6"}),
    ("metrics.acc > 0.9", {"r4"}),  # r6 once logged 0.99, but its latest value is 0.5
    ("metrics.acc >= 0.9", {"r1", "r4"}),
    ("metrics.acc IN (0.5, 0.9)", {"r1", "r2", "r6"}),
    ("metrics.acc NOT IN (0.5, 0.9)", {"r3", "r4", "r5"}),
    ("metrics.acc > 1e308", {"r4"}),
    ("metrics.acc < -1e308", {"r5"}),
    ("metrics.loss > -1e308", {"r1"}),
    ("metrics.loss < 0", {"r4"}),
    ("metrics.loss IS NULL", {"r3", "r5", "r6"}),
    ("metrics.loss IS NOT NULL", {"r1", "r2", "r4"}),
    ("metrics.`my metric` = 1", {"r1"}),
    ('metrics."my metric" >= 1.0', {"r1"}),
    ("metric.missing > 0", set()),
    ("metrics.missing != 0", set()),  # a run without the metric never matches
]

PARAM_CASES = [
    ("params.depth = '3'", {"r1", "r3", "r6"}),
    ("params.depth = '03'", set()),  # strings, not numbers
    ("params.depth != '3'", {"r2", "r4"}),
    ("params.depth IN ('5', '10')", {"r2", "r4"}),
    ("params.depth NOT IN ('5', '10')", {"r1", "r3", "r6"}),
    ("params.lr LIKE '0.%'", {"r1", "r2"}),
    ("params.lr LIKE '0._'", {"r1"}),
    ("params.lr LIKE '1e%'", set()),
    ("params.lr ILIKE '1e%'", {"r6"}),
    ("params.depth IS NULL", {"r5"}),
    ("params.depth IS NOT NULL", {"r1", "r2", "r3", "r4", "r6"}),
    ("params.model.depth = '7'", {"r1"}),
    ("param.`model.depth` = '7'", {"r1"}),
    ("parameters.missing != 'x'", set()),
]

TAG_CASES = [
    ("tags.team = 'alpha'", {"r2"}),
    ("tags.team != 'alpha'", {"r1", "r3", "r4", "r6"}),
    ("tags.team LIKE 'A%'", {"r1"}),
    ("tags.team LIKE 'a%'", {"r2"}),
    ("tags.team ILIKE 'A%'", {"r1", "r2"}),
    ("tags.team ILIKE 'B%'", {"r3", "r4"}),
    ("tags.team LIKE 'b_ta'", {"r3", "r4"}),
    ("tags.team LIKE 'b*%'", {"r4"}),  # '*' is literal, not a wildcard
    ("tags.team LIKE 'b?ta'", set()),
    ("tags.team LIKE '%''%'", {"r6"}),
    ("tags.team = \"it's\"", {"r6"}),
    ("tags.team IN ('Alpha', 'beta')", {"r1", "r3"}),
    ("tags.team NOT IN ('Alpha', 'beta')", {"r2", "r4", "r6"}),
    ("tags.team IS NULL", {"r5"}),
    (r"tags.path = 'C:\dir_1'", {"r4"}),  # a backslash is an ordinary character, in LIKE patterns too
    (r"tags.path LIKE 'C:\%'", {"r4"}),
    (r"tags.path LIKE 'C:\dir\_1'", set()),
    (r"tags.path ILIKE 'c:\DIR_1'", {"r4"}),
    ("tags.`my tag` = 'x'", {"r1"}),
    ("tags.mlflow.runName = 'r3'", {"r3"}),
    ("tag.\"mlflow.runName\" LIKE 'r%'", ACTIVE),
]

ATTRIBUTE_CASES = [
    ("attributes.status = 'FINISHED'", {"r1", "r2"}),
    ("status != 'FINISHED'", {"r3", "r4", "r5", "r6"}),
    ("attr.status IN ('FAILED', 'KILLED')", {"r4", "r5"}),
    ("run.status NOT IN ('RUNNING')", {"r1", "r2", "r4", "r5"}),
    ("attributes.status LIKE 'F%'", {"r1", "r2", "r4"}),
    ("attributes.status LIKE 'f%'", set()),
    ("attributes.status ILIKE 'f%'", {"r1", "r2", "r4"}),
    ("attributes.run_name = 'r2'", {"r2"}),
    ("attributes.`Run name` = 'r2'", {"r2"}),
    ("run_name LIKE 'r%'", ACTIVE),
    ("attributes.user_id = 'alice'", {"r1", "r3"}),
    ("attributes.start_time = 1000", {"r1"}),
    ("attributes.start_time != 1000", ACTIVE - {"r1"}),
    ("attributes.start_time > 3000", {"r4", "r5", "r6"}),
    ("attributes.start_time < 2000", {"r1"}),
    ("attributes.start_time <= 2000", {"r1", "r2"}),
    ("attributes.created >= 3000", {"r3", "r4", "r5", "r6"}),
    ("attributes.start_time IN (1000, 2000)", {"r1", "r2"}),
    ("attributes.end_time < 3000", {"r1", "r2"}),
    ("attributes.end_time IS NULL", {"r3", "r6"}),
    ("attributes.end_time IS NOT NULL", {"r1", "r2", "r4", "r5"}),
    ("attributes.lifecycle_stage = 'active'", ACTIVE),
]

BOOLEAN_CASES = [
    ("params.depth = '3' AND metrics.acc > 0.5", {"r1"}),
    ("params.depth = '3' OR metrics.acc > 0.5", {"r1", "r3", "r4", "r6"}),
    ("tags.team = 'beta' OR params.depth = '3' AND metrics.acc >= 0.9", {"r1", "r3"}),
    ("(tags.team = 'beta' OR params.depth = '3') AND metrics.acc >= 0.9", {"r1"}),
    ("metrics.acc >= 0.9 and (tags.team = 'beta' or params.depth = '3')", {"r1"}),
    ("status = 'RUNNING' oR (metrics.acc = 0.5 AnD user_id = 'bob')", {"r2", "r3", "r6"}),
    ("((params.depth = '3'))", {"r1", "r3", "r6"}),
    ("metrics.acc < 0 OR metrics.acc > 0.5 OR metrics.acc = 0.5", {"r1", "r2", "r4", "r5", "r6"}),
]


def test_every_operator_on_every_entity_and_boolean_precedence(data: Dataset) -> None:
    # One dataset for all the cases (a store per case would make this file slow on PostgreSQL).
    cases = METRIC_CASES + PARAM_CASES + TAG_CASES + ATTRIBUTE_CASES + BOOLEAN_CASES
    found = {f: data.names(f) for f, _ in cases}
    wrong = {f: (found[f], expected) for f, expected in cases if found[f] != expected}
    assert not wrong, wrong


def test_run_id_and_artifact_uri_attributes(data: Dataset) -> None:
    r1, r2, r3 = data.ids["r1"], data.ids["r2"], data.ids["r3"]
    assert data.names(f"attributes.run_id = '{r1}'") == {"r1"}
    assert data.names(f"attributes.run_id IN ('{r1}', '{r2}')") == {"r1", "r2"}
    assert data.names(f"attributes.run_id NOT IN ('{r1}', '{r2}')") == ACTIVE - {"r1", "r2"}
    assert data.names(f"attributes.artifact_uri LIKE '%{r3}%'") == {"r3"}


def test_injection_looking_values_match_nothing(data: Dataset) -> None:
    assert data.names("params.x = '1'' OR 1=1 --'") == set()
    assert data.names("params.depth = '3'' OR ''1''=''1'") == set()
    assert data.names("tags.team = 'x''); DROP TABLE runs; --'") == set()
    assert data.names("params.`depth' OR '1'='1` = '3'") == set()
    assert data.names(None) == ACTIVE  # the tables are still there


def test_view_types(data: Dataset) -> None:
    assert data.names(None, ViewType.ACTIVE_ONLY) == ACTIVE
    assert data.names(None, ViewType.DELETED_ONLY) == {"r7"}
    assert data.names(None, ViewType.ALL) == ACTIVE | {"r7"}
    assert data.names("metrics.acc > 0.9", ViewType.ALL) == {"r4", "r7"}
    assert data.names("attributes.lifecycle_stage = 'deleted'", ViewType.ALL) == {"r7"}


ORDER_CASES = [
    (None, ["r6", "r5", "r4", "r3", "r2", "r1"]),
    (["metrics.acc DESC"], ["r4", "r1", "r6", "r2", "r5", "r3"]),  # ties (0.5) by start_time DESC; NaN last
    (["metrics.acc"], ["r5", "r6", "r2", "r1", "r4", "r3"]),
    (["metrics.loss ASC"], ["r4", "r1", "r2", "r6", "r5", "r3"]),  # numbers, NaN, then missing
    (["metrics.loss DESC"], ["r1", "r4", "r2", "r6", "r5", "r3"]),
    (["params.depth"], ["r4", "r6", "r3", "r1", "r2", "r5"]),  # strings: '10' < '3' < '5'; missing last
    (["params.depth DESC", "attributes.start_time ASC"], ["r2", "r1", "r3", "r6", "r4", "r5"]),
    (["tags.team"], ["r1", "r2", "r4", "r3", "r6", "r5"]),  # by code point: 'Alpha' < 'alpha' < 'b*ta' < 'beta'
    (["tags.team DESC"], ["r6", "r3", "r4", "r2", "r1", "r5"]),
    (["attributes.end_time DESC"], ["r5", "r4", "r2", "r1", "r6", "r3"]),
    (["attributes.end_time"], ["r1", "r2", "r4", "r5", "r6", "r3"]),
    (["attributes.run_name DESC"], ["r6", "r5", "r4", "r3", "r2", "r1"]),
    (["attributes.start_time ASC"], ["r1", "r2", "r3", "r4", "r5", "r6"]),
    (["attributes.status", "metrics.acc DESC"], ["r4", "r1", "r2", "r5", "r6", "r3"]),
    (["params.lr DESC", "tags.team"], ["r6", "r1", "r2", "r4", "r3", "r5"]),  # '1E-3' > '0.1' > '0.01'
]


def test_ordering(data: Dataset) -> None:
    wrong = {str(o): (data.ordered(None, o), expected) for o, expected in ORDER_CASES
             if data.ordered(None, o) != expected}
    assert not wrong, wrong
    assert data.ordered("params.depth = '3'", ["metrics.acc DESC"]) == ["r1", "r6", "r3"]
    with pytest.raises(HeronError, match="appears twice") as info:
        data.ordered(None, ["metrics.acc", "metrics.acc DESC"])
    assert info.value.error_code == INVALID_PARAMETER_VALUE


def test_store_raises_on_malformed_filter(data: Dataset) -> None:
    for filter_string, token in [
        ("metrics.acc >> 0.5", "'>>'"), ("params.depth > 3", "'>'"), ("metrics.acc = 'high'", "'high'"),
    ]:
        with pytest.raises(HeronError) as info:
            data.names(filter_string)
        assert info.value.error_code == INVALID_PARAMETER_VALUE
        assert filter_string in info.value.message and token in info.value.message


def _walk(store: SqlTrackingStore, experiment_ids: list[str], page_size: int, filter_string: str | None = None,
          order_by: list[str] | None = None) -> Iterator[list[Run]]:
    token: str | None = None
    while True:
        page = store.search_runs(experiment_ids, filter_string, ViewType.ACTIVE_ONLY, page_size, order_by, token)
        yield list(page)
        token = page.token
        if token is None:
            return


def test_pages_walk_every_run_exactly_once(tracking_uri: str) -> None:
    store = get_sql_store(tracking_uri)
    exp_a, exp_b = store.create_experiment("a"), store.create_experiment("b")
    # Many equal start times: only the run-id tie-break keeps pages stable.
    for i in range(20):
        exp = exp_a if i % 2 else exp_b
        _run(store, exp, f"p{i}", 1000 * (i % 3), metrics=[("m", float(i % 4), 0)], params={"even": str(i % 2 == 0)})
    everything = [r.info.run_id for r in store.search_runs([exp_a, exp_b], None, ViewType.ACTIVE_ONLY, 1000, None, None)]
    assert len(everything) == 20
    starts = {r.info.run_id: r.info.start_time for r in store.search_runs([exp_a, exp_b], None, 1, 1000, None, None)}
    assert everything == sorted(everything, key=lambda rid: (-starts[rid], rid))
    for size in (1, 3, 5, 7, 20, 25):
        pages = list(_walk(store, [exp_a, exp_b], size))
        walked = [r.info.run_id for page in pages for r in page]
        assert walked == everything, size
        assert all(len(p) == size for p in pages[:-1]) and 0 < len(pages[-1]) <= size
        assert len(pages) == max(1, math.ceil(20 / size))
    ordered = [r.info.run_id for r in store.search_runs([exp_a, exp_b], "metrics.m >= 1", 1, 1000, ["metrics.m DESC"], None)]
    walked = [r.info.run_id for p in _walk(store, [exp_a, exp_b], 4, "metrics.m >= 1", ["metrics.m DESC"]) for r in p]
    assert walked == ordered and len(ordered) == 15
    assert [r.info.run_id for p in _walk(store, [exp_a], 3) for r in p] == [
        r.info.run_id for r in store.search_runs([exp_a], None, 1, 100, None, None)
    ]
    with pytest.raises(HeronError, match="Invalid page token") as info:
        store.search_runs([exp_a], None, ViewType.ACTIVE_ONLY, 5, None, "not-a-token")
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    assert store.search_runs([], None, ViewType.ACTIVE_ONLY, 5, None, None) == []


@pytest.mark.parametrize("tracking_uri", ["sqlite"], indirect=True)
def test_sqlite_plan_walks_the_covering_start_time_index_and_probes_primary_keys(tracking_uri: str) -> None:
    store = get_sql_store(tracking_uri)
    exp = store.create_experiment("plan")
    _run(store, exp, "x", 1, metrics=[("acc", 0.7, 0)], params={"depth": "3"})
    statements: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        if "EXISTS" in statement:
            statements.append((statement, parameters))

    sa.event.listen(store.db.engine, "before_cursor_execute", capture)
    try:
        found = store.search_runs([exp], "metrics.acc > 0.5 and params.depth = '3'", 1, 1000, None, None)
    finally:
        sa.event.remove(store.db.engine, "before_cursor_execute", capture)
    assert [r.info.run_name for r in found] == ["x"]
    statement, parameters = statements[-1]
    assert "0.5" not in statement and "'3'" not in statement  # bound, never formatted in
    with store.db.read() as conn:
        plan = " | ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))  # type: ignore[arg-type]
    assert "USING COVERING INDEX ix_runs_experiment_start_covering" in plan, plan
    # (run_uuid, key) probes: the primary key of these WITHOUT ROWID tables.
    assert "SEARCH latest_metrics USING PRIMARY KEY (run_uuid=? AND key=?)" in plan, plan
    assert "SEARCH params USING PRIMARY KEY (run_uuid=? AND key=?)" in plan, plan
    assert "SCAN latest_metrics" not in plan and "SCAN params" not in plan, plan


# --------------------------------------------------------------------------------- experiments


def test_search_experiments(tracking_uri: str) -> None:
    store = get_sql_store(tracking_uri)
    ids = {
        "exp-a": store.create_experiment("exp-a", tags=[RunTag("group", "x")]),
        "Exp-B": store.create_experiment("Exp-B", tags=[RunTag("group", "X")]),
        "other": store.create_experiment("other"),
        "gone": store.create_experiment("gone", tags=[RunTag("group", "x")]),
    }
    store.delete_experiment(ids["gone"])

    def names(filter_string: str | None, view_type: int = ViewType.ACTIVE_ONLY,
              order_by: list[str] | None = None) -> list[str]:
        found = store.search_experiments(view_type, 1000, filter_string, order_by, None)
        return [e.name for e in found]

    # Default order: creation_time DESC, then experiment_id ASC (MLflow's).
    expected = sorted(["Default", "exp-a", "Exp-B", "other"],
                      key=lambda n: (-store.get_experiment(ids.get(n, "0")).creation_time, int(ids.get(n, "0"))))  # type: ignore[operator]
    assert names(None) == expected
    assert set(names("name = 'exp-a'")) == {"exp-a"}
    assert set(names("attributes.name != 'exp-a'")) == {"Default", "Exp-B", "other"}
    assert set(names("name LIKE 'exp%'")) == {"exp-a"}
    assert set(names("name ILIKE 'exp%'")) == {"exp-a", "Exp-B"}
    assert set(names("tags.group = 'x'")) == {"exp-a"}
    assert set(names("tags.group ILIKE 'x'")) == {"exp-a", "Exp-B"}
    assert set(names("tags.group != 'x'")) == {"Exp-B"}
    assert set(names("tags.group IS NULL")) == {"Default", "other"}
    assert set(names("tags.group = 'x'", ViewType.ALL)) == {"exp-a", "gone"}
    assert names(None, ViewType.DELETED_ONLY) == ["gone"]
    assert set(names("creation_time > 0 AND last_update_time >= 0")) == {"Default", "exp-a", "Exp-B", "other"}
    assert set(names("name = 'other' OR (tags.group = 'X' AND name LIKE 'Exp%')")) == {"other", "Exp-B"}
    assert names(None, order_by=["name"]) == ["Default", "Exp-B", "exp-a", "other"]
    assert names(None, order_by=["name DESC"]) == ["other", "exp-a", "Exp-B", "Default"]
    assert names(None, order_by=["experiment_id DESC"]) == ["other", "Exp-B", "exp-a", "Default"]
    pages: list[str] = []
    token: str | None = None
    while True:
        page = store.search_experiments(ViewType.ALL, 2, None, ["name"], token)
        pages += [e.name for e in page]
        token = page.token
        if token is None:
            break
    assert pages == ["Default", "Exp-B", "exp-a", "gone", "other"]
    with pytest.raises(HeronError, match="at position 0") as info:
        names("metrics.acc > 1")
    assert info.value.error_code == INVALID_PARAMETER_VALUE
    with pytest.raises(HeronError, match="to order experiments by"):
        names(None, order_by=["tags.group"])


# ----------------------------------------------------------------------------------- DataFrames


def test_runs_to_dataframe(data: Dataset) -> None:
    runs = data.store.search_runs([data.experiment_id], None, ViewType.ACTIVE_ONLY, 100, ["attributes.start_time"], None)
    df = runs_to_dataframe(runs)
    assert list(df.columns) == [
        *BASE_COLUMNS, "metrics.acc", "metrics.loss", "metrics.my metric",
        "params.depth", "params.lr", "params.model.depth", "tags.mlflow.runName", "tags.my tag", "tags.path", "tags.team",
    ]
    assert list(df["run_id"]) == [r.info.run_id for r in runs]
    assert str(df["start_time"].dtype) == "datetime64[ns, UTC]"
    assert str(df["end_time"].dtype) == "datetime64[ns, UTC]"
    assert df["start_time"][0].value == 1000 * 1_000_000
    assert df["end_time"].isna().tolist() == [False, False, True, False, False, True]
    assert df["metrics.acc"].dtype == "float64"
    acc = df["metrics.acc"].tolist()
    assert acc[0] == 0.9 and math.isnan(acc[2]) and acc[3] == math.inf and acc[4] == -math.inf
    assert math.isnan(df["metrics.loss"][4])  # missing
    assert df["params.depth"].tolist() == ["3", "5", "3", "10", None, "3"]
    assert df["tags.mlflow.runName"].tolist() == ["r1", "r2", "r3", "r4", "r5", "r6"]
    empty = runs_to_dataframe([])
    assert list(empty.columns) == list(BASE_COLUMNS) and len(empty) == 0
