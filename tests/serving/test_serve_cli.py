"""`raytool serve --config`: a real process serving the app on 127.0.0.1 until Ctrl+C; bad files refused."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import yaml

from tests.serving.helpers import free_port, serve_process

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_a_bad_serve_file_is_refused_before_ray_starts(tmp_path) -> None:
    record = yaml.safe_load((ROOT / "serve" / "raytool.yaml").read_text())
    record["applications"][0]["deployments"][0]["num_replica"] = 2
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(record))
    done = subprocess.run([sys.executable, "-m", "raytool", "serve", "--config", str(path)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "unknown key 'num_replica'" in done.stderr
    assert "Started a local Ray" not in done.stderr


@pytest.mark.ray
@pytest.mark.slow
def test_serve_command_serves_until_interrupted(agent_kit, tmp_path) -> None:
    port = free_port()
    record = yaml.safe_load((ROOT / "serve" / "raytool.yaml").read_text())
    record["http_options"]["port"] = port
    app = record["applications"][0]
    app["args"].update(proposer=str(agent_kit["proposer"]), decider=str(agent_kit["decider"]), domains=["cpn"],
                       filler=str(agent_kit["filler"]))  # fmt: skip
    app["deployments"] = [d for d in app["deployments"] if d["name"] in ("Router", "ProxyModel-cpn")]
    path = tmp_path / "serve.yaml"
    path.write_text(yaml.safe_dump(record))
    with serve_process(path) as (process, lines):
        url = f"http://127.0.0.1:{port}"
        assert f"[serve] raytool: http://127.0.0.1:{port}/\n" in lines, lines
        assert httpx.get(url + "/healthz", timeout=5).json() == {"status": "ok", "domains": ["cpn"], "planner": False}
        reply = httpx.post(url + "/v1/solve", json={"query": "how much did tenant t-1 spend", "domain": "cpn"},
                           timeout=120)  # fmt: skip
        assert reply.status_code == 200 and "tool_calls" in reply.json()
    assert process.returncode == 0, process.stderr.read()[-3000:]
    assert "[serve] shutting down\n" in lines
