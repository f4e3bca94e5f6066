"""Shared by the serving tests: a free loopback port, and a one-domain app config (Router + ProxyModel-cpn)."""

from __future__ import annotations

import socket
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
            "args": {"proposer": proposer, "decider": decider, "domains": ["cpn"], "router": "bm25"},
            "deployments": [{"name": "Router", "ray_actor_options": {"num_cpus": 0.2}},
                            {"name": "ProxyModel-cpn", "ray_actor_options": {"num_cpus": 0.2}, **proxy}],
        }],
    }  # fmt: skip
