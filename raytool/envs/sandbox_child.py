"""The child process of `ProcessSandbox`: confinement (rlimits, an audit hook) and the request loop.

It runs only in the spawned child; `raytool.envs.sandbox` explains what is blocked and what is not.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from raytool.envs.sandbox import _EXIT_OUT_OF_MEMORY, _classify, _Episode, _execute
from raytool.envs.suites import get_suite

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_FORBIDDEN_EVENTS = frozenset(
    "os.remove os.rename os.mkdir os.rmdir os.truncate os.link os.symlink os.chmod os.chown os.utime os.chflags "
    "os.lchflags os.setxattr os.removexattr shutil.rmtree shutil.copyfile shutil.copytree shutil.move shutil.chown "
    "shutil.make_archive shutil.unpack_archive socket.bind socket.connect socket.sendto socket.sendmsg "
    "socket.getaddrinfo socket.gethostbyname socket.gethostbyname_ex socket.gethostbyaddr socket.getnameinfo "
    "socket.sethostname subprocess.Popen os.system os.exec os.posix_spawn os.spawn os.fork os.forkpty os.kill "
    "os.killpg os.startfile signal.pthread_kill ctypes.dlopen ctypes.dlsym ctypes.dlsym/handle ctypes.call_function "
    "ctypes.cdata sqlite3.enable_load_extension sqlite3.load_extension".split()
)
_CONDITIONAL_EVENTS = frozenset({"open", "socket.__new__", "sqlite3.connect", "resource.setrlimit", "resource.prlimit"})
_AUDITED_EVENTS = _FORBIDDEN_EVENTS | _CONDITIONAL_EVENTS


@dataclass(frozen=True)
class _ChildConfig:
    suites: tuple[str, ...]
    world_seed: int
    code_tools: dict[str, tuple[str, str]]
    memory_limit_mb: int
    cpu_limit_s: int
    max_output_bytes: int


def _confine(config: _ChildConfig) -> None:
    """Detach stdio, ignore SIGINT (the parent shuts us down), set rlimits; runs before anything else."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # tool prints must not reach the worker's log files (RLIMIT_FSIZE forbids growth anyway)
        os.dup2(devnull, fd)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # exceeding RLIMIT_FSIZE raises OSError instead of killing
    sys.dont_write_bytecode = True
    mb = 1024 * 1024
    limits = {resource.RLIMIT_AS: config.memory_limit_mb * mb, resource.RLIMIT_FSIZE: 0, resource.RLIMIT_NOFILE: 64}
    for which, value in {**limits, resource.RLIMIT_CORE: 0}.items():
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _install_audit_hook(cpu_limit_s: int) -> Callable[[], None]:
    """Install the child's audit hook; returns `before_call()`, which grants the next call `cpu_limit_s` CPU seconds
    (the hook lets only that rlimit update through; past it the kernel sends SIGXCPU, which kills the child)."""
    trusted = [False]

    def hook(event: str, args: tuple) -> None:
        if event not in _AUDITED_EVENTS:
            return
        if event == "open":
            mode, flags = args[1], args[2] or 0
            if not (isinstance(mode, str) and any(c in mode for c in "wax+")) and not flags & _WRITE_FLAGS:
                return
        elif event == "socket.__new__" and args[1] == socket.AF_UNIX:  # socketpairs are harmless; connect is not
            return
        elif event == "sqlite3.connect" and args[0] == ":memory:":
            return
        elif event.startswith("resource.") and trusted[0]:
            return
        raise PermissionError(f"sandbox forbids {event}{repr(args[:2]) if event == 'open' else ''}")

    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    current_soft = [-1]

    def before_call() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime) + 1 + cpu_limit_s
        soft = soft if hard == resource.RLIM_INFINITY else min(soft, hard)
        if soft != current_soft[0]:
            trusted[0] = True
            try:
                resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
            finally:
                trusted[0] = False
            current_soft[0] = soft

    sys.addaudithook(hook)
    return before_call


def _child_main(conn: Any, config: _ChildConfig) -> None:
    """Entry point of the sandbox process: confine, import the suites, install the hook, then serve requests.

    Requests are pickled tuples `(op, seq, *payload)` from the trusted parent. A reply is an 8-byte length, then
    `[seq, ok, error_type, error]` as JSON, a newline and the output as JSON text: never pickle, so that a compromised
    child cannot make the parent run code, and framed by us, so that the parent reads it against its deadline."""
    try:
        _confine(config)
        import_error = None
        try:  # import before the hook (later resets import under it: reads are allowed, .pyc writes are skipped)
            for suite in config.suites:
                get_suite(suite)
        except Exception as exc:
            import_error = exc
        before_call = _install_audit_hook(config.cpu_limit_s)
        episode = _Episode()
        message: tuple = ("setup", 0)
        while True:
            reply: tuple = (True, "", "", "")
            try:
                op, payload = message[0], message[2:]
                if op == "call":
                    before_call()
                    reply = _execute(episode, *payload, config.max_output_bytes)
                elif op == "reset":
                    episode.reset(*payload)
                elif op == "code":
                    episode.add_code(*payload)
                elif op == "setup":
                    if import_error is not None:
                        raise import_error
                    for name, (source, function) in config.code_tools.items():
                        episode.add_code(name, source, function)
                    episode.reset(config.suites, config.world_seed)
            except Exception as exc:
                reply = (False, "", *_classify(exc))
            data = json.dumps([message[1], reply[0], reply[2], reply[3]]).encode() + b"\n" + reply[1].encode()
            view = memoryview(len(data).to_bytes(8, "big") + data)
            while view:
                view = view[os.write(conn.fileno(), view) :]
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone
    except MemoryError:
        os._exit(_EXIT_OUT_OF_MEMORY)
