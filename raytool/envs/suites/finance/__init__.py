"""The finance suite: stock market data, analytics, customer accounts, payments, loans and stock trading.

`SUITE` holds the tools (importing the tool modules registers them); `PLANTED_OVERLAPS` names the pairs of
tools written "by different authors" whose functionality overlaps: (kept tool, tool merged into it).
"""

from __future__ import annotations

from raytool.envs.suites.finance import account_tools, analysis_tools, market_tools, trading_tools
from raytool.envs.suites.finance.suite import STAGES, SUITE
from raytool.envs.suites.finance.world import World

PLANTED_OVERLAPS = [
    ("get_stock_quote", "fetch_last_trade_price"),
    ("get_account_summary", "check_cash_balance"),
]

__all__ = [
    "PLANTED_OVERLAPS",
    "STAGES",
    "SUITE",
    "World",
    "account_tools",
    "analysis_tools",
    "market_tools",
    "trading_tools",
]
