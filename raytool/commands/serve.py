"""`raytool serve`: deploy the proxies behind the router with Ray Serve."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from raytool.commands.common import ray_init


def register(sub) -> None:
    """Add the command(s) to the `raytool` parser's subcommands."""
    serve = sub.add_parser("serve", help="deploy the proxies behind the router with Ray Serve (a serve/*.yaml file)")
    serve.add_argument("--config", type=Path, required=True, help="Serve config (serve/*.yaml)")
    serve.add_argument(
        "--detach",
        action="store_true",
        help="return once deployed (it runs on in the RAY_ADDRESS cluster); default: until Ctrl+C",
    )
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    import time

    from raytool.serving.config import RAYTOOL_IMPORT, check_serve_config, deploy, load_serve_config

    config = load_serve_config(args.config)
    record = config.model_dump(exclude_unset=True)
    for app in record["applications"]:  # checkpoint paths as absolute paths: replicas run elsewhere
        if app.get("import_path") == RAYTOOL_IMPORT:
            for key in ("proposer", "decider", "filler"):
                if app["args"].get(key):
                    app["args"][key] = str(Path(app["args"][key]).expanduser().resolve())
            for own in (app["args"].get("proxies") or {}).values():
                own.update({k: str(Path(v).expanduser().resolve()) for k, v in own.items()})
            catalogues = app["args"].get("catalogues") or {}
            catalogues.update({k: str(Path(v).expanduser().resolve()) for k, v in catalogues.items()})
    config = check_serve_config(record, str(args.config))
    ray_init(log_to_driver=False)
    from ray import serve

    signal.signal(signal.SIGTERM, _terminated)  # after Ray's own handler: what Kubernetes and systemd send
    try:
        deploy(config)
        http = config.http_options
        for app in config.applications:
            print(f"[serve] {app.name}: http://{http.host}:{http.port}{app.route_prefix}", flush=True)
        if args.detach:
            return 0
        while True:
            time.sleep(1)
    except (KeyboardInterrupt, Terminated) as stop:  # Ctrl+C or SIGTERM, while deploying or serving
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM does not cut the drain short
        why = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl+C"
        print(f"[serve] {why}: draining (new requests are refused; requests in flight finish)", flush=True)
        began = time.monotonic()
        for app in config.applications:  # Serve drains each replica: no new requests, in-flight ones finish
            serve.delete(app.name)  # (within the deployment's graceful_shutdown_timeout_s, 20 s by default)
        print(f"[serve] drained in {time.monotonic() - began:.1f} s; shutting down", flush=True)
        serve.shutdown()
    return 0


class Terminated(Exception):
    """SIGTERM arrived: drain and exit 0, like Ctrl+C."""


def _terminated(signum, frame) -> None:
    raise Terminated
