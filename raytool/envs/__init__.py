"""Verifiable local tool environments: executable suites, the build pipeline, sandboxed execution, the reward
and the decider's gymnasium environment. Heavy dependencies (gymnasium, Ray) are imported where used."""
