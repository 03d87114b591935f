"""Manual logging, as the MLflow guides write it: only the import line changes."""

import json
import os
import random
import tempfile

import heron as mlflow

mlflow.set_experiment("iris-classifier-v2")

params = {"n_estimators": 100, "max_depth": 5, "random_state": 42}

with mlflow.start_run(run_name="rf-tuning-run-01") as run:
    for k, v in params.items():
        mlflow.log_param(k, v)

    random.seed(params["random_state"])
    for epoch in range(5):
        mlflow.log_metric("train_loss", 1.0 / (epoch + 1) + random.random() / 100, step=epoch)
    mlflow.log_metric("accuracy", 0.953)
    mlflow.log_metric("f1_weighted", 0.951)

    report_dir = tempfile.mkdtemp()
    imp_path = os.path.join(report_dir, "feature_importance.json")
    with open(imp_path, "w") as f:
        json.dump({"petal_length": 0.44, "petal_width": 0.42, "sepal_length": 0.1}, f)
    mlflow.log_artifact(imp_path, artifact_path="reports")
    mlflow.log_dict({"dataset": "iris", "n_samples": 150}, "data_info.json")

finished = mlflow.get_run(run.info.run_id)
assert finished.info.status == "FINISHED"
assert finished.data.params["max_depth"] == "5"
assert finished.data.metrics["accuracy"] == 0.953
history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
assert [m.step for m in history] == [0, 1, 2, 3, 4]
names = sorted(f.path for f in mlflow.MlflowClient().list_artifacts(run.info.run_id))
assert names == ["data_info.json", "reports"], names
print(f"run {run.info.run_id}: accuracy={finished.data.metrics['accuracy']}")
