"""Seed a demo store and serve it.

`make demo` runs this: an experiment with a small hyper-parameter sweep (metric histories, artifacts),
the two best runs registered as versions of a model (aliases `champion` and `challenger`), a prompt
with two versions (alias `production`), then a small LLM app (a support-desk answerer) traced by
`heron.openai.autolog()` against a local OpenAI-compatible endpoint that loads that prompt, then
`heron server` on 127.0.0.1 over the demo store.

The endpoint is the fake OpenAI server the tests use (tests/fakes), so no API key or network is
needed; set OPENAI_BASE_URL (and OPENAI_API_KEY) to trace a real OpenAI-compatible server instead.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import heron

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    ("How do I reset my password?", "alice", "s-1"),
    ("Can I get a refund for a duplicate charge?", "alice", "s-1"),
    ("What is the weather in Paris?", "bob", "s-2"),
    ("How long does shipping to Lyon take?", "carol", "s-3"),
]
MODEL = "churn-classifier"
PROMPT = "support-answer"
PROMPT_V1 = "Answer from these notes: {{ notes }}"
PROMPT_V2 = """You are the support desk of an online shop.
Answer from these notes: {{ notes }}
Keep the answer under {{ max_words }} words.
If the notes do not answer the question, say so."""


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


def seed_registry(store: Path) -> None:
    """Register the sweep's two best runs as versions of a model, and the support bot's prompt."""
    heron.set_tracking_uri(f"file:{store}")
    best = heron.search_runs(
        experiment_names=["demo-churn-model"],
        filter_string="metrics.val_auc > 0",
        order_by=["metrics.val_auc DESC"],
        max_results=2,
        output_format="list",
    )
    client = heron.MlflowClient()
    client.create_registered_model(MODEL, tags={"team": "growth"}, description="Predicts churn from usage.")
    for version, run in enumerate(reversed(best), start=1):
        client.create_model_version(MODEL, f"runs:/{run.info.run_id}/model", run.info.run_id,
                                    description=f"val_auc {run.data.metrics['val_auc']:.3f}")
        client.set_model_version_tag(MODEL, str(version), "validation", "passed")
    client.set_registered_model_alias(MODEL, "challenger", 1)
    client.set_registered_model_alias(MODEL, "champion", 2)
    client.transition_model_version_stage(MODEL, 2, "Production")
    heron.register_prompt(PROMPT, PROMPT_V1, commit_message="First version", tags={"task": "support"})
    heron.register_prompt(PROMPT, PROMPT_V2, commit_message="Set the tone and a length limit",
                          tags={"task": "support"})
    heron.set_prompt_alias(PROMPT, "production", 2)


def seed_traces(store: Path) -> int:
    """Run a small LLM app with OpenAI autolog on; returns the number of traces written."""
    import openai

    heron.set_tracking_uri(f"file:{store}")
    heron.set_experiment("demo-support-bot")
    heron.openai.autolog()
    with ExitStack() as stack:
        base_url = os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            sys.path.insert(0, str(REPO))
            from tests.fakes.openai_server import FakeOpenAI

            base_url = stack.enter_context(FakeOpenAI()).base_url
        client = openai.OpenAI(
            base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY", "demo"), max_retries=0
        )

        @heron.trace(span_type="RETRIEVER")
        def find_docs(question: str) -> list[str]:
            return [f"FAQ entry about: {question.split()[-1].rstrip('?')}"]

        @heron.trace(name="answer_question", span_type="CHAIN")
        def answer(question: str, user: str, session: str) -> str:
            heron.update_current_trace(user_id=user, session_id=session, tags={"app": "support-bot"})
            docs = find_docs(question)
            # Session s-1 ran before the prompt change; loading a prompt links its version to the trace.
            uri = f"prompts:/{PROMPT}/1" if session == "s-1" else f"prompts:/{PROMPT}@production"
            prompt = heron.load_prompt(uri)
            system = prompt.format(notes="; ".join(docs), max_words=80)  # v1 has no max_words: ignored
            reply = client.chat.completions.create(
                model="gpt-4o-mini",
                temperature=0.2,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": question},
                ],
            )
            return reply.choices[0].message.content or ""

        for question, user, session in QUESTIONS:
            answer(question, user, session)
        try:  # one failing call, so the demo shows an error trace
            with heron.start_span("escalate_to_human", span_type="TOOL") as span:
                span.set_inputs({"ticket": 4711})
                raise TimeoutError("ticketing system did not answer in 5 s")
        except TimeoutError:
            pass
    heron.flush_traces()
    heron.openai.autolog(disable=True)
    return len(QUESTIONS) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", default="demo-store", help="folder for the demo store (replaced)")
    parser.add_argument("--port", type=int, default=5000, help="port for `heron server` on 127.0.0.1")
    parser.add_argument("--no-serve", action="store_true", help="seed only, do not start the server")
    args = parser.parse_args()
    store = Path(args.store).resolve()
    if store.exists():
        shutil.rmtree(store)
    experiment_id = seed(store)
    seed_registry(store)
    traces = seed_traces(store)
    runs = heron.search_runs(experiment_ids=[experiment_id], output_format="list")
    print(f"Demo store at {store}: experiment 'demo-churn-model' (id {experiment_id}) with {len(runs)} runs,")
    print(f"and experiment 'demo-support-bot' with {traces} traces of an LLM app (OpenAI autolog);")
    print(f"model '{MODEL}' (@champion, @challenger) and prompt '{PROMPT}' (2 versions, @production).")
    print("Look at it:")
    print(
        f"  .venv/bin/heron runs list --tracking-uri file:{store} -x {experiment_id} --order-by 'metrics.val_auc DESC'"
    )
    print(
        f"  .venv/bin/python -c \"import heron; heron.set_tracking_uri('file:{store}'); "
        f"print(heron.search_runs(experiment_names=['demo-churn-model']))\""
    )
    if args.no_serve:
        return
    print(f"Serving the demo store at http://127.0.0.1:{args.port} (Ctrl-C stops it).")
    command = [
        sys.executable,
        "-m",
        "heron.cli",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(args.port),
        "--backend-store-uri",
        f"sqlite:///{store / 'heron.db'}",
        "--artifacts-destination",
        str(store / "heron-artifacts"),
    ]
    try:
        subprocess.run(command, check=False)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
