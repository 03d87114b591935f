"""Register a model: inline in the training run, or afterwards from the run's URI; then describe and tag
the version with MlflowClient (the guides' "three equivalent approaches")."""

import pickle

import heron as mlflow
from heron import MlflowClient

model = {"coef": [0.4, -1.2, 0.7], "intercept": 0.1}  # stands in for a trained estimator

# Approach 1: register inline, at the end of the training run.
with mlflow.start_run() as run:
    mlflow.log_param("C", 1.0)
    with open("model.pkl", "wb") as f:
        pickle.dump(model, f)
    mlflow.log_artifact("model.pkl", artifact_path="model")
    inline = mlflow.register_model(f"runs:/{run.info.run_id}/model", "iris-classifier")
run_id = run.info.run_id
assert inline.version == 1 and inline.run_id == run_id  # lineage: the run that produced it

# Approach 2: register from an existing run URI (e.g. after evaluating the run offline).
model_uri = f"runs:/{run_id}/model"
result = mlflow.register_model(model_uri=model_uri, name="iris-classifier")
print(f"Registered as version: {result.version}")
assert result.version == 2
assert result.source == run.info.artifact_uri + "/model"  # where the files are

# Approach 3: MlflowClient for full control.
client = MlflowClient()
client.update_model_version(
    name="iris-classifier",
    version=result.version,
    description="Logistic regression on standardised iris features. Accuracy=0.97.",
)
client.set_model_version_tag(
    name="iris-classifier",
    version=result.version,
    key="validated_by",
    value="ci-pipeline-run-892",
)
mv = client.get_model_version("iris-classifier", result.version)
print(mv.version, mv.description, mv.tags)
assert mv.tags == {"validated_by": "ci-pipeline-run-892"}

# Versions are immutable and numbered 1, 2, 3 ...; the registry answers "which run made version 2?".
assert [v.run_id for v in mlflow.search_model_versions(filter_string="name = 'iris-classifier'")] == [run_id, run_id]
