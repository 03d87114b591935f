"""The deprecated stages (None, Staging, Production, Archived), as older guides' code uses them."""

import heron as mlflow
from heron import MlflowClient
from heron.registry import get_underlying_uri

for i in range(3):
    mlflow.register_model(f"s3://models/churn/{i + 1}", "CustomerChurnModel")

client = MlflowClient()
client.transition_model_version_stage(name="CustomerChurnModel", version=2, stage="Production")
client.transition_model_version_stage(
    name="CustomerChurnModel",
    version=3,
    stage="Production",
    archive_existing_versions=True,  # version 2 moves to Archived in the same transaction
)
client.update_model_version(name="CustomerChurnModel", version=3, description="Retrained on Q4 data; +3% F1.")
client.set_model_version_tag(name="CustomerChurnModel", version=3, key="dataset", value="customer_data_2025_Q4")

assert client.get_model_version("CustomerChurnModel", 2).current_stage == "Archived"
for mv in client.get_latest_versions("CustomerChurnModel"):
    print(mv.current_stage, mv.version)  # None 1, Production 3, Archived 2

# models:/NAME/Production resolves to the newest version in that stage.
assert get_underlying_uri("models:/CustomerChurnModel/Production") == "s3://models/churn/3"
