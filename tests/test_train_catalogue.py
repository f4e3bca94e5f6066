"""`raytool train --tools`: the catalogue job's stages and outputs, then (slow) the whole path on the embedded teacher
and a real `raytool serve` endpoint answering a request over the catalogue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from raytool.serving.config import load_serve_config
from raytool.tools.dataset import ToolDataset
from raytool.tools.errors import RecordError
from raytool.tools.importers import import_dataset
from raytool.train_catalogue import CatalogueJobConfig, domain_name, load_examples, run_catalogue_job
from tests.distill.catalogue_teacher import CatalogueTeacher
from tests.serving.helpers import free_port, serve_process

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "examples" / "catalogues" / "helpdesk.mcp.json"
EXAMPLES = ROOT / "examples" / "catalogues" / "helpdesk.examples.jsonl"
SMALL = {"proposer": {"epochs": 2}, "decider": {"iterations": 3, "num_env_runners": 1}, "main_filler": False}


def test_domain_names_and_config_keys() -> None:
    assert domain_name(Path("My Tools.openapi.yaml")) == "my_tools"
    with pytest.raises(ValueError, match="^<catalogue config>: catalogue: unknown key 'num_task'"):
        CatalogueJobConfig.from_dict({"num_task": 3})


def test_examples_are_held_to_the_task_checks(tmp_path: Path) -> None:
    catalogue = import_dataset("mcp", CATALOGUE)
    assert len(load_examples(EXAMPLES, catalogue)) == 24
    bad = tmp_path / "bad.jsonl"
    bad.write_text(EXAMPLES.read_text().splitlines()[0] + "\n" + json.dumps(
        {"id": "x", "query": "find the customer", "calls": [{"name": "find_customer", "arguments":
                                                             {"email": "ghost@example.com"}}]}) + "\n")  # fmt: skip
    with pytest.raises(RecordError, match=f"{bad}:line 2: field 'calls': fails the task check 'ungrounded_value'"):
        load_examples(bad, catalogue)


@pytest.mark.ray
def test_catalogue_job_writes_every_artifact_and_resumes(ray_local, tmp_path: Path) -> None:
    """With a teacher double writing grounded tasks: tasks, split, proposer, filler, F_P, decider and a Serve config
    that passes the strict check; a second run skips every finished stage (no teacher call)."""
    config = CatalogueJobConfig.from_dict({**SMALL, "num_tasks": 24, "rank_states": 16, "examples": str(EXAMPLES)})
    out = tmp_path / "job"
    report = run_catalogue_job(CATALOGUE, "mcp", out, CatalogueTeacher, config, log=lambda _: None)
    assert report["domain"] == "helpdesk" and report["catalogue"]["tools"] == 10
    assert report["tasks"]["examples"] == 24 and report["tasks"]["kept"] >= 10
    train, test = ToolDataset.load(out / "tasks" / "train"), ToolDataset.load(out / "tasks" / "test")
    assert len(train.tasks) + len(test.tasks) == report["tasks"]["tasks"] and len(test.tasks) >= 5
    assert not {t.query for t in train.tasks} & {t.query for t in test.tasks}
    for artifact in ("proposer/proposer.json", "filler/filler.json", "fp/fp.json", "decider/decider.json"):
        assert (out / artifact).exists(), artifact
    assert set(report["decider"]) >= {"decider (RL, LLM-guided)", "proposer-greedy", "oracle"}
    config_file = load_serve_config(out / "serve.yaml")
    args = config_file.applications[0].args
    assert args["domains"] == ["helpdesk"] and args["catalogues"] == {"helpdesk": str((out / "catalogue").resolve())}

    def no_teacher():
        raise AssertionError("a finished stage asked the teacher")

    again = run_catalogue_job(CATALOGUE, "mcp", out, no_teacher, config, log=lambda _: None)
    assert again["tasks"] == report["tasks"]


@pytest.mark.ray
@pytest.mark.slow
def test_train_tools_then_serve_answers_over_the_catalogue(tmp_path: Path) -> None:
    """The embedded teacher (vLLM) writes what it can, the user's examples fill in; then `raytool serve` of the job's
    `serve.yaml` answers a request over the catalogue with a complete call."""
    settings = {"catalogue": {**SMALL, "num_tasks": 6, "rank_states": 16}}
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(settings))
    out = tmp_path / "job"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    job = subprocess.run([sys.executable, "-m", "raytool", "train", "--tools", str(CATALOGUE), "--format", "mcp",
                          "--examples", str(EXAMPLES), "--out", str(out), "--config", str(config_path)],
                         capture_output=True, text=True, env=env, timeout=1500)  # fmt: skip
    assert job.returncode == 0, job.stderr[-3000:]
    assert "catalogue stage 7/7" in job.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["tasks"]["planned"] == 6 and report["tasks"]["examples"] == 24
    served = yaml.safe_load((out / "serve.yaml").read_text())
    port = free_port()
    served["http_options"]["port"] = port
    (tmp_path / "serve.yaml").write_text(yaml.safe_dump(served))
    with serve_process(tmp_path / "serve.yaml") as (process, _, _):
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/healthz", timeout=5).json()["domains"] == ["helpdesk"]
        query = "Can you find the customer with the email rosa.diaz@example.org?"
        reply = httpx.post(url + "/v1/solve", json={"query": query}, timeout=120)
        assert reply.status_code == 200, reply.text[:500]
        body = reply.json()
        assert body["plan"] == "catalogue" and body["domains"] == ["helpdesk"]
        calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in body["tool_calls"]]
        names = {t["name"] for t in json.loads(CATALOGUE.read_text())["result"]["tools"]}
        assert calls and all(name in names for name, _ in calls), calls
        values = [v for _, arguments in calls for v in arguments.values() if isinstance(v, str)]
        assert values and all(v in query for v in values), calls  # complete calls, values read from the request
    assert process.returncode == 0
