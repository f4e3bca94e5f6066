"""Sandboxed tool execution: misbehaving tools (tests/envs/sandbox_suite.py) never take down the caller."""

from __future__ import annotations

import builtins
import gc
import os
import threading
import time

import pytest

from raytool.envs.sandbox import (
    ERROR_TYPES,
    CallResult,
    InlineExecutor,
    ProcessSandbox,
    SandboxError,
    ToolExecutor,
    derive_seed,
)

SUITE = "tests.envs.sandbox_suite:SUITE"
OTHER = "tests.envs.sandbox_suite:OTHER"
TIMEOUT_S = 1.0
SLACK_S = 1.5


@pytest.fixture(scope="module")
def shared_sandbox():
    with ProcessSandbox(timeout_s=TIMEOUT_S) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(shared_sandbox: ProcessSandbox):
    """The shared sandbox on a fresh episode; afterwards, whatever the test did, a new episode must work."""
    shared_sandbox.reset([SUITE, OTHER], world_seed=0)
    yield shared_sandbox
    shared_sandbox.reset([SUITE], world_seed=1)
    assert shared_sandbox.call("counter", {}).output == 1
    assert shared_sandbox.call("echo", {"x": 7}).observation() == {"ok": True, "output": 7}


def error_type(result: CallResult) -> str:
    assert not result.ok and result.output is None and result.error_type in ERROR_TYPES, result
    return result.error_type


def test_infinite_loop_times_out_and_the_next_call_works(sandbox: ProcessSandbox) -> None:
    assert sandbox.call("counter", {}).output == 1
    starts = sandbox.starts
    start = time.monotonic()
    result = sandbox.call("spin", {"seconds": 1e9})
    assert error_type(result) == "timeout" and time.monotonic() - start < TIMEOUT_S + SLACK_S
    assert TIMEOUT_S <= result.elapsed_s < TIMEOUT_S + SLACK_S
    assert sandbox.call("echo", {"x": 3}).output == 3 and sandbox.starts == starts + 1
    assert sandbox.call("counter", {}).output == 1  # the killed episode's world is rebuilt from its seed


def test_failures_are_classified(sandbox: ProcessSandbox) -> None:
    boom = sandbox.call("boom", {})
    assert error_type(boom) == "exception" and boom.error == "RuntimeError: boom"
    assert "Traceback" not in boom.error
    assert boom.observation() == {"ok": False, "error": {"type": "exception", "message": "RuntimeError: boom"}}
    assert error_type(sandbox.call("fail_not_found", {})) == "not_found"
    assert error_type(sandbox.call("no_such_tool", {})) == "not_found"
    assert error_type(sandbox.call("echo", {"x": "one"})) == "invalid_argument"
    assert error_type(sandbox.call("echo", {"x": {1, 2}})) == "invalid_argument"
    for kind in ("set", "object", "nan"):
        assert error_type(sandbox.call("bad_output", {"kind": kind})) == "malformed_output"
    assert sandbox.call("echo", {"x": 5}).output == 5


def test_huge_output_is_refused_inside_the_child() -> None:
    with ProcessSandbox(timeout_s=20.0) as sandbox:
        sandbox.reset([SUITE], world_seed=0)
        received = sandbox.bytes_received
        result = sandbox.call("big_output", {"mb": 100})
        assert error_type(result) == "output_too_large" and "104857602 bytes" in result.error
        assert sandbox.bytes_received - received < 4096  # the 100 MB never crossed the pipe
        assert sandbox.call("big_output", {"mb": 0}).output == "" and sandbox.starts == 1


def test_unbounded_allocation_is_contained() -> None:
    with ProcessSandbox(timeout_s=20.0, memory_limit_mb=512) as sandbox:
        sandbox.reset([SUITE], world_seed=0)
        assert error_type(sandbox.call("hog_memory", {})) in ("out_of_memory", "crashed")
        assert sandbox.call("echo", {"x": 1}).output == 1
        sandbox.reset([SUITE], world_seed=1)
        assert sandbox.call("counter", {}).output == 1


def test_cpu_limit_backs_up_the_wall_clock_timeout() -> None:
    with ProcessSandbox(timeout_s=30.0, cpu_limit_s=1) as sandbox:
        sandbox.reset([SUITE], world_seed=0)
        result = sandbox.call("spin", {"seconds": 1e9})
        assert error_type(result) == "timeout" and "CPU limit" in result.error and result.elapsed_s < 10
        assert sandbox.call("echo", {"x": 2}).output == 2


def test_file_writes_are_forbidden(sandbox: ProcessSandbox, tmp_path) -> None:
    target = tmp_path / "escaped.txt"
    result = sandbox.call("write_file", {"path": str(target)})
    assert error_type(result) == "forbidden" and "open" in result.error
    assert not target.exists()


@pytest.mark.parametrize("mode", ["connect", "bind"])
def test_sockets_are_forbidden(sandbox: ProcessSandbox, mode: str) -> None:
    assert error_type(sandbox.call("open_socket", {"mode": mode})) == "forbidden"


def test_world_state_persists_within_an_episode_and_resets(sandbox: ProcessSandbox) -> None:
    assert [sandbox.call("counter", {}).output for _ in range(3)] == [1, 2, 3]
    assert sandbox.call("world_seed", {}).output == derive_seed(0, OTHER)
    sandbox.reset([SUITE, OTHER], world_seed=5)
    assert sandbox.call("counter", {}).output == 1
    assert sandbox.call("world_seed", {}).output == derive_seed(5, OTHER) != derive_seed(5, SUITE)


def test_derive_seed_is_stable_across_processes() -> None:
    assert derive_seed(7, "cpn") == 4006504210  # a constant: hash() would change with PYTHONHASHSEED
    assert derive_seed(7, "cpn") != derive_seed(8, "cpn") and 0 <= derive_seed(0, "") < 2**32


def test_suites_imported_after_the_audit_hook_work(sandbox: ProcessSandbox) -> None:
    sandbox.reset([SUITE, "tests.envs.test_docgen:demo"], world_seed=0)
    result = sandbox.call("list_nodes", {"region": "eu", "min_gpus": 1})
    assert result.output == {"region": "eu", "nodes": [{"node_id": "n1", "gpus": 4}]}


def test_a_failed_reset_keeps_the_previous_episode(sandbox: ProcessSandbox) -> None:
    assert sandbox.call("counter", {}).output == 1
    with pytest.raises(SandboxError, match="unknown suite"):
        sandbox.reset(["no_such_suite"], world_seed=0)
    with pytest.raises(SandboxError, match="registered twice|also provided"):
        sandbox.reset([SUITE, SUITE], world_seed=0)
    assert sandbox.call("counter", {}).output == 2


def test_untrusted_code_tools_are_contained(tmp_path) -> None:
    target = tmp_path / "escaped.txt"
    with ProcessSandbox(timeout_s=TIMEOUT_S) as sandbox:
        sandbox.reset([SUITE], world_seed=0)
        sandbox.add_code_tool(
            "add", "import builtins\nbuiltins.RAN_HERE = 1\ndef add(a, b):\n    return a + b\n", "add"
        )
        writer = f"def write():\n    open({str(target)!r}, 'w').write('x')\n    return 'wrote'\n"
        sandbox.add_code_tool("write", writer, "write")
        sandbox.add_code_tool("loop", "def loop():\n    while True:\n        pass\n", "loop")
        sandbox.add_code_tool("loop_on_exec", "while True:\n    pass\n", "never")
        sandbox.add_code_tool("shell", "import os\ndef shell():\n    return os.system('touch /tmp/x')\n", "shell")
        sandbox.add_code_tool("nameless", "x = 1\n", "missing")
        with pytest.raises(SandboxError, match="already exists"):
            sandbox.add_code_tool("echo", "def echo(x):\n    return x\n", "echo")
        assert sandbox.call("add", {"a": 2, "b": 3}).output == 5
        assert not hasattr(builtins, "RAN_HERE")  # the source never ran in this process
        assert error_type(sandbox.call("write", {})) == "forbidden" and not target.exists()
        assert error_type(sandbox.call("shell", {})) == "forbidden"
        assert error_type(sandbox.call("nameless", {})) == "exception"
        for looping in ("loop", "loop_on_exec"):
            assert error_type(sandbox.call(looping, {})) == "timeout"
            assert sandbox.call("add", {"a": 1, "b": 1}).output == 2  # re-established in the new child
        sandbox.reset([SUITE], world_seed=1)
        assert sandbox.call("add", {"a": 4, "b": 4}).output == 8 and sandbox.call("counter", {}).output == 1


FORGER = """
import os, time
def forge(length, text, hang):
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                os.write(int(fd), length.to_bytes(8, "big") + text.encode())
        except OSError:
            pass
    time.sleep(hang)
    return "real"
"""


def test_code_cannot_forge_or_stall_replies_on_the_pipe() -> None:
    with ProcessSandbox(timeout_s=TIMEOUT_S) as sandbox:
        sandbox.add_code_tool("forge", FORGER, "forge")
        forged = '[999, true, "", ""]\n"fake"'
        assert sandbox.call("forge", {"length": len(forged), "text": forged, "hang": 0}).output == "real"
        start = time.monotonic()
        half = sandbox.call("forge", {"length": 100, "text": "[2, true", "hang": 60})
        assert error_type(half) == "timeout" and time.monotonic() - start < TIMEOUT_S + SLACK_S
        assert error_type(sandbox.call("forge", {"length": 2**40, "text": "", "hang": 0})) == "crashed"
        assert sandbox.call("forge", {"length": len(forged), "text": forged, "hang": 0}).output == "real"


def test_close_and_garbage_collection_end_the_child() -> None:
    sandbox = ProcessSandbox()
    with sandbox:
        sandbox.reset([SUITE], world_seed=0)
        pid = sandbox._proc.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    sandbox = ProcessSandbox()
    sandbox.reset([SUITE], world_seed=0)
    pid = sandbox._proc.pid
    del sandbox
    gc.collect()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_inline_executor_classifies_failures() -> None:
    with InlineExecutor(timeout_s=TIMEOUT_S, max_output_bytes=1_000_000) as inline:
        inline.reset([SUITE], world_seed=0)
        assert error_type(inline.call("boom", {})) == "exception"
        assert error_type(inline.call("fail_not_found", {})) == "not_found"
        assert error_type(inline.call("no_such_tool", {})) == "not_found"
        assert error_type(inline.call("big_output", {"mb": 2})) == "output_too_large"
        assert error_type(inline.call("bad_output", {"kind": "object"})) == "malformed_output"
        start = time.monotonic()
        assert error_type(inline.call("spin", {"seconds": 1e9})) == "timeout"
        assert time.monotonic() - start < TIMEOUT_S + SLACK_S
        assert inline.call("echo", {"x": 4}).output == 4
        with pytest.raises(PermissionError):
            inline.add_code_tool("add", "def add(a, b):\n    return a + b\n", "add")


def test_inline_executor_only_measures_off_the_main_thread() -> None:
    inline = InlineExecutor(timeout_s=0.05)
    inline.reset([SUITE], world_seed=0)
    results: list[CallResult] = []
    worker = threading.Thread(target=lambda: results.append(inline.call("spin", {"seconds": 0.2})))
    worker.start()
    worker.join()
    assert results[0].ok and results[0].elapsed_s >= 0.2


def test_both_executors_give_identical_results(sandbox: ProcessSandbox) -> None:
    names = ["counter", "echo", "counter", "boom", "fail_not_found", "bad_output", "echo", "missing", "world_seed"]
    calls = [(name, {"x": -3} if index == 1 else {}) for index, name in enumerate(names)] + [("counter", {})]
    inline = InlineExecutor(timeout_s=TIMEOUT_S)
    assert isinstance(inline, ToolExecutor) and isinstance(sandbox, ToolExecutor)
    observations = []
    for executor in (inline, sandbox):
        executor.reset([SUITE, OTHER], world_seed=11)
        observations.append([executor.call(name, arguments).observation() for name, arguments in calls])
    assert observations[0] == observations[1]
    assert observations[0][2] == {"ok": True, "output": 2}
