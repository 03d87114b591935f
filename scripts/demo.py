"""Seed a demo store: an experiment with a small hyper-parameter sweep, metric histories and artifacts.

Run by `make demo`. Later issues add traced LLM calls and the web UI to it.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
from pathlib import Path

import heron


def seed(store: Path) -> str:
    heron.set_tracking_uri(f"file:{store}")
    experiment = heron.set_experiment("demo-churn-model")
    random.seed(7)
    with heron.start_run(run_name="lr-depth-sweep") as parent:
        heron.set_tag("purpose", "demo")
        for depth in (3, 5, 8):
            for lr in (0.3, 0.1, 0.03):
                with heron.start_run(run_name=f"gbt-d{depth}-lr{lr}", nested=True):
                    heron.log_params({"model": "gradient-boosting", "max_depth": depth, "learning_rate": lr})
                    loss = 0.7
                    for step in range(30):
                        loss *= 1 - lr * (0.2 + random.random() * 0.1)
                        heron.log_metric("train_loss", loss, step=step)
                        heron.log_metric("val_loss", loss * (1.05 + depth / 100), step=step)
                    auc = 0.80 + 0.1 * (1 - math.exp(-depth * lr)) + random.random() / 100
                    heron.log_metrics({"val_auc": auc, "val_f1": auc - 0.07})
                    heron.log_dict({"max_depth": depth, "learning_rate": lr}, "config.yaml")
        best = heron.search_runs(
            filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
            order_by=["metrics.val_auc DESC"],
            max_results=1,
            output_format="list",
        )[0]
        heron.log_metric("best_val_auc", best.data.metrics["val_auc"])
        heron.set_tag("best_run_id", best.info.run_id)
    return experiment.experiment_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", default="demo-store", help="folder for the demo store (replaced)")
    args = parser.parse_args()
    store = Path(args.store).resolve()
    if store.exists():
        shutil.rmtree(store)
    experiment_id = seed(store)
    runs = heron.search_runs(experiment_ids=[experiment_id], output_format="list")
    print(f"Demo store at {store}: experiment 'demo-churn-model' (id {experiment_id}) with {len(runs)} runs.")
    print("Look at it:")
    print(
        f"  .venv/bin/heron runs list --tracking-uri file:{store} -x {experiment_id} --order-by 'metrics.val_auc DESC'"
    )
    print(
        f"  .venv/bin/python -c \"import heron; heron.set_tracking_uri('file:{store}'); "
        f"print(heron.search_runs(experiment_names=['demo-churn-model']))\""
    )


if __name__ == "__main__":
    main()
