"""Finance tools of the analysis stage: volatility, moving averages, returns, drawdowns, beta, portfolio risk."""

from __future__ import annotations

import math
import statistics
from typing import Annotated

from raytool.envs.suite import Range
from raytool.envs.suites.finance.suite import SUITE
from raytool.envs.suites.finance.types import (
    AccountId,
    Beta,
    Drawdown,
    IndexName,
    MovingAverage,
    PeriodReturn,
    PortfolioRisk,
    Ticker,
    TradeDate,
    Volatility,
)
from raytool.envs.suites.finance.world import World

TRADING_DAYS_PER_YEAR = 252


def daily_returns(closes: list[float]) -> list[float]:
    return [math.log(b / a) for a, b in zip(closes, closes[1:], strict=False)]


def end_index(world: World, end_date: str | None) -> int:
    return world.day_index(end_date) if end_date else len(world.dates) - 1


@SUITE.tool(stage="analysis", question="how volatile has {ticker} been over the last {window_days} trading days")
def compute_volatility(
    world: World,
    ticker: Ticker,
    window_days: Annotated[int, Range(5, 60)],
    end_date: TradeDate | None = None,
) -> Volatility:
    """Compute a stock's historical volatility: the standard deviation of daily log returns, daily and annualized.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
        window_days: number of daily returns in the window.
        end_date: last trading day of the window, YYYY-MM-DD; today when left out.
    """
    end = end_index(world, end_date)
    daily = statistics.stdev(daily_returns(world.window(ticker, end, window_days)))
    return {
        "ticker": ticker,
        "end_date": world.dates[end],
        "window_days": window_days,
        "daily_volatility_pct": round(100 * daily, 4),
        "annualized_volatility_pct": round(100 * daily * math.sqrt(TRADING_DAYS_PER_YEAR), 2),
    }


@SUITE.tool(stage="analysis", question="what is the {window_days}-day moving average of {ticker}")
def compute_moving_average(
    world: World,
    ticker: Ticker,
    window_days: Annotated[int, Range(5, 60)],
    end_date: TradeDate | None = None,
) -> MovingAverage:
    """Compute a stock's simple moving average of closing prices and whether the last close is above it.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
        window_days: number of closing prices averaged.
        end_date: last trading day averaged, YYYY-MM-DD; today when left out.
    """
    end = end_index(world, end_date)
    closes = world.window(ticker, end, window_days - 1)
    average = round(sum(closes) / len(closes), 4)
    return {
        "ticker": ticker,
        "end_date": world.dates[end],
        "window_days": window_days,
        "moving_average": average,
        "last_close": closes[-1],
        "above_average": closes[-1] > average,
    }


@SUITE.tool(
    stage="analysis", question="what return did {ticker} make over the {lookback_days} trading days to {end_date}"
)
def compute_period_return(
    world: World, ticker: Ticker, end_date: TradeDate, lookback_days: Annotated[int, Range(5, 60)]
) -> PeriodReturn:
    """Compute a stock's price return between two closes: `lookback_days` trading days before a date and the date.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
        end_date: trading day the period ends on, YYYY-MM-DD.
        lookback_days: length of the period in trading days.
    """
    end = world.day_index(end_date)
    closes = world.window(ticker, end, lookback_days)
    return {
        "ticker": ticker,
        "start_date": world.dates[end - lookback_days],
        "end_date": end_date,
        "start_close": closes[0],
        "end_close": closes[-1],
        "return_pct": round(100 * (closes[-1] / closes[0] - 1), 4),
    }


@SUITE.tool(
    stage="analysis", question="what was the worst drawdown of {ticker} in the last {lookback_days} trading days"
)
def compute_max_drawdown(world: World, ticker: Ticker, lookback_days: Annotated[int, Range(5, 60)]) -> Drawdown:
    """Compute a stock's maximum drawdown up to today: the largest fall from a running peak to a later close.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
        lookback_days: number of trading days (before today) the search covers.
    """
    end = len(world.dates) - 1
    closes = world.window(ticker, end, lookback_days)
    first = end - lookback_days
    peak = worst_peak = worst_trough = 0
    worst = 0.0
    for i, close in enumerate(closes):
        if close > closes[peak]:
            peak = i
        fall = close / closes[peak] - 1
        if fall < worst:
            worst, worst_peak, worst_trough = fall, peak, i
    return {
        "ticker": ticker,
        "lookback_days": lookback_days,
        "max_drawdown_pct": round(100 * worst, 4),
        "peak_date": world.dates[first + worst_peak],
        "trough_date": world.dates[first + worst_trough],
    }


@SUITE.tool(
    stage="analysis", question="what is the beta of {ticker} against the {index_name} index over {window_days} days"
)
def compute_beta(
    world: World, ticker: Ticker, index_name: IndexName, window_days: Annotated[int, Range(5, 60)]
) -> Beta:
    """Compute a stock's beta and correlation to an index from daily returns over a window ending today.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
        index_name: benchmark index, e.g. "RTX Composite".
        window_days: number of daily returns used.
    """
    end = len(world.dates) - 1
    stock = daily_returns(world.window(ticker, end, window_days))
    levels = world.index_levels(index_name)[end - window_days : end + 1]
    market = daily_returns(levels)
    covariance = statistics.covariance(stock, market)
    return {
        "ticker": ticker,
        "index_name": index_name,
        "window_days": window_days,
        "beta": round(covariance / statistics.variance(market), 4),
        "correlation": round(statistics.correlation(stock, market), 4),
    }


@SUITE.tool(stage="analysis", question="assess the risk of the portfolio in account {account_id}")
def assess_portfolio_risk(
    world: World, account_id: AccountId, window_days: Annotated[int, Range(5, 60)] = 20
) -> PortfolioRisk:
    """Assess an account's stock portfolio: position weights, each position's volatility and the weighted total.

    The weighted volatility ignores correlations (an upper bound); values are in the account's currency.

    Args:
        account_id: brokerage account id, e.g. "ac-1001".
        window_days: number of daily returns each volatility uses.
    """
    account = world.account(account_id)
    end = len(world.dates) - 1
    values, vols = {}, {}
    for ticker, position in sorted(account.positions.items()):
        stock = world.stock(ticker)
        values[ticker] = world.convert(position.quantity * stock.closes[-1], stock.currency, account.currency)
        returns = daily_returns(world.window(ticker, end, window_days))
        vols[ticker] = round(100 * statistics.stdev(returns) * math.sqrt(TRADING_DAYS_PER_YEAR), 2)
    total = round(sum(values.values()), 2)
    weights = {t: round(100 * v / total, 2) if total else 0.0 for t, v in values.items()}
    return {
        "account_id": account_id,
        "currency": account.currency,
        "total_value": total,
        "weighted_volatility_pct": round(sum(weights[t] * vols[t] for t in values) / 100, 2),
        "largest_weight_pct": max(weights.values(), default=0.0),
        "positions": [
            {"ticker": t, "weight_pct": weights[t], "annualized_volatility_pct": vols[t]} for t in sorted(values)
        ],
    }
