"""The router's hardening and retry rules without Serve: JSON errors for every failure, a dead replica's job retried
once (then a 503), a retry bounded by the same deadline (504)."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from ray.exceptions import ActorDiedError

from raytool.serving.app import ServeExecutor
from raytool.serving.http import ApiError, harden
from raytool.serving.schema import SolveRequest


def _client() -> TestClient:
    app = harden(FastAPI(), max_body_bytes=100)

    @app.post("/echo")
    def echo(body: SolveRequest) -> dict:
        return body.model_dump()

    @app.get("/boom")
    def boom() -> dict:
        raise RuntimeError("secret internals")

    @app.get("/id")
    def request_id(request: Request) -> dict:
        return {"id": request.state.request_id}

    return TestClient(app, raise_server_exceptions=False)


def test_errors_are_json_and_name_no_internals() -> None:
    client = _client()
    failed = client.get("/boom")
    assert failed.status_code == 500 and failed.json() == {
        "error": "internal_error", "detail": "the server failed on this request (RuntimeError)"}  # fmt: skip
    assert client.post("/echo", json={"query": "x" * 200}).status_code == 413
    assert client.post("/echo", content=b'{"query": ', headers={"Content-Type": "application/json"}).json()[
        "error"] == "invalid_json"  # fmt: skip
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert client.post("/echo", json={"query": "ok"}).json()["query"] == "ok"


class _Response:
    def __init__(self, outcome) -> None:
        self.outcome, self.cancelled = outcome, False

    def result(self, timeout_s: float):
        if self.outcome == "late":
            time.sleep(timeout_s)
            raise TimeoutError
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def cancel(self) -> None:
        self.cancelled = True


class _Handle:
    """A deployment handle whose `solve` calls answer with the given outcomes in turn."""

    def __init__(self, *outcomes) -> None:
        self.outcomes, self.calls = list(outcomes), 0
        self.solve = self

    def remote(self, jobs, catalogue):
        self.calls += 1
        return _Response(self.outcomes.pop(0))


def test_every_answer_carries_a_request_id() -> None:
    client = _client()
    first, second = client.get("/id"), client.get("/id")
    assert first.headers["x-request-id"] == first.json()["id"] and len(first.json()["id"]) == 32
    assert first.json()["id"] != second.json()["id"]  # a new one per request
    own = client.get("/id", headers={"X-Request-ID": "client-7:retry.1"})
    assert own.json()["id"] == own.headers["x-request-id"] == "client-7:retry.1"  # the client's own is kept
    odd = client.get("/id", headers={"X-Request-ID": "a b\tc"})
    assert odd.json()["id"] != "a b\tc" and len(odd.json()["id"]) == 32  # not a usable id: a new one
    for failed in (client.get("/boom"), client.get("/nowhere"), client.post("/echo", json={"query": "x" * 200})):
        assert failed.status_code >= 400 and len(failed.headers["x-request-id"]) == 32  # errors have one too


def _executor(handle: _Handle, budget_s: float = 5.0) -> ServeExecutor:
    return ServeExecutor({"cpn": handle}, time.monotonic() + budget_s)


def test_a_dead_replicas_job_is_retried_once() -> None:
    handle = _Handle(ActorDiedError(), ["answer"])
    executor = _executor(handle)
    assert executor.solve({"cpn": [{"job": 1}]}, []) == {"cpn": ["answer"]}
    assert executor.retries == 1 and handle.calls == 2


def test_a_second_death_is_a_503_and_other_errors_are_not_retried() -> None:
    handle = _Handle(ActorDiedError(), ActorDiedError())
    with pytest.raises(ApiError) as err:
        _executor(handle).solve({"cpn": []}, [])
    assert err.value.status == 503 and handle.calls == 2
    bug = _Handle(ValueError("a bug in the proxy"))
    with pytest.raises(ValueError):
        _executor(bug).solve({"cpn": []}, [])
    assert bug.calls == 1


def test_a_retry_past_the_deadline_is_a_504() -> None:
    handle = _Handle(ActorDiedError(), "late")
    executor = _executor(handle, budget_s=0.2)
    with pytest.raises(ApiError) as err:
        executor.solve({"cpn": []}, [])
    assert err.value.status == 504 and executor.retries == 1
