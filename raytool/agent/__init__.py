"""The proxy agent (planner -> per-domain proxies on Ray -> merged calls) and the single-LLM baselines."""
