"""A hyper-parameter sweep: one parent run, one nested child run per trial."""

import heron

heron.set_experiment("sweep-demo")

with heron.start_run(run_name="depth-sweep") as parent:
    heron.log_param("search", "grid")
    best = None
    for depth in [3, 5, 7]:
        with heron.start_run(run_name=f"depth_{depth}", nested=True):
            heron.log_param("max_depth", depth)
            val_auc = 0.80 + depth / 100  # stands in for training and scoring a model
            heron.log_metric("val_auc", val_auc)
            best = max(best or 0.0, val_auc)
    heron.log_metric("best_val_auc", best)

children = heron.search_runs(
    filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    order_by=["metrics.val_auc DESC"],
)
print(children[["tags.mlflow.runName", "params.max_depth", "metrics.val_auc"]])
assert list(children["params.max_depth"]) == ["7", "5", "3"]
