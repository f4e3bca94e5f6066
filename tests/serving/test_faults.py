"""A proxy replica killed under load: the router retries its in-flight requests once on the other replica, so no
request is lost (the fault benchmark in numbers: benchmarks/serve.py)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import httpx
import pytest

from tests.serving.helpers import free_port, one_domain_config

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_killing_a_proxy_replica_under_load_loses_no_request(agent_kit) -> None:
    from ray import serve

    from raytool.serving.config import check_serve_config, deploy

    port = free_port()
    config = one_domain_config(port, str(agent_kit["proposer"]), str(agent_kit["decider"]), num_replicas=2)
    deploy(check_serve_config(config, "test"))
    try:
        url = f"http://127.0.0.1:{port}/v1/solve"
        answers: list[tuple[int, float]] = []
        stop = threading.Event()

        def body() -> dict:
            """A request with its own catalogue of 48 tools never seen before: the proxy's proposer embeds them all, so
            each job holds its replica for a good fraction of a second and a kill finds jobs in flight."""
            fresh = uuid.uuid4().hex
            tools = [{"name": f"lookup_{i}", "description": f"Look up field {i} of billing record {fresh} for a tenant",
                      "parameters": {"type": "object", "properties": {"tenant_id": {"type": "string"}},
                                     "required": ["tenant_id"]}} for i in range(48)]  # fmt: skip
            return {"query": "how much did tenant t-1 spend on compute", "domain": "cpn", "tools": tools}

        def load() -> None:
            while not stop.is_set():
                reply = httpx.post(url, json=body(), timeout=120)
                retries = reply.json().get("timings", {}).get("retries", 0.0) if reply.status_code == 200 else -1
                answers.append((reply.status_code, retries))

        def wait_for(count: int, what: str) -> None:  # answers arriving, not a fixed sleep
            deadline = time.monotonic() + 120
            while len(answers) < count and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(answers) >= count, f"{what}: {len(answers)} answers, wanted {count}"

        killed: set[int] = set()

        def running_pids() -> list[int]:  # a killed replica may be listed as running for a while: left out
            client = serve.context._get_global_client()
            details = client.get_serve_details()["applications"]["raytool"]["deployments"]["ProxyModel-cpn"]
            return [r["pid"] for r in details["replicas"] if r["state"] == "RUNNING" and r["pid"] not in killed]

        # 8 clients on 2 replicas: both nearly always have requests in flight, so a kill lands on some. "Nearly": on a
        # loaded machine a kill can fall between jobs, so a kill that no request felt is repeated (up to 5 kills, each
        # once both replicas run again: a full CI run once saw 3 in a row miss); every kill must lose nothing.
        threads = [threading.Thread(target=load, daemon=True) for _ in range(8)]
        for thread in threads:
            thread.start()
        wait_for(8, "before the kill")
        kills: list[list[float]] = []
        for _ in range(5):
            deadline = time.monotonic() + 180
            while len(pids := running_pids()) < 2 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert len(pids) == 2, f"the killed replica was not replaced: {pids}"
            os.kill(pids[0], signal.SIGKILL)
            killed.add(pids[0])
            killed_at = len(answers)
            wait_for(killed_at + 16, "after the kill")
            kills.append([retries for _, retries in answers[killed_at:] if retries > 0])
            if kills[-1]:
                break
        stop.set()
        for thread in threads:
            thread.join()
        codes = [code for code, _ in answers]
        assert set(codes) == {200}, codes  # nothing lost
        # the killed replica's in-flight requests were retried once and answered (at most the 8 clients' requests)
        retried = kills[-1]
        assert 1 <= len(retried) <= 8 and set(retried) == {1.0}, kills
    finally:
        serve.shutdown()
