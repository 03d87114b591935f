"""`heron models list|describe|set-alias|delete-alias` (click's CliRunner and a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from heron import MlflowClient
from heron.cli import cli


def test_models_commands(sqlite_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("fraud-rf", tags={"team": "risk"})
    client.create_model_version("fraud-rf", "s3://b/1")
    client.create_model_version("fraud-rf", "s3://b/2")
    client.create_registered_model("churn")
    runner = CliRunner()
    uri = ["--tracking-uri", sqlite_uri]

    result = runner.invoke(cli, ["models", "set-alias", "fraud-rf", "champion", "2", *uri])
    assert result.exit_code == 0, result.output
    assert result.output == "models:/fraud-rf@champion -> version 2\n"
    assert client.get_model_version_by_alias("fraud-rf", "champion").version == 2

    result = runner.invoke(cli, ["models", "list", *uri])
    assert result.output.splitlines() == ["churn\t-\t", "fraud-rf\t2\tchampion=2"]
    result = runner.invoke(cli, ["models", "list", "--filter", "tags.team = 'risk'", *uri])
    assert result.output.splitlines() == ["fraud-rf\t2\tchampion=2"]

    described = json.loads(runner.invoke(cli, ["models", "describe", "fraud-rf", *uri]).output)
    assert described["name"] == "fraud-rf" and described["aliases"] == {"champion": 2}
    assert [v["version"] for v in described["versions"]] == [2, 1]
    assert described["versions"][0]["source"] == "s3://b/2"

    result = runner.invoke(cli, ["models", "delete-alias", "fraud-rf", "champion", *uri])
    assert result.exit_code == 0
    assert client.get_registered_model("fraud-rf").aliases == {}


def test_errors_are_one_line_with_the_code(sqlite_uri: str) -> None:
    MlflowClient().create_registered_model("m")
    out = subprocess.run(
        [sys.executable, "-m", "heron.cli", "models", "set-alias", "m", "3", "1", "--tracking-uri", sqlite_uri],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert out.stderr.strip() == (
        "Error (INVALID_PARAMETER_VALUE): Invalid alias '3': an alias must not look like a version number "
        "('3' or 'v3'); choose a name such as 'champion'."
    )
