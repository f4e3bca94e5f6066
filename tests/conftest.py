"""Shared fixtures: the real benchmark data folder and one-thread torch for every test process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared benchmark folder; CI always has it, so its absence fails loudly instead of skipping."""
    from raytool.paths import shared_data_dir

    try:
        return shared_data_dir()
    except FileNotFoundError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray cluster of its own for the `ray`-marked tests (never attaches to a running one)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
