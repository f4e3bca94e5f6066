"""A bare echo deployment: the baseline the router's overhead is measured against (benchmarks/serve.py)."""

from __future__ import annotations

from ray import serve
from starlette.requests import Request


@serve.deployment(ray_actor_options={"num_cpus": 0.25})
class Echo:
    async def __call__(self, request: Request) -> dict:
        return await request.json()


app = Echo.bind()
