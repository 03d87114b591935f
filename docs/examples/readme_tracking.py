"""README's tracking example, as written there."""

import heron as mlflow  # or: import heron

mlflow.set_experiment("iris-classifier-v2")
with mlflow.start_run(run_name="rf-tuning-run-01") as run:
    mlflow.log_params({"n_estimators": 100, "max_depth": 5})
    for epoch in range(5):
        mlflow.log_metric("train_loss", 1 / (epoch + 1), step=epoch)
    mlflow.log_metric("accuracy", 0.953)
    mlflow.log_dict({"dataset": "iris"}, "data_info.json")

df = mlflow.search_runs(filter_string="metrics.accuracy > 0.9 and params.max_depth = '5'")
assert len(df) == 1
