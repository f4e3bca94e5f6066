"""The executable tool suites, by name. Each module defines `SUITE: ToolSuite` and its world class.

    from raytool.envs.suites import get_suite, SUITE_NAMES
    suite = get_suite("cpn"); world = suite.make_world(7)

A world is a plain, deep-copyable object built deterministically from a seed. It answers `values(kind)`: the
existing values of a kind that a task may mention (region names, tickers, ...), sorted, so task generation
can sample literal arguments. Kinds that only tools produce (ids of things tools create) are absent there.
"""

from __future__ import annotations

import importlib

from raytool.envs.suite import ToolSuite

# name -> "module:attribute"; modules are imported on first use.
SUITE_PATHS = {
    "cpn": "raytool.envs.suites.cpn:SUITE",
    "travel": "raytool.envs.suites.travel:SUITE",
    "finance": "raytool.envs.suites.finance:SUITE",
}
SUITE_NAMES = tuple(SUITE_PATHS)


def get_suite(name: str) -> ToolSuite:
    """The suite registered as `name`, or an import path `package.module:ATTR` of any other suite."""
    path = SUITE_PATHS.get(name, name)
    if ":" not in path:
        raise ValueError(f"unknown suite {name!r}; choose one of {', '.join(SUITE_NAMES)} or give module:ATTR")
    module, attr = path.split(":", 1)
    suite = getattr(importlib.import_module(module), attr)
    if not isinstance(suite, ToolSuite):
        raise TypeError(f"{path} is not a ToolSuite")
    return suite
