"""`OpenAICompatibleTeacher`: the teacher behind any OpenAI-compatible HTTP server (vLLM, or a hosted API).

Point it at a running `vllm serve`:

    python -m vllm.entrypoints.openai.api_server --model DIR --port 8000     # or: vllm serve DIR
    teacher:
      backend: openai
      model: DIR                         # the served model name (vLLM serves `--model DIR` as "DIR")
      base_url: http://127.0.0.1:8000/v1
      api_key: ""                        # sent as `Authorization: Bearer ...` when set (vLLM's `--api-key`)

With `model: ""` the first id listed by `GET {base_url}/models` is used (fetched once, then cached).

Requests (legacy completions API, `POST {base_url}/completions`):

- `generate` sends at most `batch_size` prompts per request as a list (`"prompt": [...]`) and returns
  `choices[i].text` ordered by `choices[i].index`.
- `score` sends each `prompt + candidate` text with `echo: true, logprobs: 1, max_tokens: 1, temperature: 0`.
  The server echoes the prompt's tokens with their log-probabilities (`choices[i].logprobs.tokens`,
  `.token_logprobs`, `.text_offset`) followed by the one generated token, which is ignored (`max_tokens: 0`
  would avoid it but some vLLM versions reject it). The candidate's tokens are the echoed tokens that end
  after `len(prompt)` and start before `len(prompt + candidate)` (so the generated token, which starts at
  the end of the text, is left out); `summed` is the sum of their log-probabilities, `mean` that sum over
  their count, `tokens` the count.
- `chat` applies a chat template locally with a transformers tokenizer: the one in `config.model` when that
  is a local folder (the usual `vllm serve DIR` set-up), otherwise the embedded SmolLM2 tokenizer. A remote
  model with a different template then gets SmolLM2's template: template such prompts yourself, or give a
  local copy of the model's tokenizer folder as `model` (and serve it under that name).

Scoring caveats:

- The prompt and candidate are tokenised together, as one text. A token that straddles the boundary (the
  prompt's last characters merged with the candidate's first, e.g. prompt "... is " + candidate "Paris"
  tokenised as " Paris") is counted with the candidate, so its log-probability also covers a few prompt
  characters, and candidates that differ only in how they merge with the prompt get slightly different
  token counts. Candidates that begin with a space (" Paris") after a prompt without a trailing space give
  a clean boundary for BPE tokenisers.
- The first echoed token has no log-probability (`null`): with an empty prompt the candidate's first token is
  skipped (and not counted) unless the server prepends a BOS token.
- Offsets are cumulative lengths of the token strings the server returns. A leading special token such as
  `<|begin_of_text|>` shifts them; the shift is found by locating the text in the concatenated token strings
  (no shift when the text is not found there, e.g. a server that returns raw SentencePiece pieces).
  Tokens that decode to partial UTF-8 characters (shown as U+FFFD) make offsets approximate for non-ASCII text.
- A candidate with no counted tokens (an empty string) scores `summed = mean = 0.0`, `tokens = 0`.

Robustness: each request has a `timeout_s` timeout (connect, read, write and pool each) and is retried up
to `max_retries` times, with exponential backoff (0.2 s doubling, capped at 4 s; `Retry-After` is honoured
within the cap), on connection errors, timeouts, HTTP 429 and 5xx. Other 4xx responses raise
`TeacherHTTPError` at once. A 2xx response with a malformed body (not JSON, no `choices`, the wrong number of
choices, no `logprobs`) raises `TeacherResponseError` without a retry: a server that answers with a broken
body is misconfigured, and asking again rarely helps. Exhausted retries raise `TeacherHTTPError` (last status)
or `TeacherConnectionError` (last transport error, `timed_out=True` for timeouts).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from raytool.teacher.backend import CandidateScores, Sampling, TeacherConfig
from raytool.teacher.scoring import apply_chat

# Requested for scoring: 1 rather than 0, since a few servers read `logprobs: 0` as "no log-probabilities".
_SCORE_LOGPROBS = 1
_BODY_EXCERPT = 300


class TeacherError(RuntimeError):
    """Base class of the errors this backend raises; `attempts` is how many requests were sent."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class TeacherHTTPError(TeacherError):
    """The server answered with an error status (a 4xx other than 429, or a 429 / 5xx after all retries)."""

    def __init__(self, url: str, status: int, body: str, *, attempts: int = 1) -> None:
        excerpt = body[:_BODY_EXCERPT] + ("..." if len(body) > _BODY_EXCERPT else "")
        super().__init__(f"{url} answered HTTP {status} after {attempts} attempt(s): {excerpt}", attempts=attempts)
        self.url = url
        self.status = status
        self.body = excerpt


class TeacherResponseError(TeacherError):
    """The server answered 2xx, but the body is not what the completions API promises."""


class TeacherConnectionError(TeacherError):
    """No answer after all retries: connection refused or reset, or a timeout (`timed_out`)."""

    def __init__(self, message: str, *, timed_out: bool, attempts: int) -> None:
        super().__init__(message, attempts=attempts)
        self.timed_out = timed_out


class OpenAICompatibleTeacher:
    """A `TeacherBackend` over HTTP to an OpenAI-compatible completions server (see the module docstring).

    backoff_s / backoff_cap_s: the first retry delay and its cap (delays double between attempts).
    Thread-safe: the underlying `httpx.Client` pools connections and may be shared between threads.
    """

    structured_outputs = True  # honours Sampling.json_schema

    def __init__(self, config: TeacherConfig, *, backoff_s: float = 0.2, backoff_cap_s: float = 4.0) -> None:
        if config.max_retries < 0 or config.timeout_s <= 0:
            raise ValueError("teacher.max_retries must be >= 0 and teacher.timeout_s > 0")
        self.config = config
        self.base_url = config.base_url.rstrip("/")
        self.backoff_s = backoff_s
        self.backoff_cap_s = backoff_cap_s
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        )
        self._model_name: str | None = config.model or None
        self._chat_tokenizer: Any = None

    # -- TeacherBackend -------------------------------------------------------------------------------------

    @property
    def model_name(self) -> str:
        """`config.model`, else the first id from `GET {base_url}/models` (asked once, then cached).

        On Python < 3.12, `isinstance(teacher, TeacherBackend)` reads this attribute, so with `model: ""` it
        asks the server.
        """
        if self._model_name is None:
            body = self._request("GET", "/models")
            data = body.get("data")
            if not isinstance(data, list) or not data or not isinstance(data[0], dict) or "id" not in data[0]:
                raise TeacherResponseError(f"{self.base_url}/models: the body has no `data[0].id`: {_excerpt(body)}")
            self._model_name = str(data[0]["id"])
        return self._model_name

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        """Template each conversation locally, ending with the assistant generation prompt.

        The tokenizer comes from `config.model` when it is a local folder, else from the embedded model.
        """
        return apply_chat(self._tokenizer(), conversations)

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        """One completion per prompt, `batch_size` prompts per request, in the order of `prompts`."""
        texts: list[str] = []
        for batch in _chunks(list(prompts), self.config.batch_size):
            payload: dict[str, Any] = {
                "model": self.model_name,
                "prompt": batch,
                "max_tokens": sampling.max_tokens,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "seed": sampling.seed,
            }
            if sampling.stop:
                payload["stop"] = list(sampling.stop)
            if sampling.json_schema:  # vLLM's OpenAI server reads it on /completions too
                schema = {"name": "answer", "schema": json.loads(sampling.json_schema)}
                payload["response_format"] = {"type": "json_schema", "json_schema": schema}
            for where, choice in self._completions(payload, len(batch)):
                text = choice.get("text")
                if not isinstance(text, str):
                    raise TeacherResponseError(f"{self.base_url}/completions: {where}.text is missing or not a string")
                texts.append(text)
        return texts

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        """Log-likelihood of each candidate continuation of each prompt (echoed prompt log-probabilities)."""
        if len(prompts) != len(candidates):
            raise ValueError(f"score: {len(prompts)} prompts but {len(candidates)} candidate lists")
        pairs = [(prompt, cand) for prompt, cands in zip(prompts, candidates, strict=True) for cand in cands]
        results: list[tuple[float, int]] = []
        for batch in _chunks(pairs, self.config.batch_size):
            payload = {
                "model": self.model_name,
                "prompt": [prompt + cand for prompt, cand in batch],
                "max_tokens": 1,
                "temperature": 0.0,
                "echo": True,
                "logprobs": _SCORE_LOGPROBS,
            }
            for (prompt, cand), (where, choice) in zip(batch, self._completions(payload, len(batch)), strict=True):
                results.append(self._candidate_logprob(prompt, cand, choice, where))
        summed: list[list[float]] = []
        mean: list[list[float]] = []
        tokens: list[list[int]] = []
        position = 0
        for cands in candidates:
            chunk = results[position : position + len(cands)]
            position += len(cands)
            summed.append([total for total, _ in chunk])
            mean.append([total / count if count else 0.0 for total, count in chunk])
            tokens.append([count for _, count in chunk])
        return CandidateScores(summed=summed, mean=mean, tokens=tokens)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> OpenAICompatibleTeacher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------------------

    def _tokenizer(self) -> Any:
        if self._chat_tokenizer is None:
            from transformers import AutoTokenizer

            local = Path(self.config.model).expanduser() if self.config.model else None
            if local is not None and local.is_dir():
                folder = local
            else:
                from raytool.teacher.embedded import ensure_embedded_model

                folder = ensure_embedded_model()
            self._chat_tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        return self._chat_tokenizer

    def _candidate_logprob(self, prompt: str, candidate: str, choice: dict[str, Any], where: str) -> tuple[float, int]:
        """(sum of log-probabilities, token count) of the candidate's echoed tokens (see the module docstring)."""
        logprobs = choice.get("logprobs")
        if not isinstance(logprobs, dict):
            raise TeacherResponseError(
                f"{self.base_url}/completions: {where}.logprobs is missing (does the server support echo + logprobs?)"
            )
        fields = {}
        for name in ("tokens", "token_logprobs", "text_offset"):
            value = logprobs.get(name)
            if not isinstance(value, list):
                raise TeacherResponseError(f"{self.base_url}/completions: {where}.logprobs.{name} is missing")
            fields[name] = value
        toks, values, offsets = fields["tokens"], fields["token_logprobs"], fields["text_offset"]
        if not len(toks) == len(values) == len(offsets):
            raise TeacherResponseError(
                f"{self.base_url}/completions: {where}.logprobs has {len(toks)} tokens, {len(values)} token_logprobs "
                f"and {len(offsets)} text_offset entries"
            )
        if not all(isinstance(offset, int) for offset in offsets) or not all(
            value is None or isinstance(value, (int, float)) for value in values
        ):
            raise TeacherResponseError(
                f"{self.base_url}/completions: {where}.logprobs.text_offset must hold integers and "
                "token_logprobs numbers or null"
            )
        text = prompt + candidate
        # Offsets count the characters of the returned token strings; a BOS token shifts the text to the right.
        shift = "".join(str(tok) for tok in toks).find(text)
        start, end = max(shift, 0) + len(prompt), max(shift, 0) + len(text)
        total, count = 0.0, 0
        for tok, value, offset in zip(toks, values, offsets, strict=True):
            # Counted: tokens holding candidate characters, including one that straddles the boundary.
            holds_candidate = offset >= start or offset + len(str(tok)) > start
            if value is not None and holds_candidate and offset < end:
                total += float(value)
                count += 1
        return total, count

    def _completions(self, payload: dict[str, Any], expected: int) -> list[tuple[str, dict[str, Any]]]:
        """POST /completions; the choices as (description, choice), ordered by `index` and checked for count."""
        body = self._request("POST", "/completions", payload)
        url = f"{self.base_url}/completions"
        choices = body.get("choices")
        if not isinstance(choices, list):
            raise TeacherResponseError(f"{url}: the body has no `choices` list: {_excerpt(body)}")
        if len(choices) != expected:
            raise TeacherResponseError(f"{url}: {len(choices)} choices for {expected} prompts")
        ordered: dict[int, dict[str, Any]] = {}
        for position, choice in enumerate(choices):
            if not isinstance(choice, dict):
                raise TeacherResponseError(f"{url}: choices[{position}] is not an object")
            index = choice.get("index", position)
            if not isinstance(index, int) or not 0 <= index < expected or index in ordered:
                raise TeacherResponseError(f"{url}: choices[{position}].index={index!r} is invalid or repeated")
            ordered[index] = choice
        return [(f"choices[index={index}]", ordered[index]) for index in range(expected)]

    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """One API call with retries; the decoded JSON object of a 2xx answer."""
        url = f"{self.base_url}{path}"
        attempts = self.config.max_retries + 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self._client.request(method, url, json=payload)
            except httpx.UnsupportedProtocol as err:  # a malformed base_url: retrying cannot help
                raise TeacherConnectionError(f"{url}: {err}", timed_out=False, attempts=attempt) from err
            except httpx.TransportError as err:
                if last:
                    timed_out = isinstance(err, httpx.TimeoutException)
                    what = f"timed out (timeout_s={self.config.timeout_s})" if timed_out else "failed"
                    message = f"{method} {url} {what} after {attempt} attempt(s): {type(err).__name__}: {err}"
                    raise TeacherConnectionError(message, timed_out=timed_out, attempts=attempt) from err
                time.sleep(self._retry_delay(attempt, None))
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                if last:
                    raise TeacherHTTPError(url, status, response.text, attempts=attempt)
                time.sleep(self._retry_delay(attempt, response.headers.get("retry-after")))
                continue
            if status >= 400:
                raise TeacherHTTPError(url, status, response.text, attempts=attempt)
            try:
                body = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise TeacherResponseError(f"{url}: the body is not JSON: {_excerpt(response.text)}") from err
            if not isinstance(body, dict):
                raise TeacherResponseError(f"{url}: the body is not a JSON object: {_excerpt(body)}")
            return body
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _retry_delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based): backoff_s * 2**(attempt - 1), capped.

        A numeric `Retry-After` header (429 / 503) replaces the computed delay, still within the cap.
        """
        delay = self.backoff_s * 2 ** (attempt - 1)
        if retry_after is not None:
            try:
                delay = max(0.0, float(retry_after))
            except ValueError:
                pass  # an HTTP date: keep the computed delay
        return min(delay, self.backoff_cap_s)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)[: _BODY_EXCERPT + 1]
    return text[:_BODY_EXCERPT] + ("..." if len(text) > _BODY_EXCERPT else "")
