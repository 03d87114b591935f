"""Searching models and versions with filter strings; models and prompts never mix."""

import heron as mlflow
from heron import MlflowClient

client = MlflowClient()
for name, team in (("fraud-rf", "risk"), ("fraud-xgb", "risk"), ("churn", "growth")):
    client.create_registered_model(name, tags={"team": team}, description=f"{name} model")
    for i in range(2):
        client.create_model_version(name, f"s3://models/{name}/{i + 1}", tags={"validated": str(i == 1)})
mlflow.register_prompt("fraud-explainer", "Explain why {{ txn }} looks fraudulent.")  # a prompt, not a model

print([m.name for m in mlflow.search_registered_models(filter_string="name LIKE 'fraud%'")])
assert [m.name for m in mlflow.search_registered_models(filter_string="name LIKE 'fraud%'")] == ["fraud-rf", "fraud-xgb"]
assert [m.name for m in client.search_registered_models("tags.team = 'growth'")] == ["churn"]

versions = client.search_model_versions("tags.validated = 'True' AND version_number >= 2", order_by=["name ASC"])
print([(v.name, v.version) for v in versions])
assert [(v.name, v.version) for v in versions] == [("churn", 2), ("fraud-rf", 2), ("fraud-xgb", 2)]

page = client.search_registered_models(max_results=2)
rest = client.search_registered_models(max_results=2, page_token=page.token)
assert [m.name for m in page] + [m.name for m in rest] == ["churn", "fraud-rf", "fraud-xgb"]
assert [p.name for p in mlflow.search_prompts()] == ["fraud-explainer"]
