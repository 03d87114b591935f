"""Finding runs: the filter language, ordering, pages and the two output formats."""

import heron

heron.set_experiment("fraud-detection")
for depth in (3, 5, 8):
    for lr in (0.1, 0.01):
        with heron.start_run(run_name=f"rf-d{depth}-lr{lr}"):
            heron.log_params({"depth": depth, "lr": lr, "model": "rf"})
            heron.log_metric("val_auc", 0.8 + depth / 100 + lr)
            heron.set_tag("team", "risk" if depth < 8 else "research")

# MLflow's filter language: metrics., params., tags., attributes.
df = heron.search_runs(
    experiment_names=["fraud-detection"],
    filter_string="metrics.val_auc > 0.9 and params.model = 'rf'",
    order_by=["metrics.val_auc DESC"],
)
print(df[["tags.mlflow.runName", "params.depth", "params.lr", "metrics.val_auc"]])
assert len(df) == 3

# Beyond MLflow: OR and parentheses.
runs = heron.search_runs(
    filter_string="(params.depth = '3' OR params.depth = '8') AND tags.team != 'research'",
    output_format="list",
)
assert {r.data.params["depth"] for r in runs} == {"3"}

# Pages, with the Client.
client = heron.MlflowClient()
experiment = client.get_experiment_by_name("fraud-detection")
assert experiment is not None
page = client.search_runs([experiment.experiment_id], max_results=4, order_by=["attributes.start_time ASC"])
rest = client.search_runs(
    [experiment.experiment_id], max_results=4, page_token=page.token, order_by=["attributes.start_time ASC"]
)
assert len(page) == 4 and len(rest) == 2 and rest.token is None

# A malformed filter says where it went wrong.
try:
    heron.search_runs(filter_string="metrics.val_auc >> 0.5")
except heron.HeronError as err:
    print(err.message)
    assert err.error_code == "INVALID_PARAMETER_VALUE"
