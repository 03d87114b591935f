"""The model and prompt registries over a Heron server: register, alias, resolve, load a prompt.

This script starts a Heron server itself (in a background thread) on a free port of 127.0.0.1 and stops
it at the end; in real use the server runs once and every script points at it with HERON_TRACKING_URI
(or MLFLOW_TRACKING_URI).
"""

import tempfile

import heron
from heron import MlflowClient
from heron.registry import get_underlying_uri
from heron.server import BackgroundServer, Settings

workdir = tempfile.mkdtemp(prefix="heron-registry-demo-")
server = BackgroundServer(
    Settings(backend_store_uri=f"sqlite:///{workdir}/team.db", artifacts_destination=f"{workdir}/artifacts")
).start()  # heron server on 127.0.0.1 and a free port, in a thread of this script
url = server.url
try:
    heron.set_tracking_uri(url)  # the registry lives on the server too

    # Models: register a run's model, point an alias at it, resolve models:/ URIs.
    with heron.start_run() as run:
        heron.log_text("weights", "model/weights.txt")
    version = heron.register_model(f"runs:/{run.info.run_id}/model", "fraud-rf")
    client = MlflowClient()
    client.set_registered_model_alias("fraud-rf", "champion", version.version)
    client.transition_model_version_stage("fraud-rf", version.version, "Production")
    champion = client.get_model_version_by_alias("fraud-rf", "champion")
    print("champion is version", champion.version, "from run", champion.run_id)
    print("models:/fraud-rf@champion ->", get_underlying_uri("models:/fraud-rf@champion"))
    assert [m.name for m in heron.search_registered_models(filter_string="name LIKE 'fraud%'")] == ["fraud-rf"]

    # Prompts: register two versions, move the production alias, load it as an app would.
    heron.register_prompt("qa", "Answer briefly: {{ question }}", commit_message="first")
    heron.register_prompt("qa", "Answer in one sentence: {{ question }}", commit_message="shorter")
    heron.set_prompt_alias("qa", "production", 2)
    prompt = heron.load_prompt("prompts:/qa@production")
    print(prompt.format(question="What is MLflow?"))
    assert prompt.version == 2
finally:
    server.stop()  # graceful: in-flight requests finish first
