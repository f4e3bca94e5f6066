"""Shared by the serving tests: a free loopback port, a one-domain app config (Router + ProxyModel-cpn), and a
`raytool serve` process run until the test is done."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_domain_config(port: int, proposer: str, decider: str, **proxy: Any) -> dict[str, Any]:
    """A serve config on 127.0.0.1:`port`: the router and ProxyModel-cpn at 0.2 CPU each; `proxy`: more
    ProxyModel-cpn options (replicas, autoscaling, user_config)."""
    return {
        "proxy_location": "HeadOnly",
        "http_options": {"host": "127.0.0.1", "port": port},
        "applications": [{
            "name": "raytool", "route_prefix": "/", "import_path": "raytool.serving.app:build_app",
            "args": {"proposer": proposer, "decider": decider, "domains": ["cpn"], "domain_router": "bm25"},
            "deployments": [{"name": "Router", "ray_actor_options": {"num_cpus": 0.2}},
                            {"name": "ProxyModel-cpn", "ray_actor_options": {"num_cpus": 0.2}, **proxy}],
        }],
    }  # fmt: skip


@contextlib.contextmanager
def serve_process(config: Path, ready_s: float = 480) -> Iterator[tuple[subprocess.Popen, list[str], list[str]]]:
    """`raytool serve --config CONFIG` in its own process (its own local Ray), waited for until it prints its
    `[serve] raytool:` line, exits, or `ready_s` passes; yields (process, its stdout lines so far, its stderr lines
    so far) and stops it with Ctrl+C (SIGINT) afterwards. The caller checks `process.returncode` after the block.
    Both pipes are read as the process writes them (an unread pipe fills at 64 KiB and blocks the process's next
    write). Starting takes about 2 minutes on 2 busy cores (a Ray cluster, Serve, worker processes importing torch,
    the replicas loading their models); one CI run went past 240 s without a line, hence the wide `ready_s`."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    process = subprocess.Popen([sys.executable, "-m", "raytool", "serve", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    lines: list[str] = []
    errors: list[str] = []
    readers = [threading.Thread(target=lambda pipe=pipe, into=into: into.extend(iter(pipe.readline, "")), daemon=True)
               for pipe, into in ((process.stdout, lines), (process.stderr, errors))]  # fmt: skip
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + ready_s
        while (time.monotonic() < deadline and process.poll() is None
               and not any(line.startswith("[serve] raytool:") for line in lines)):  # fmt: skip
            time.sleep(0.5)
        yield process, lines, errors
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
        for reader in readers:
            reader.join(timeout=10)
