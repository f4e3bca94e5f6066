"""The finance suite: linked chains of real calls, every tool in a scripted session, consistent analytics and
accounting, failure modes, determinism and the planted overlaps."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from datetime import date
from typing import Any, get_args

import pytest

from raytool.envs.suite import Conflict, InvalidArgument, NotFound, QuotaExceeded
from raytool.envs.suites.finance import PLANTED_OVERLAPS, SUITE, World
from raytool.envs.suites.finance.types import CurrencyCode


@pytest.fixture
def world() -> World:
    return SUITE.make_world(7)


def call(world: World, name: str, **arguments: Any) -> Any:
    """Run a tool through the suite (arguments checked against its spec); outputs must be JSON-native."""
    output = SUITE.call(world, name, arguments)
    assert json.loads(json.dumps(output)) == output
    return output


def first_account(world: World, customer_id: str) -> str:
    return call(world, "list_customer_accounts", customer_id=customer_id)["accounts"][0]["account_id"]


def run_session(world: World) -> dict[str, Any]:
    """A session that uses every tool once, each later call fed by earlier outputs; the outputs by tool name."""
    out: dict[str, Any] = {}

    def run(name: str, **arguments: Any) -> Any:
        out[name] = call(world, name, **arguments)
        return out[name]

    listed = run("list_listed_stocks", sector="technology", dividend_payers_only=False)
    ticker = run("lookup_ticker_symbol", company=listed["stocks"][0]["company"])["ticker"]
    quote = run("get_stock_quote", ticker=ticker)
    run("fetch_last_trade_price", symbol=ticker)
    run("get_company_fundamentals", ticker=ticker)
    run("get_closing_price", ticker=ticker, date=world.values("date")[0])
    run("get_price_history", ticker=ticker, end_date=quote["date"], days=10)
    index = run("get_index_level", index_name="RTX Growth")
    run("compute_beta", ticker=index["constituents"][0], index_name=index["index_name"], window_days=30)
    run("compute_volatility", ticker=ticker, window_days=20)
    run("compute_moving_average", ticker=ticker, window_days=20, end_date=world.values("date")[5])
    run("compute_period_return", ticker=ticker, end_date=quote["date"], lookback_days=10)
    run("compute_max_drawdown", ticker=ticker, lookback_days=30)
    customers = run("list_customer_accounts", customer_id=world.values("customer_id")[0])
    account_id = customers["accounts"][0]["account_id"]
    summary = run("get_account_summary", account_id=account_id)
    run("check_cash_balance", acct=account_id)
    run("get_fx_rate", base_currency=quote["currency"], quote_currency="EUR", date=world.values("date")[-1])
    run("get_portfolio_positions", account_id=account_id)
    run("assess_portfolio_risk", account_id=account_id, window_days=20)
    order = run("place_stock_order", account_id=account_id, ticker=ticker, quantity=10)
    run("execute_open_order", order_id=order["order_id"])
    run("get_order_status", order_id=order["order_id"])
    limit = call(world, "place_stock_order", account_id=account_id, ticker=ticker, quantity=5, limit_price=1.0)
    run("list_open_orders", account_id=account_id)
    run("cancel_stock_order", order_id=limit["order_id"])
    transfer = run("transfer_funds", account_id=account_id, payee_id=world.values("payee_id")[0], amount=1200.5)
    run("get_transfer_status", transfer_id=transfer["transfer_id"])
    loan = run("request_loan_quote", customer_id=summary["customer_id"], principal=20_000.0, term_months=36)
    run("accept_loan_quote", quote_id=loan["quote_id"])
    run("get_account_statement", account_id=account_id, last_n=5, newest_first=True)
    return out


def test_stages_and_tool_counts() -> None:
    assert SUITE.name == "finance" and SUITE.domain == "finance"
    assert SUITE.stages == ("market_data", "analysis", "accounts", "trading")
    assert Counter(t.stage for t in SUITE.tools.values()) == {
        "market_data": 9,
        "analysis": 6,
        "accounts": 9,
        "trading": 5,
    }


def test_every_tool_runs_in_a_scripted_session(world: World) -> None:
    outputs = run_session(world)
    assert set(outputs) == set(SUITE.tools)
    statement = outputs["get_account_statement"]["transactions"]
    assert [line["transaction_type"] for line in statement[:3]] == ["loan", "transfer", "trade"]
    assert outputs["list_open_orders"]["count"] == 1


def test_trading_chain_settles_cash_and_positions(world: World) -> None:
    """company -> ticker -> quote; customer -> account; order -> fill -> status -> positions -> statement."""
    ticker = call(world, "lookup_ticker_symbol", company="galaxy semiconductors")["ticker"]
    quote = call(world, "get_stock_quote", ticker=ticker)
    account_id = first_account(world, "cu-102")
    before = call(world, "get_account_summary", account_id=account_id)
    held = {
        p["ticker"]: p["quantity"] for p in call(world, "get_portfolio_positions", account_id=account_id)["positions"]
    }
    order = call(world, "place_stock_order", account_id=account_id, ticker=ticker, quantity=12)
    assert (order["order_id"], order["status"], order["order_type"]) == ("ord-0001", "open", "market")
    pending = call(world, "get_account_summary", account_id=account_id)
    assert pending["cash_balance"] == before["cash_balance"] > pending["available_cash"] and pending["open_orders"] == 1
    fill = call(world, "execute_open_order", order_id=order["order_id"])
    rate = call(world, "get_fx_rate", base_currency=quote["currency"], quote_currency=before["currency"])["rate"]
    assert fill["fill_price"] == quote["price"] and fill["gross_amount"] == round(12 * quote["price"] * rate, 2)
    assert fill["cash_balance"] == round(before["cash_balance"] - fill["gross_amount"] - fill["commission"], 2)
    assert fill["position_quantity"] == held.get(ticker, 0) + 12
    status = call(world, "get_order_status", order_id=fill["order_id"])
    assert (status["status"], status["filled_quantity"], status["fill_price"]) == ("filled", 12, quote["price"])
    statement = call(world, "get_account_statement", account_id=fill["account_id"], last_n=1)
    assert statement["closing_balance"] == fill["cash_balance"] == statement["transactions"][-1]["balance_after"]
    sell = call(world, "place_stock_order", account_id=account_id, ticker=ticker, quantity=12, side="sell")
    assert call(world, "execute_open_order", order_id=sell["order_id"])["position_quantity"] == held.get(ticker, 0)


def test_transfer_and_loan_chains(world: World) -> None:
    account_id = first_account(world, "cu-103")
    summary = call(world, "get_account_summary", account_id=account_id)
    transfer = call(world, "transfer_funds", account_id=account_id, payee_id="py-03", amount=2500.0, memo="rent")
    assert transfer["credited_amount"] == round(2500.0 * transfer["rate"], 2) and transfer["credited_currency"] == "CHF"
    assert call(world, "get_transfer_status", transfer_id=transfer["transfer_id"]) == transfer
    after = call(world, "check_cash_balance", acct=transfer["account_id"])
    assert after["cash_balance"] == round(summary["cash_balance"] - 2500.0, 2)
    quote = call(world, "request_loan_quote", customer_id=summary["customer_id"], principal=12_000.0, term_months=24)
    assert quote["account_id"] == account_id and quote["monthly_payment"] * 24 > 12_000.0
    assert quote["total_interest"] == round(quote["monthly_payment"] * 24 - 12_000.0, 2)
    loan = call(world, "accept_loan_quote", quote_id=quote["quote_id"])
    assert loan["cash_balance"] == round(after["cash_balance"] + 12_000.0, 2)
    lines = call(world, "get_account_statement", account_id=loan["account_id"], transaction_types=["loan", "transfer"])
    assert [line["transaction_type"] for line in lines["transactions"]] == ["transfer", "loan"]


def test_analytics_agree_with_the_price_history(world: World) -> None:
    ticker, end = "KRNL", world.values("date")[10]
    history = [p["close"] for p in call(world, "get_price_history", ticker=ticker, end_date=end, days=21)["prices"]]
    average = call(world, "compute_moving_average", ticker=ticker, window_days=20, end_date=end)
    assert average["moving_average"] == round(sum(history[1:]) / 20, 4) and average["last_close"] == history[-1]
    returns = [math.log(b / a) for a, b in zip(history, history[1:], strict=False)]
    volatility = call(world, "compute_volatility", ticker=ticker, window_days=20, end_date=end)
    assert volatility["daily_volatility_pct"] == round(100 * statistics.stdev(returns), 4)
    period = call(world, "compute_period_return", ticker=ticker, end_date=end, lookback_days=20)
    start = call(world, "get_closing_price", ticker=ticker, date=period["start_date"])
    assert (period["start_close"], period["end_close"]) == (start["close"], history[-1])
    drawdown = call(world, "compute_max_drawdown", ticker=ticker, lookback_days=60)
    assert drawdown["max_drawdown_pct"] <= 0 and drawdown["peak_date"] <= drawdown["trough_date"]
    first_day = call(world, "get_index_level", index_name="RTX Composite", date=world.dates[0])
    assert first_day["level"] == 1000.0 and len(first_day["constituents"]) == 16
    beta = call(world, "compute_beta", ticker=ticker, index_name="RTX Growth", window_days=40)
    assert -1 <= beta["correlation"] <= 1
    there = call(world, "get_fx_rate", base_currency="GBP", quote_currency="JPY", date=end)["rate"]
    back = call(world, "get_fx_rate", base_currency="JPY", quote_currency="GBP", date=end)["rate"]
    assert abs(there * back - 1) < 1e-3


def test_price_histories_are_trading_days(world: World) -> None:
    days = [date.fromisoformat(d) for d in world.dates]
    assert len(days) == 160 and days == sorted(set(days)) and all(d.weekday() < 5 for d in days)
    assert world.values("date") == world.dates[-30:]
    for stock in world.stocks.values():
        assert len(stock.closes) == 160 and min(stock.closes) > 0
        assert all(round(c, 2) == c for c in stock.closes)


def test_failure_modes(world: World) -> None:
    account_id = first_account(world, "cu-101")
    with pytest.raises(NotFound):
        call(world, "get_stock_quote", ticker="ZZZZ")
    with pytest.raises(NotFound):
        call(world, "lookup_ticker_symbol", company="Nonexistent Holdings")
    saturday = next(
        d for d in (f"{world.dates[-1][:8]}{n:02d}" for n in range(1, 29)) if date.fromisoformat(d).weekday() == 5
    )
    with pytest.raises(NotFound):
        call(world, "get_closing_price", ticker="ACME", date=saturday)
    with pytest.raises(NotFound):
        call(world, "get_order_status", order_id="ord-9999")
    with pytest.raises(InvalidArgument):
        call(world, "compute_period_return", ticker="ACME", end_date=world.dates[3], lookback_days=10)
    with pytest.raises(InvalidArgument):
        call(world, "place_stock_order", account_id=account_id, ticker="ACME", quantity=5000)  # outside the range
    unheld = next(t for t in world.values("ticker") if t not in world.accounts[account_id].positions)
    with pytest.raises(QuotaExceeded):
        call(world, "place_stock_order", account_id=account_id, ticker=unheld, quantity=1, side="sell")
    world.accounts[account_id].order_notional_limit = 100.0
    with pytest.raises(QuotaExceeded):
        call(world, "place_stock_order", account_id=account_id, ticker="GLXY", quantity=50)
    world.accounts[account_id].daily_transfer_limit = 3000.0
    call(world, "transfer_funds", account_id=account_id, payee_id="py-01", amount=2000.0)
    with pytest.raises(QuotaExceeded):
        call(world, "transfer_funds", account_id=account_id, payee_id="py-01", amount=1500.0)
    world.customers["cu-101"].annual_income_usd = 10_000.0
    with pytest.raises(QuotaExceeded):
        call(world, "request_loan_quote", customer_id="cu-101", principal=150_000.0, term_months=60)
    order = call(world, "place_stock_order", account_id=account_id, ticker="NOVA", quantity=1, limit_price=1.0)
    with pytest.raises(Conflict):
        call(world, "execute_open_order", order_id=order["order_id"])  # close above the buy limit: stays open
    call(world, "cancel_stock_order", order_id=order["order_id"])
    with pytest.raises(Conflict):
        call(world, "cancel_stock_order", order_id=order["order_id"])
    with pytest.raises(Conflict):
        call(world, "execute_open_order", order_id=order["order_id"])
    quote = call(world, "request_loan_quote", customer_id="cu-102", principal=5_000.0, term_months=12)
    call(world, "accept_loan_quote", quote_id=quote["quote_id"])
    with pytest.raises(Conflict):
        call(world, "accept_loan_quote", quote_id=quote["quote_id"])


def test_same_seed_same_session_other_seed_other_world() -> None:
    assert World.generate(7) == World.generate(7)
    assert run_session(SUITE.make_world(7)) == run_session(SUITE.make_world(7))
    assert World.generate(7) != World.generate(8)
    assert run_session(SUITE.make_world(7)) != run_session(SUITE.make_world(8))


def test_values_lists_what_tasks_may_mention(world: World) -> None:
    assert len(world.values("ticker")) == 16 and len(world.values("company")) == 16
    assert world.values("index_name") == ["RTX Composite", "RTX Growth", "RTX Value"]
    assert world.values("currency") == ["CHF", "EUR", "GBP", "JPY", "USD"] == list(get_args(CurrencyCode))
    assert world.values("customer_id") == [f"cu-{n}" for n in range(101, 107)]
    assert world.values("account_id") == sorted(world.accounts) and len(world.values("payee_id")) == 6
    for kind in ("order_id", "transfer_id", "loan_quote_id", "loan_id"):
        assert world.values(kind) == []


def test_reading_leaves_the_world_unchanged(world: World) -> None:
    account_id = first_account(world, "cu-105")
    for name, arguments in [
        ("get_stock_quote", {"ticker": "ACME"}),
        ("get_index_level", {"index_name": "RTX Value"}),
        ("compute_beta", {"ticker": "ACME", "index_name": "RTX Value", "window_days": 20}),
        ("assess_portfolio_risk", {"account_id": account_id}),
        ("get_portfolio_positions", {"account_id": account_id}),
        ("get_account_statement", {"account_id": account_id, "last_n": 50}),
    ]:
        call(world, name, **arguments)
    assert world == SUITE.make_world(7)


def test_planted_overlaps_agree_on_common_fields(world: World) -> None:
    assert PLANTED_OVERLAPS == [
        ("get_stock_quote", "fetch_last_trade_price"),
        ("get_account_summary", "check_cash_balance"),
    ]
    account_id = first_account(world, "cu-104")
    call(world, "transfer_funds", account_id=account_id, payee_id="py-02", amount=700.0)  # state changes too
    for ticker in world.values("ticker"):
        full = call(world, "get_stock_quote", ticker=ticker)
        short = call(world, "fetch_last_trade_price", symbol=ticker)
        assert short.items() <= full.items() and len(short) < len(full)
    for account in world.values("account_id"):
        full = call(world, "get_account_summary", account_id=account)
        short = call(world, "check_cash_balance", acct=account)
        assert short.items() <= full.items() and len(short) < len(full)
    with pytest.raises(NotFound):
        call(world, "fetch_last_trade_price", symbol="ZZZZ")
    with pytest.raises(NotFound):
        call(world, "check_cash_balance", acct="ac-0000")
