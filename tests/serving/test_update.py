"""A serve config deployed the declarative way (`raytool serve`'s path): a new checkpoint reaches the running
proxy replicas in place (same processes) while requests keep flowing, none failing."""

from __future__ import annotations

import shutil
import threading
import time

import httpx
import pytest

from tests.serving.helpers import free_port, one_domain_config

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def _config(port: int, proposer: str, decider: str, user_decider: str | None = None) -> dict:
    user = {"user_config": {"decider": user_decider}} if user_decider else {}
    return one_domain_config(port, proposer, decider, max_ongoing_requests=8, **user)


def test_a_new_checkpoint_is_applied_in_place_without_failed_requests(agent_kit, tmp_path) -> None:
    from ray import serve

    from raytool.serving.config import check_serve_config, deploy

    port = free_port()
    proposer, decider = str(agent_kit["proposer"]), str(agent_kit["decider"])
    second = tmp_path / "decider-v2"
    shutil.copytree(decider, second)
    deploy(check_serve_config(_config(port, proposer, decider), "test"))
    try:
        proxy = serve.get_deployment_handle("ProxyModel-cpn", "raytool")
        before = proxy.info.remote().result()
        assert before["checkpoint"]["decider"] == decider
        url = f"http://127.0.0.1:{port}/v1/solve"
        body = {"query": "how much did tenant t-1 spend on compute", "domain": "cpn"}
        codes: list[int] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                codes.append(httpx.post(url, json=body, timeout=60).status_code)

        def wait_for(count: int) -> None:  # answers arriving, not a fixed sleep
            deadline = time.monotonic() + 60
            while len(codes) < count and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(codes) >= count, codes

        threads = [threading.Thread(target=load, daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        wait_for(4)  # under load when the new checkpoint is deployed
        deploy(check_serve_config(_config(port, proposer, decider, user_decider=str(second)), "test"))
        deadline = time.monotonic() + 60
        while proxy.info.remote().result()["checkpoint"]["decider"] != str(second) and time.monotonic() < deadline:
            time.sleep(0.2)
        wait_for(len(codes) + 4)  # and answering on it
        stop.set()
        for thread in threads:
            thread.join()
        after = proxy.info.remote().result()
        assert after["checkpoint"]["decider"] == str(second) and after["pid"] == before["pid"], (before, after)
        assert codes and set(codes) == {200}, codes
    finally:
        serve.shutdown()
