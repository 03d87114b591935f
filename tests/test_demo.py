"""`make demo`'s seeding step, as README.md promises it: runs, metric histories, a registered model and
a prompt, and traced LLM calls that load the prompt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import heron

REPO = Path(__file__).resolve().parents[1]


def test_demo_seeds_runs_and_llm_traces(tmp_path: Path) -> None:
    store = tmp_path / "demo-store"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "OPENAI_"))}
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py"), "--store", str(store), "--no-serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    heron.set_tracking_uri(f"file:{store}")
    runs = heron.search_runs(experiment_names=["demo-churn-model"], output_format="list")
    assert len(runs) == 10
    traces = heron.search_traces(
        experiment_ids=[heron.get_experiment_by_name("demo-support-bot").experiment_id],  # type: ignore[union-attr]
        return_type="list",
    )
    assert len(traces) == 5
    statuses = sorted(t.info.status for t in traces)
    assert statuses.count("ERROR") == 1
    priced = [t for t in traces if t.info.total_tokens]
    assert len(priced) == 4 and all(t.info.cost for t in priced)
    # the registry: a model with aliases on the sweep's best runs, a prompt with two versions used by traces
    client = heron.MlflowClient()
    model = client.get_registered_model("churn-classifier")
    assert model.aliases == {"challenger": 1, "champion": 2}
    champion = client.get_model_version_by_alias("churn-classifier", "champion")
    assert champion.run_id in {r.info.run_id for r in runs} and champion.current_stage == "Production"
    assert heron.load_prompt("prompts:/support-answer@production").version == 2
    for version, count in (("1", 2), ("2", 2)):
        linked = heron.search_traces(
            experiment_ids=[heron.get_experiment_by_name("demo-support-bot").experiment_id],  # type: ignore[union-attr]
            filter_string=f"tags.`heron.prompt.support-answer` = '{version}'",
            return_type="list",
        )
        assert len(linked) == count
