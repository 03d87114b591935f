"""Aliases, tags and descriptions (preferred over stages), and cross-environment promotion."""

import heron as mlflow
from heron import MlflowClient
from heron.registry import get_underlying_uri, resolve_model_version

# Eight retrains of the same model, each registered as the next version.
for i in range(8):
    mlflow.register_model(f"s3://models/fraud-rf/retrain-{i + 1}", "fraud-rf")

client = MlflowClient()
client.set_registered_model_alias("fraud-rf", "champion", version=7)
client.set_registered_model_alias("fraud-rf", "challenger", version=8)

# Serving loads by alias, so promoting is a one-line alias update.
print(get_underlying_uri("models:/fraud-rf@champion"))
assert resolve_model_version("models:/fraud-rf@champion").version == 7

# Tags and description
client.set_registered_model_tag("fraud-rf", "task", "binary-classification")
client.set_model_version_tag("fraud-rf", "7", "validation_status", "approved")
client.update_model_version("fraud-rf", 7, description="100 trees, depth 8, 2026-06 retrain")
champion = client.get_model_version_by_alias("fraud-rf", "champion")
assert champion.tags == {"validation_status": "approved"} and champion.aliases == ["champion"]

# Promote the challenger: the alias moves atomically; roll back the same way.
client.set_registered_model_alias("fraud-rf", "champion", version=8)
assert resolve_model_version("models:/fraud-rf@champion").version == 8
client.set_registered_model_alias("fraud-rf", "champion", version=7)
print(client.get_registered_model("fraud-rf").aliases)  # {'challenger': 8, 'champion': 7}

# Cross-environment promotion: copy a candidate into the production model.
client.set_registered_model_alias("fraud-rf", "candidate", version=8)
copied = client.copy_model_version(src_model_uri="models:/fraud-rf@candidate", dst_name="fraud-rf-prod")
print(copied.name, copied.version, copied.source)  # fraud-rf-prod 1 models:/fraud-rf/8
assert get_underlying_uri("models:/fraud-rf-prod/1") == "s3://models/fraud-rf/retrain-8"

# Deleting a version that an alias points at removes the alias.
client.delete_model_version("fraud-rf", 8)
assert client.get_registered_model("fraud-rf").aliases == {"champion": 7}
