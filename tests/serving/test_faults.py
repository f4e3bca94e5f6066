"""A proxy replica killed under load: the router retries its in-flight requests once on the other replica, so no
request is lost (the fault benchmark in numbers: benchmarks/serve.py)."""

from __future__ import annotations

import os
import signal
import threading
import time

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
        body = {"query": "how much did tenant t-1 spend on compute", "domain": "cpn"}
        answers: list[tuple[int, float]] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                reply = httpx.post(url, json=body, timeout=120)
                retries = reply.json().get("timings", {}).get("retries", 0.0) if reply.status_code == 200 else -1
                answers.append((reply.status_code, retries))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(4)
        client = serve.context._get_global_client()
        replicas = client.get_serve_details()["applications"]["raytool"]["deployments"]["ProxyModel-cpn"]["replicas"]
        os.kill(replicas[0]["pid"], signal.SIGKILL)
        killed_at = len(answers)
        time.sleep(8)
        stop.set()
        for thread in threads:
            thread.join()
        codes = [code for code, _ in answers]
        assert len(answers) > killed_at + 4, "requests kept being answered after the kill"
        assert set(codes) == {200}, codes
    finally:
        serve.shutdown()
