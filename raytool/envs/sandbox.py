"""Sandboxed execution of suite tool calls: a hanging, crashing or misbehaving tool never takes down the worker.

    with ProcessSandbox(timeout_s=2.0) as tools:          # or InlineExecutor() for trusted suites, in-process
        tools.reset(["cpn"], world_seed=7)                 # one fresh world per suite
        result = tools.call("list_nodes", {"region": "eu"})
        observation = result.observation()                 # {"ok": True, "output": ...} or {"ok": False, "error": ...}

Every failure becomes a `CallResult` with an `error_type` from `ERROR_TYPES`: `ToolError`s keep their code, other
exceptions are "exception", results must be strict JSON ("malformed_output") of at most `max_output_bytes`
("output_too_large"). Outputs are JSON round-tripped copies, so both executors return identical values.

`InlineExecutor` runs trusted suites in the calling process. Its time limit is a SIGALRM timer, which only works on
the main thread and between Python bytecodes (not inside one long C call); on other threads a call runs to completion
and is only measured. It refuses `add_code_tool` (PermissionError).

`ProcessSandbox` runs everything in one persistent child process (started lazily with the "spawn" method; fork is
unsafe inside Ray workers; as with any spawn, the parent's `__main__` is re-imported as `__mp_main__`, so scripts
need the `if __name__ == "__main__":` guard). Before running anything the child sets rlimits (address space
`memory_limit_mb`, `cpu_limit_s` CPU seconds per call, no file growth, 64 descriptors, no core dumps), sends its
stdio to /dev/null, imports the suites, then installs an audit hook that raises PermissionError ("forbidden") for
opening files to write or create, file-system changes, non-Unix sockets, connect/bind/sendto and name lookups,
subprocesses, fork, exec, signals to other processes, ctypes, sqlite files and rlimit changes. A call that outlives
`timeout_s` gets the child SIGKILLed ("timeout"); a child that dies is "crashed" (or "out_of_memory"). The next call
or reset starts a new child with the same suites, world seed and code tools: the world state of the interrupted
episode is lost, and that episode's later calls run on a fresh world built from the same seed. `add_code_tool`
registers untrusted source (e.g. LLM-written) that is exec()ed only in the child, afresh each episode, at first use.
Setup failures (unknown suite, duplicate tool name, a child that cannot start) raise `SandboxError`.

Limits, honestly: audit hooks are not a security boundary (PEP 578). Code in the child can read any file the worker
can read, create FIFOs (os.mkfifo is not audited), write to descriptors it already has, and reach interpreter
internals (frames, the pipe). Replies are length-framed JSON read against the deadline and matched by sequence
number, so forging, garbling or stalling the pipe can at worst falsify results of calls into the same child or end
in "crashed" or "timeout"; it never runs code in, or hangs, the parent. The hard guarantees are the separate
process, its rlimits and the parent's SIGKILL; for hostile code add OS isolation (container, seccomp, no network
namespace). Calls are serialized by a lock; use one executor per rollout worker.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from raytool.envs.suite import NotFound, ToolError, ToolSuite
from raytool.envs.suites import get_suite

TOOL_ERROR_CODES = ("not_found", "invalid_argument", "quota_exceeded", "conflict", "tool_error")
SANDBOX_ERRORS = (
    "timeout", "exception", "output_too_large", "malformed_output", "out_of_memory", "forbidden", "crashed",
)  # fmt: skip
ERROR_TYPES = SANDBOX_ERRORS + TOOL_ERROR_CODES
_MAX_MESSAGE_CHARS = 500
_EXIT_OUT_OF_MEMORY = 86  # the child's exit status when it ran out of memory outside a tool
_REPLY_SLACK_BYTES = 64 * 1024  # room for the reply header next to an output of max_output_bytes


@dataclass(frozen=True)
class CallResult:
    """Outcome of one tool call: its JSON output, or an error type from `ERROR_TYPES` and a message."""

    ok: bool
    output: Any = None
    error_type: str = ""
    error: str = ""
    elapsed_s: float = 0.0

    def observation(self) -> dict:
        """What the agent sees: `{"ok": True, "output": ...}` or `{"ok": False, "error": {"type", "message"}}`."""
        if self.ok:
            return {"ok": True, "output": self.output}
        return {"ok": False, "error": {"type": self.error_type, "message": self.error}}


@runtime_checkable
class ToolExecutor(Protocol):
    """What an environment needs from an executor: `InlineExecutor` and `ProcessSandbox` both provide it."""

    def reset(self, suites: Sequence[str], world_seed: int) -> None: ...  # fresh worlds, one per suite
    def call(self, name: str, arguments: dict) -> CallResult: ...  # routed to the suite that has `name`
    def close(self) -> None: ...


class SandboxError(RuntimeError):
    """The sandbox could not be set up (child failed to start, reset or add_code_tool rejected)."""


def derive_seed(world_seed: int, suite: str) -> int:
    """The world seed of `suite` in an episode seeded `world_seed`; stable across processes, in [0, 2**32)."""
    digest = hashlib.blake2b(f"{world_seed}:{suite}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


class _Episode:
    """The worlds of one episode and the routing of tool names to suites and code tools (shared by both executors)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[ToolSuite, Any]] = {}
        self.code_sources: dict[str, tuple[str, str]] = {}
        self.code_functions: dict[str, Any] = {}

    def reset(self, suites: Sequence[str], world_seed: int) -> None:
        routes: dict[str, tuple[ToolSuite, Any]] = {}
        for name in suites:
            suite = get_suite(name)
            world = suite.make_world(derive_seed(world_seed, name))
            for tool in suite.tools:
                if tool in routes or tool in self.code_sources:
                    raise ValueError(f"tool {tool!r} of suite {name!r} is also provided by another suite or code tool")
                routes[tool] = (suite, world)
        self.routes, self.code_functions = routes, {}  # code tools are re-exec()ed per episode: no state leaks

    def add_code(self, name: str, source: str, function: str) -> None:
        if name in self.routes or name in self.code_sources:
            raise ValueError(f"a tool named {name!r} already exists")
        self.code_sources[name] = (source, function)

    def run(self, name: str, arguments: dict[str, Any]) -> Any:
        route = self.routes.get(name)
        if route is not None:
            suite, world = route
            return suite.call(world, name, arguments)
        if name not in self.code_sources:
            raise NotFound(f"no tool {name!r}")
        if name not in self.code_functions:
            source, function = self.code_sources[name]
            namespace: dict[str, Any] = {"__name__": f"code_tool_{name}"}
            exec(compile(source, f"<code tool {name}>", "exec"), namespace)
            if not callable(namespace.get(function)):
                raise TypeError(f"code tool {name!r}: source defines no function {function!r}")
            self.code_functions[name] = namespace[function]
        return self.code_functions[name](**arguments)


class _CallTimeout(BaseException):
    """Raised by the SIGALRM handler; a BaseException so that tools' `except Exception` cannot swallow it."""


def _describe(exc: BaseException, with_type: bool = True) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    if with_type:
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 3] + "..."


def _classify(exc: BaseException) -> tuple[str, str]:
    """(error_type, message) of an exception raised by a tool."""
    if isinstance(exc, ToolError):
        code = exc.code if exc.code in TOOL_ERROR_CODES else "tool_error"
        return code, _describe(exc, with_type=False)
    if isinstance(exc, MemoryError):
        return "out_of_memory", _describe(exc)
    if isinstance(exc, PermissionError):
        return "forbidden", _describe(exc, with_type=False)
    return "exception", _describe(exc)


def _execute(episode: _Episode, name: str, arguments_json: str, max_output_bytes: int) -> tuple[bool, str, str, str]:
    """Run one call: (ok, output as JSON text, error_type, message). Timeouts and KeyboardInterrupt propagate."""
    try:
        result = episode.run(name, json.loads(arguments_json))
    except (_CallTimeout, KeyboardInterrupt):
        raise
    except BaseException as exc:  # SystemExit from a tool is a tool failure too
        return (False, "", *_classify(exc))
    try:
        text = json.dumps(result, allow_nan=False)
    except MemoryError:
        return False, "", "out_of_memory", "MemoryError while serializing the output"
    except (TypeError, ValueError, RecursionError) as exc:
        return False, "", "malformed_output", f"output is not JSON: {_describe(exc, with_type=False)}"
    finally:
        del result
    if len(text) > max_output_bytes:  # json.dumps escapes to ASCII: characters == bytes
        return False, "", "output_too_large", f"output of {len(text)} bytes exceeds the limit of {max_output_bytes}"
    return True, text, "", ""


def _encode_arguments(arguments: Any) -> str | CallResult:
    """Arguments as JSON text (validated and detached from the caller), or an "invalid_argument" result."""
    if not isinstance(arguments, dict):
        return CallResult(
            False, None, "invalid_argument", f"arguments must be an object, got {type(arguments).__name__}"
        )
    try:
        return json.dumps(arguments, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return CallResult(False, None, "invalid_argument", f"arguments are not JSON: {_describe(exc, with_type=False)}")


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise `_CallTimeout` in the body after `seconds` (main thread only; elsewhere a no-op)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _CallTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if outer_delay:  # someone else's timer was running: re-arm it with what is left
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - (time.monotonic() - start), 1e-3), outer_interval)


_Executor = TypeVar("_Executor", bound="_ExecutorBase")


class _ExecutorBase:
    """Context-manager support: `with Executor(...) as tools:` closes it on exit."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _Executor) -> _Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class InlineExecutor(_ExecutorBase):
    """Trusted suite tools in the calling process: the fast path. Untrusted code tools are refused."""

    def __init__(self, timeout_s: float = 2.0, max_output_bytes: int = 1_000_000) -> None:
        self.timeout_s, self.max_output_bytes = timeout_s, max_output_bytes
        self._episode = _Episode()

    def reset(self, suites: Sequence[str], world_seed: int) -> None:
        self._episode.reset(tuple(suites), world_seed)

    def call(self, name: str, arguments: dict) -> CallResult:
        arguments_json = _encode_arguments(arguments)
        if isinstance(arguments_json, CallResult):
            return arguments_json
        start = time.perf_counter()
        try:
            with _alarm(self.timeout_s):
                ok, text, error_type, error = _execute(self._episode, name, arguments_json, self.max_output_bytes)
        except _CallTimeout:
            message = f"call exceeded the time limit of {self.timeout_s:g} s"
            return CallResult(False, None, "timeout", message, time.perf_counter() - start)
        return CallResult(ok, json.loads(text) if ok else None, error_type, error, time.perf_counter() - start)

    def add_code_tool(self, name: str, source: str, function: str) -> None:
        raise PermissionError("InlineExecutor never runs untrusted code; use ProcessSandbox.add_code_tool")

    def close(self) -> None:
        self._episode = _Episode()


# ---------------------------------------------------------------- the parent side of ProcessSandbox


class _ChildLost(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type, self.message = error_type, message


class ProcessSandbox(_ExecutorBase):
    """All tool calls in a separate, resource-limited child process; see the module docstring.

    `setup_timeout_s` bounds a child's start (imports, world building) and each reset. `starts` counts the children
    started so far (restarts after kills included); `bytes_received` the reply bytes read from them.
    """

    def __init__(
        self, timeout_s: float = 2.0, max_output_bytes: int = 1_000_000, memory_limit_mb: int = 1024,
        cpu_limit_s: int = 60, setup_timeout_s: float = 60.0,
    ) -> None:  # fmt: skip
        self.timeout_s, self.max_output_bytes, self.setup_timeout_s = timeout_s, max_output_bytes, setup_timeout_s
        self.memory_limit_mb, self.cpu_limit_s = memory_limit_mb, cpu_limit_s
        self.starts = self.bytes_received = 0
        self._suites: tuple[str, ...] = ()
        self._world_seed = 0
        self._code_tools: dict[str, tuple[str, str]] = {}
        self._proc: Any = None
        self._conn: Any = None
        self._seq = 0
        self._poller: Any = None
        self._lock = threading.RLock()

    def reset(self, suites: Sequence[str], world_seed: int) -> None:
        """Fresh worlds for `suites`; raises SandboxError when a suite cannot be loaded or built."""
        with self._lock:
            previous = self._suites, self._world_seed
            self._suites, self._world_seed = tuple(suites), world_seed
            self._configure(("reset", self._suites, world_seed), undo=lambda: self._restore(*previous))

    def add_code_tool(self, name: str, source: str, function: str) -> None:
        """Register untrusted `source`; calls of `name` exec() it in the child and return `function(**arguments)`."""
        with self._lock:
            if name in self._code_tools:
                raise SandboxError(f"code tool {name!r} already exists")
            self._code_tools[name] = (source, function)
            self._configure(("code", name, source, function), undo=lambda: self._code_tools.pop(name))

    def call(self, name: str, arguments: dict) -> CallResult:
        arguments_json = _encode_arguments(arguments)
        if isinstance(arguments_json, CallResult):
            return arguments_json
        with self._lock:
            if not self._alive():
                self._start()
            start = time.perf_counter()
            try:
                ok, output, error_type, error = self._request(self.timeout_s, "call", name, arguments_json)
            except _ChildLost as lost:
                ok, output, error_type, error = False, None, lost.error_type, lost.message
            return CallResult(ok, output, error_type, error, time.perf_counter() - start)

    def close(self) -> None:
        """Kill the child (it holds nothing worth saving); a later call would start a new one."""
        with self._lock:
            self._kill()

    def __del__(self) -> None:
        try:
            self._kill()
        except Exception:
            pass

    def _restore(self, suites: tuple[str, ...], world_seed: int) -> None:
        self._suites, self._world_seed = suites, world_seed

    def _configure(self, message: tuple, undo: Callable[[], Any]) -> None:
        """Send a reset/code request to a live child, or start one with the new configuration; undo on failure."""
        try:
            if not self._alive():
                return self._start()
            try:
                ok, _, _, error = self._request(self.setup_timeout_s, *message)
            except _ChildLost as lost:
                raise SandboxError(f"sandbox {message[0]} failed: {lost.message}") from None
            if not ok:
                raise SandboxError(f"sandbox {message[0]} failed: {error}")
        except BaseException:
            undo()
            raise

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def _start(self) -> None:
        self._kill()
        context = multiprocessing.get_context("spawn")
        parent_conn, child_conn = context.Pipe()
        from raytool.envs.sandbox_child import _child_main, _ChildConfig

        config = _ChildConfig(
            self._suites, self._world_seed, dict(self._code_tools), self.memory_limit_mb, self.cpu_limit_s,
            self.max_output_bytes,
        )  # fmt: skip
        proc = context.Process(target=_child_main, args=(child_conn, config), name="raytool-sandbox", daemon=True)
        try:
            proc.start()
        except BaseException:
            parent_conn.close()
            raise
        finally:
            child_conn.close()
        self._proc, self._conn, self._seq = proc, parent_conn, 0
        self._poller = select.poll()
        self._poller.register(parent_conn.fileno(), select.POLLIN)
        self.starts += 1
        try:
            ok, _, _, error = self._wait_reply(0, self.setup_timeout_s)
        except _ChildLost as lost:
            raise SandboxError(f"sandbox process failed to start: {lost.message}") from None
        if not ok:
            self._kill()
            raise SandboxError(f"sandbox setup failed: {error}")

    def _request(self, timeout_s: float, op: str, *payload: Any) -> tuple[bool, Any, str, str]:
        self._seq += 1
        try:
            self._conn.send((op, self._seq, *payload))
        except OSError:
            raise self._lost() from None
        return self._wait_reply(self._seq, timeout_s)

    def _wait_reply(self, seq: int, timeout_s: float) -> tuple[bool, Any, str, str]:
        """The reply numbered `seq` (stale or forged replies are skipped), as (ok, output, error_type, error)."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                size = int.from_bytes(self._read_exactly(8, deadline), "big")
                if size > self.max_output_bytes + _REPLY_SLACK_BYTES:
                    raise ValueError(f"reply of {size} bytes")
                data = self._read_exactly(size, deadline)
                header, _, body = data.partition(b"\n")
                reply_seq, ok, error_type, error = json.loads(header)
                output = json.loads(body) if ok and body else None
            except TimeoutError:
                self._kill()
                raise _ChildLost(
                    "timeout", f"no reply within {timeout_s:g} s; the sandbox process was killed"
                ) from None
            except (EOFError, ConnectionError):
                raise self._lost() from None
            except (OSError, ValueError, TypeError):  # garbled: the child is not speaking the protocol
                self._kill()
                raise _ChildLost("crashed", "unreadable reply from the sandbox process; it was killed") from None
            if reply_seq == seq:
                error_type = error_type if ok or error_type in ERROR_TYPES else "crashed"
                return bool(ok), output, str(error_type), str(error)

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        """`size` bytes from the child, never blocking past `deadline` (even if it sends half a message and hangs)."""
        chunks = []
        while size:
            if not self._poller.poll(max(0.0, deadline - time.monotonic()) * 1000):
                raise TimeoutError
            chunk = os.read(self._conn.fileno(), min(size, 1 << 20))
            if not chunk:
                raise EOFError
            self.bytes_received += len(chunk)
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _lost(self) -> _ChildLost:
        """Reap a child that died and say why."""
        proc = self._proc
        if proc is not None:
            proc.join(1.0)
        code = proc.exitcode if proc is not None else None
        self._kill()
        if code == _EXIT_OUT_OF_MEMORY:
            return _ChildLost("out_of_memory", "the sandbox process ran out of memory")
        if code == -signal.SIGXCPU:
            return _ChildLost("timeout", f"the call exceeded the CPU limit of {self.cpu_limit_s} s")
        if code is not None and code < 0:
            hint = " (possibly the kernel's out-of-memory killer)" if -code == signal.SIGKILL else ""
            return _ChildLost("crashed", f"the sandbox process was killed by {signal.Signals(-code).name}{hint}")
        return _ChildLost("crashed", f"the sandbox process exited with status {code}")

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5.0)
            if proc.exitcode is not None:
                proc.close()
        if conn is not None:
            conn.close()
