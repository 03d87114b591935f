"""The Client: explicit run ids, log_batch and metric history (MLflow's MlflowClient names)."""

import time

from heron import MlflowClient
from heron.entities import Metric, Param, RunTag

client = MlflowClient()
experiment_id = client.create_experiment("client-demo", tags={"owner": "ana"})
run = client.create_run(experiment_id, run_name="batch-logging")
run_id = run.info.run_id

now = int(time.time() * 1000)
client.log_batch(
    run_id,
    metrics=[Metric("loss", 1.0 / (step + 1), now + step, step) for step in range(100)],
    params=[Param("optimizer", "adam"), Param("lr", "0.001")],
    tags=[RunTag("stage", "pretrain")],
)
client.set_terminated(run_id)

history = client.get_metric_history(run_id, "loss")
assert len(history) == 100 and history[-1].step == 99
finished = client.get_run(run_id)
assert finished.info.status == "FINISHED"
print(finished.data.params, round(finished.data.metrics["loss"], 4))

# A bad batch writes nothing and says what was wrong.
try:
    client.log_batch(run_id, metrics=[Metric("ok", 1.0, now, 0), Metric("bad", "high", now, 0)])
except Exception as err:
    print(err)
assert "ok" not in client.get_run(run_id).data.metrics
