"""Misbehaving tools for the sandbox tests (`tests.envs.sandbox_suite:SUITE`, plus `OTHER` for routing)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any, Literal

from raytool.envs.suite import NotFound, ToolSuite


@dataclass
class CounterWorld:
    seed: int
    count: int = 0


SUITE = ToolSuite("sandbox_test", domain="test", make_world=CounterWorld)
OTHER = ToolSuite("sandbox_other", domain="test", make_world=CounterWorld)


@SUITE.tool(stage="basic", question="echo {x}")
def echo(world: CounterWorld, x: int) -> int:
    """Return x unchanged.

    Args:
        x: any integer.
    """
    return x


@SUITE.tool(stage="basic", question="count one more")
def counter(world: CounterWorld) -> int:
    """Increase the world's counter and return its new value."""
    world.count += 1
    return world.count


@SUITE.tool(stage="failing", question="blow up")
def boom(world: CounterWorld) -> int:
    """Raise a RuntimeError."""
    raise RuntimeError("boom")


@SUITE.tool(stage="failing", question="look for something missing")
def fail_not_found(world: CounterWorld) -> int:
    """Raise NotFound."""
    raise NotFound("no such thing")


@SUITE.tool(stage="failing", question="busy-wait {seconds} seconds")
def spin(world: CounterWorld, seconds: float) -> float:
    """Busy-wait for a number of seconds (a huge number is an infinite loop).

    Args:
        seconds: how long to spin.
    """
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        pass
    return seconds


@SUITE.tool(stage="failing", question="produce {mb} MB of text")
def big_output(world: CounterWorld, mb: int) -> str:
    """Return a string of `mb` megabytes.

    Args:
        mb: size in megabytes.
    """
    return "x" * (mb * 1024 * 1024)


@SUITE.tool(stage="failing", question="allocate all memory")
def hog_memory(world: CounterWorld) -> int:
    """Allocate ever larger blocks (16 MB, 32 MB, ...) until memory runs out."""
    blocks, size = [], 16 * 1024 * 1024
    while True:
        blocks.append(bytearray(size))
        size *= 2


@SUITE.tool(stage="failing", question="write the file {path}")
def write_file(world: CounterWorld, path: str) -> str:
    """Write a small file.

    Args:
        path: where to write.
    """
    with open(path, "w") as handle:
        handle.write("escaped")
    return path


@SUITE.tool(stage="failing", question="open a {mode} socket")
def open_socket(world: CounterWorld, mode: Literal["connect", "bind"] = "connect") -> str:
    """Connect to the local discard port, or bind a listening server socket.

    Args:
        mode: "connect" or "bind".
    """
    if mode == "connect":
        socket.create_connection(("127.0.0.1", 9), timeout=0.2).close()
    else:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.close()
    return mode


@SUITE.tool(stage="failing", question="return a {kind} value that is not JSON")
def bad_output(world: CounterWorld, kind: Literal["set", "object", "nan"] = "set") -> Any:
    """Return a value that is not JSON-serializable.

    Args:
        kind: which bad value.
    """
    return {"set": {1, 2}, "object": object(), "nan": float("nan")}[kind]


@OTHER.tool(stage="basic", question="what is the world seed")
def world_seed(world: CounterWorld) -> int:
    """The seed this suite's world was built from."""
    return world.seed
