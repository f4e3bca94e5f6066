"""`OpenAICompatibleTeacher` against a real local HTTP server that imitates vLLM's OpenAI API with a toy model.

The toy model's tokens are whitespace-separated words, each with its leading whitespace (" Paris"). The
log-probability of a token is -len(word) / 4, except " Paris" right after "capital of France is" (-0.25).
Generation answers " <LAST-WORD-OF-PROMPT>"; choices come back in reverse order to exercise `index` ordering.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from raytool.teacher.backend import Sampling, TeacherBackend, TeacherConfig, make_teacher
from raytool.teacher.openai_backend import (
    OpenAICompatibleTeacher,
    TeacherConnectionError,
    TeacherHTTPError,
    TeacherResponseError,
)

GENERATED = " gen"  # the one token the toy model "generates" when scoring (max_tokens=1)


def toy_tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S+", text)


def toy_logprob(context: str, token: str) -> float:
    if token == " Paris" and context.endswith("capital of France is"):
        return -0.25
    return -len(token.strip()) / 4


def toy_choice(prompt: str, index: int, body: dict[str, Any], bos: bool) -> dict[str, Any]:
    """One completions choice: an echo with log-probabilities when asked, else the toy answer."""
    if not body.get("echo"):
        words = prompt.split()
        return {"index": index, "text": f" <{words[-1] if words else ''}>", "finish_reason": "stop", "logprobs": None}
    tokens = (["<s>"] if bos else []) + toy_tokens(prompt) + [GENERATED]
    values: list[float | None] = []
    offsets: list[int] = []
    stream = ""
    for position, token in enumerate(tokens):
        offsets.append(len(stream))
        if position == 0:
            values.append(None)  # nothing predicts the first token
        elif position == len(tokens) - 1:
            values.append(-0.01)
        else:
            values.append(toy_logprob(stream.removeprefix("<s>"), token))
        stream += token
    logprobs = {"tokens": tokens, "token_logprobs": values, "text_offset": offsets, "top_logprobs": None}
    return {"index": index, "text": prompt + GENERATED, "finish_reason": "length", "logprobs": logprobs}


@dataclass
class FakeServer:
    """The server's behaviour (set by tests) and what it received."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Canned answers for the next requests, in order: (status, body text). Afterwards the toy model answers.
    queue: list[tuple[int, str]] = field(default_factory=list)
    always: tuple[int, str] | None = None
    sleep_s: float = 0.0
    bos: bool = False
    mutate: Callable[[dict[str, Any]], Any] | None = None  # rewrites a /completions answer before it is sent
    models: list[str] = field(default_factory=lambda: ["toy-model", "other-model"])
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str = "/v1/completions") -> int:
        return sum(1 for request in self.requests if request["path"] == path)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout tests)
            pass

    def _handle(self, method: str) -> None:
        state: FakeServer = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with state.lock:
            state.requests.append({"method": method, "path": self.path, "headers": dict(self.headers), "body": body})
            canned = state.queue.pop(0) if state.queue else state.always
        if state.sleep_s:
            state.release.wait(state.sleep_s)
        if canned is not None:
            self._answer(*canned)
        elif method == "GET" and self.path == "/v1/models":
            self._answer(
                200, json.dumps({"object": "list", "data": [{"id": m, "object": "model"} for m in state.models]})
            )
        elif method == "POST" and self.path == "/v1/completions":
            prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
            choices = [toy_choice(prompt, i, body, state.bos) for i, prompt in enumerate(prompts)]
            answer: Any = {
                "id": "cmpl-1",
                "object": "text_completion",
                "model": body["model"],
                "choices": choices[::-1],
            }
            if state.mutate is not None:
                answer = state.mutate(answer)
            self._answer(200, answer if isinstance(answer, str) else json.dumps(answer))
        else:
            self._answer(404, json.dumps({"error": f"no route {method} {self.path}"}))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    state = FakeServer(base_url=f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    httpd.state = state
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    state.release.set()  # wake handlers still sleeping
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def make(server: FakeServer, **overrides: Any) -> OpenAICompatibleTeacher:
    settings: dict[str, Any] = {
        "backend": "openai",
        "model": "toy-model",
        "base_url": server.base_url,
        "timeout_s": 0.5,
        "max_retries": 2,
    }
    settings.update(overrides)
    return OpenAICompatibleTeacher(TeacherConfig(**settings), backoff_s=0.005, backoff_cap_s=0.02)


# -- model discovery, protocol ------------------------------------------------------------------------------


def test_model_name_is_discovered_once_and_used_in_requests(server: FakeServer) -> None:
    with make(server, model="") as teacher:
        assert teacher.model_name == "toy-model"
        assert teacher.model_name == "toy-model"
        teacher.generate(["hello world"], Sampling(max_tokens=4))
    assert server.count("/v1/models") == 1
    assert server.requests[-1]["body"]["model"] == "toy-model"


def test_configured_model_name_skips_discovery(server: FakeServer) -> None:
    with make(server, model="served-name") as teacher:
        assert teacher.model_name == "served-name"
        assert isinstance(teacher, TeacherBackend)
    assert server.requests == []


def test_make_teacher_builds_the_openai_backend(server: FakeServer) -> None:
    teacher = make_teacher(TeacherConfig(backend="openai", model="toy-model", base_url=server.base_url + "/"))
    try:
        assert isinstance(teacher, OpenAICompatibleTeacher)
        assert teacher.generate(["a b"], Sampling()) == [" <b>"]
    finally:
        teacher.close()


def test_empty_model_list_is_a_response_error(server: FakeServer) -> None:
    server.models = []
    with make(server, model="") as teacher, pytest.raises(TeacherResponseError, match=r"data\[0\]\.id"):
        _ = teacher.model_name


# -- generate -----------------------------------------------------------------------------------------------


def test_generate_orders_by_index_and_batches(server: FakeServer) -> None:
    prompts = [f"prompt number {i}" for i in range(5)]
    sampling = Sampling(max_tokens=7, temperature=0.5, top_p=0.9, stop=("\n",), seed=11)
    with make(server, batch_size=2) as teacher:
        texts = teacher.generate(prompts, sampling)
    assert texts == [f" <{i}>" for i in range(5)]
    bodies = [request["body"] for request in server.requests]
    assert [body["prompt"] for body in bodies] == [prompts[0:2], prompts[2:4], prompts[4:5]]
    first = bodies[0]
    sent = {key: first[key] for key in ("max_tokens", "temperature", "top_p", "stop", "seed")}
    assert sent == {"max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "stop": ["\n"], "seed": 11}
    assert first["model"] == "toy-model" and "echo" not in first


def test_generate_nothing_sends_nothing(server: FakeServer) -> None:
    with make(server) as teacher:
        assert teacher.generate([], Sampling()) == []
    assert server.requests == []


def test_bearer_token_is_sent_when_configured(server: FakeServer) -> None:
    with make(server, model="", api_key="sekret") as teacher:
        teacher.generate(["x y"], Sampling())
    assert [request["headers"].get("Authorization") for request in server.requests] == ["Bearer sekret"] * 2
    server.requests.clear()
    with make(server) as teacher:
        teacher.generate(["x y"], Sampling())
    assert "Authorization" not in server.requests[0]["headers"]


# -- score --------------------------------------------------------------------------------------------------

PROMPTS = ["The capital of France is", "Name a colour:"]
CANDIDATES = [[" Paris", " London", " the big city"], [" red", " dark green"]]


def check_scores(teacher: OpenAICompatibleTeacher) -> None:
    scores = teacher.score(PROMPTS, CANDIDATES)
    # Hand-computed: -len(word)/4 per token, " Paris" after "capital of France is" = -0.25.
    assert scores.tokens == [[1, 1, 3], [1, 2]]
    assert scores.summed[0] == pytest.approx([-0.25, -1.5, -2.5])
    assert scores.summed[1] == pytest.approx([-0.75, -2.25])
    assert scores.mean[0] == pytest.approx([-0.25, -1.5, -2.5 / 3])
    assert scores.mean[1] == pytest.approx([-0.75, -1.125])
    best = [max(range(len(row)), key=row.__getitem__) for row in scores.summed]
    assert [CANDIDATES[i][j] for i, j in enumerate(best)] == [" Paris", " red"]


def test_score_matches_hand_computed_values(server: FakeServer) -> None:
    with make(server) as teacher:
        check_scores(teacher)
    (request,) = server.requests
    body = request["body"]
    assert body["prompt"] == [p + c for p, cands in zip(PROMPTS, CANDIDATES, strict=True) for c in cands]
    assert (body["echo"], body["max_tokens"], body["temperature"]) == (True, 1, 0.0)
    assert body["logprobs"] in (0, 1)


def test_score_batches_pairs(server: FakeServer) -> None:
    with make(server, batch_size=2) as teacher:
        check_scores(teacher)
    assert [len(request["body"]["prompt"]) for request in server.requests] == [2, 2, 1]


def test_score_handles_a_bos_token_before_the_text(server: FakeServer) -> None:
    server.bos = True
    with make(server) as teacher:
        check_scores(teacher)


def test_score_boundary_token_and_empty_prompt(server: FakeServer) -> None:
    with make(server) as teacher:
        scores = teacher.score(["The capital of France is ", "", "Hi"], [["Paris"], ["hello world"], [""]])
    # "is " + "Paris" tokenises as " Paris", which straddles the boundary and counts with the candidate.
    assert (scores.summed[0], scores.tokens[0]) == ([pytest.approx(-0.25)], [1])
    # With an empty prompt the first token has no log-probability: only " world" counts.
    assert (scores.summed[1], scores.tokens[1]) == ([pytest.approx(-1.25)], [1])
    # An empty candidate has no tokens.
    assert (scores.summed[2], scores.mean[2], scores.tokens[2]) == ([0.0], [0.0], [0])


def test_score_rejects_mismatched_lists(server: FakeServer) -> None:
    with make(server) as teacher, pytest.raises(ValueError, match="2 prompts but 1"):
        teacher.score(["a", "b"], [[" c"]])


# -- retries and errors -------------------------------------------------------------------------------------


def test_timeout_retries_then_raises(server: FakeServer) -> None:
    server.sleep_s = 3.0
    with make(server, timeout_s=0.3, max_retries=2) as teacher:
        with pytest.raises(TeacherConnectionError, match="timed out") as caught:
            teacher.generate(["slow prompt"], Sampling())
    assert caught.value.timed_out and caught.value.attempts == 3
    assert server.count() == 3


@pytest.mark.parametrize("statuses", [[500, 500], [503], [429, 502]])
def test_transient_errors_are_retried(server: FakeServer, statuses: list[int]) -> None:
    server.queue = [(status, '{"error": "busy"}') for status in statuses]
    with make(server, max_retries=2) as teacher:
        assert teacher.generate(["a b"], Sampling()) == [" <b>"]
    assert server.count() == len(statuses) + 1


def test_persistent_server_error_raises_after_retries(server: FakeServer) -> None:
    server.always = (500, '{"error": "engine died"}')
    with make(server, max_retries=3) as teacher:
        with pytest.raises(TeacherHTTPError, match="engine died") as caught:
            teacher.score(["a"], [[" b"]])
    assert (caught.value.status, caught.value.attempts) == (500, 4)
    assert server.count() == 4


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried(server: FakeServer, status: int) -> None:
    server.always = (status, '{"error": "max_tokens must be at least 1"}')
    with make(server, max_retries=3) as teacher:
        with pytest.raises(TeacherHTTPError, match=f"HTTP {status}.*max_tokens must be") as caught:
            teacher.generate(["a b"], Sampling())
    assert (caught.value.status, caught.value.attempts) == (status, 1)
    assert server.count() == 1


def _drop_logprobs(answer: dict[str, Any]) -> dict[str, Any]:
    for choice in answer["choices"]:
        choice.pop("logprobs")
    return answer


def _drop_offsets(answer: dict[str, Any]) -> dict[str, Any]:
    for choice in answer["choices"]:
        choice["logprobs"].pop("text_offset")
    return answer


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda answer: "<html>502 Bad Gateway</html>", "not JSON.*Bad Gateway"),
        (lambda answer: {"object": "error"}, "no `choices`"),
        (lambda answer: {**answer, "choices": answer["choices"][:-1]}, "1 choices for 2 prompts"),
        (_drop_logprobs, r"logprobs is missing"),
        (_drop_offsets, r"logprobs\.text_offset is missing"),
    ],
    ids=["not-json", "no-choices", "wrong-count", "no-logprobs", "no-text-offset"],
)
def test_malformed_answers_raise_response_errors(server: FakeServer, mutate: Callable, message: str) -> None:
    server.mutate = mutate
    with make(server) as teacher, pytest.raises(TeacherResponseError, match=message):
        teacher.score(["The capital of France is"], [[" Paris", " London"]])
    assert server.count() == 1  # never retried


def test_generate_without_text_is_a_response_error(server: FakeServer) -> None:
    server.mutate = lambda answer: {"choices": [{"index": 0}]}
    with make(server) as teacher, pytest.raises(TeacherResponseError, match=r"text is missing"):
        teacher.generate(["a b"], Sampling())


def test_connection_refused_retries_then_raises() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = TeacherConfig(backend="openai", model="m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=2)
    with OpenAICompatibleTeacher(config, backoff_s=0.005) as teacher:
        with pytest.raises(TeacherConnectionError, match="after 3 attempt") as caught:
            teacher.generate(["a"], Sampling())
    assert not caught.value.timed_out and caught.value.attempts == 3


def test_retry_delay_doubles_and_is_capped(server: FakeServer) -> None:
    teacher = OpenAICompatibleTeacher(TeacherConfig(backend="openai"), backoff_s=0.2, backoff_cap_s=1.0)
    try:
        assert [teacher._retry_delay(attempt, None) for attempt in (1, 2, 3, 4)] == pytest.approx([0.2, 0.4, 0.8, 1.0])
        assert teacher._retry_delay(1, "0.1") == pytest.approx(0.1)
        assert teacher._retry_delay(1, "30") == pytest.approx(1.0)
        assert teacher._retry_delay(2, "Wed, 21 Oct 2015 07:28:00 GMT") == pytest.approx(0.4)
    finally:
        teacher.close()


# -- chat ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded_dir() -> str:
    from raytool.teacher.embedded import ensure_embedded_model

    return str(ensure_embedded_model())


@pytest.mark.parametrize("model", ["", "local-folder", "some-org/remote-model"])
def test_chat_applies_the_template_locally(server: FakeServer, embedded_dir: str, model: str) -> None:
    # A local folder gives its own tokenizer; anything else falls back to the embedded model's.
    with make(server, model=embedded_dir if model == "local-folder" else model) as teacher:
        texts = teacher.chat(
            [
                [{"role": "user", "content": "What is 2+2?"}],
                [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}],
            ]
        )
    assert len(texts) == 2
    assert "What is 2+2?" in texts[0] and "Be brief." in texts[1] and "Name a colour." in texts[1]
    assert all(text.endswith("<|im_start|>assistant\n") for text in texts)
    assert server.requests == []  # templating never asks the server
