"""`raytool serve --config`: a real process serving the app on 127.0.0.1 until Ctrl+C; bad files refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.serving.helpers import free_port, serve_process

ROOT = Path(__file__).resolve().parents[2]


def test_a_bad_serve_file_is_refused_before_ray_starts(tmp_path) -> None:
    record = yaml.safe_load((ROOT / "serve" / "raytool.yaml").read_text())
    record["applications"][0]["deployments"][0]["num_replica"] = 2
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(record))
    done = subprocess.run([sys.executable, "-m", "raytool", "serve", "--config", str(path)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "unknown key 'num_replica'" in done.stderr
    assert "Started a local Ray" not in done.stderr


def _serve_file(agent_kit, tmp_path) -> tuple[Path, int]:
    port = free_port()
    record = yaml.safe_load((ROOT / "serve" / "raytool.yaml").read_text())
    record["http_options"]["port"] = port
    app = record["applications"][0]
    app["args"].update(proposer=str(agent_kit["proposer"]), decider=str(agent_kit["decider"]), domains=["cpn"],
                       filler=str(agent_kit["filler"]))  # fmt: skip
    app["deployments"] = [d for d in app["deployments"] if d["name"] in ("Router", "ProxyModel-cpn")]
    path = tmp_path / "serve.yaml"
    path.write_text(yaml.safe_dump(record))
    return path, port


@pytest.mark.ray
@pytest.mark.slow
def test_serve_command_serves_until_interrupted(agent_kit, tmp_path) -> None:
    path, port = _serve_file(agent_kit, tmp_path)
    with serve_process(path) as (process, lines, errors):
        url = f"http://127.0.0.1:{port}"
        assert f"[serve] raytool: http://127.0.0.1:{port}/\n" in lines, (process.poll(), lines, "".join(errors)[-3000:])
        assert httpx.get(url + "/healthz", timeout=5).json() == {"status": "ok", "domains": ["cpn"], "planner": False}
        body = {"query": "how much did tenant t-1 spend", "domain": "cpn"}
        reply = httpx.post(url + "/v1/solve", json=body, timeout=120)
        assert reply.status_code == 200 and "tool_calls" in reply.json()
        again = httpx.post(url + "/v1/solve", json=body, headers={"X-Request-ID": "retry-1"}, timeout=120)
        assert again.json()["tool_calls"] == reply.json()["tool_calls"]  # a retried request gets the same calls
        assert again.json()["request_id"] == again.headers["x-request-id"] == "retry-1" != reply.json()["request_id"]
    assert process.returncode == 0, "".join(errors)[-3000:]
    assert "[serve] Ctrl+C: draining (new requests are refused; requests in flight finish)\n" in lines
    assert any(line.startswith("[serve] drained in ") and line.endswith("; shutting down\n") for line in lines), lines


@pytest.mark.ray
@pytest.mark.slow
def test_sigterm_drains_the_requests_in_flight_and_exits_0(agent_kit, tmp_path) -> None:
    """What Kubernetes and systemd send: requests already sent are answered, then the process exits 0."""
    path, port = _serve_file(agent_kit, tmp_path)
    url = f"http://127.0.0.1:{port}/v1/solve"
    body = {"query": "how much did tenant t-1 spend", "domain": "cpn"}
    sent: list[tuple[float, float, object]] = []  # (began, ended, status code or error name)
    flying: dict[int, float] = {}  # thread id -> when its request now in flight began
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            began = flying[threading.get_ident()] = time.monotonic()
            try:
                outcome: object = httpx.post(url, json=body, timeout=60).status_code
            except httpx.HTTPError as err:
                outcome = type(err).__name__
            flying.pop(threading.get_ident(), None)
            sent.append((began, time.monotonic(), outcome))

    with serve_process(path) as (process, lines, errors):
        threads = [threading.Thread(target=load, daemon=True) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(sent) < 8 and time.monotonic() < deadline:  # under load first
            time.sleep(0.05)
        # then a request in flight for 0.2 s (the four clients' requests are batched, so they end and start together:
        # right after a batch the ones in flight are all new, and the signal must land on one that has been sent)
        oldest = lambda: min(list(flying.values()), default=time.monotonic())  # noqa: E731
        while oldest() > time.monotonic() - 0.2 and time.monotonic() < deadline:
            time.sleep(0.01)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
    assert process.returncode == 0, "".join(errors)[-3000:]
    assert any(line.startswith("[serve] SIGTERM: draining") for line in lines), lines
    # sent 0.1 s before the signal: at the server by then (under a full test suite's load on 2 cores, one request of
    # those sent 20 ms or more before it once got no 200 — its outcome was cut off in the log; one not yet at the
    # server is refused as a new one, which is right); the unanswered are now listed with their times
    before = [r for r in sent if r[0] < signalled - 0.1]
    in_flight = [r for r in before if r[1] > signalled]
    assert len(before) >= 8 and in_flight, sent  # the signal landed on requests in flight
    unanswered = [(round(b - signalled, 3), round(e - signalled, 3), o) for b, e, o in before if o != 200]
    assert not unanswered, unanswered  # every one of them was answered (times relative to the signal)
