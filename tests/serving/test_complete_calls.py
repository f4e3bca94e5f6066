"""Complete calls on the real endpoint: with a filler, `/v1/solve` answers a client's catalogue and a free-text
suite request with argument values read from the request, and reports required values the request lacks."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.serving.helpers import free_port

pytestmark = [pytest.mark.ray, pytest.mark.slow]
WEATHER = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "current weather in a city",
        "parameters": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string", "description": "the city, e.g. Rome"},
            "units": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "temperature units"}}}}},
]  # fmt: skip


@pytest.fixture(scope="module")
def filler(agent_kit, shared_data, tmp_path_factory):
    """The main job's recipe for the scorer: the MiniLM filler on all of Seal-Tools dev and the kit's suite requests
    (about 3 minutes). Smaller training sets gave a visibly weaker filler ("today" or "Lisbon today" for the city)."""
    import torch

    from raytool.filler.train import FillerTrainConfig, train_filler
    from raytool.tools.importers import import_dataset

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("filler")
    import_dataset("seal_tools", shared_data / "seal_tools" / "dev.jsonl").save(root / "seal")
    # the scorer alone (reader_epochs=0): fine-tuning the span reader would add ~15 minutes here; the reader's own
    # tests (tests/filler/test_reader.py) cover it, and the endpoint fills through the same `ArgumentFiller`
    config = FillerTrainConfig(reader_epochs=0, threads=1)
    train_filler([root / "seal", agent_kit["requests"]], root / "ckpt", config, "minilm", log=lambda _: None)
    return root / "ckpt"


@pytest.fixture(scope="module")
def endpoint(agent_kit, filler):
    from ray import serve

    from raytool.serving.app import build_app

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    args = {"proposer": str(agent_kit["proposer"]), "decider": str(agent_kit["decider"]), "filler": str(filler)}
    serve.run(build_app(args), name="raytool", route_prefix="/", blocking=False)
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()


def _solve(url: str, body: dict) -> dict:
    reply = httpx.post(url + "/v1/solve", json=body, timeout=120)
    assert reply.status_code == 200, reply.text[:500]
    return reply.json()


def _arguments(body: dict) -> list[tuple[str, dict]]:
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in body["tool_calls"]]


def test_a_client_catalogue_gets_values_read_from_the_request(endpoint) -> None:
    body = _solve(endpoint, {"query": "What's the weather like in Lisbon today, in celsius?", "tools": WEATHER})
    calls = _arguments(body)
    assert calls and calls[0][0] == "get_weather", body
    assert calls[0][1] == {"city": "Lisbon", "units": "celsius"}, body
    assert body["missing"] == [] and body["no_tool"] is False


def test_a_request_without_the_required_value_reports_it_missing(endpoint) -> None:
    body = _solve(endpoint, {"query": "What's the weather like today?", "tools": WEATHER})
    for i, (_, arguments) in enumerate(_arguments(body)):
        assert "city" not in arguments, body  # never invented
        assert {"id": f"call_{i}", "parameters": ["city"]} in body["missing"], body


def test_a_free_text_suite_request_gets_values_from_its_text(endpoint, agent_kit) -> None:
    """Not phrased like any suite template; whatever the (tiny) decider calls carries values that the request
    states (or references to earlier calls), and a call without a required value says so."""
    from raytool.envs.suites import get_suite

    query = "hey, could you look up how loaded the ams-dc1 site is right now? need it quickly"
    body = _solve(endpoint, {"query": query, "domain": "cpn"})
    specs = {t.name: t.spec for t in get_suite("cpn").tools.values()}
    for i, (name, arguments) in enumerate(_arguments(body)):
        for value in arguments.values():
            assert isinstance(value, dict) or str(value).lower() in query.lower(), (name, arguments)
        lacking = [p for p in specs[name].required if p not in arguments]
        if lacking:
            assert {"id": f"call_{i}", "parameters": lacking} in body["missing"], body
