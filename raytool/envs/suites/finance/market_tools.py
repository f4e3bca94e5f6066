"""Finance tools of the market-data stage: listings, quotes, closing prices, histories, indices, FX, fundamentals."""

from __future__ import annotations

from typing import Annotated, Literal

from raytool.envs.suite import NotFound, Range
from raytool.envs.suites.finance.suite import SUITE
from raytool.envs.suites.finance.types import (
    ClosingPrice,
    Company,
    Currency,
    CurrencyCode,
    Fundamentals,
    FxRate,
    IndexLevel,
    IndexName,
    LastTrade,
    PriceHistory,
    StockList,
    StockQuote,
    Ticker,
    TickerLookup,
    TradeDate,
)
from raytool.envs.suites.finance.world import World


def percent_change(new: float, old: float) -> float:
    return round(100 * (new - old) / old, 4)


@SUITE.tool(stage="market_data", question="list the listed stocks")
def list_listed_stocks(
    world: World,
    sector: Literal["all", "consumer", "energy", "financials", "healthcare", "industrials", "technology"] = "all",
    exchange: Literal["all", "NYX", "LNX", "EUX"] = "all",
    dividend_payers_only: bool = False,
) -> StockList:
    """List the stocks listed on the exchanges, with company, sector, exchange and trading currency.

    Args:
        sector: only stocks of this sector; "all" lists every sector.
        exchange: only stocks listed on this exchange (NYX trades in USD, LNX in GBP, EUX in EUR).
        dividend_payers_only: only stocks that pay a dividend.
    """
    stocks = [
        {"ticker": s.ticker, "company": s.company, "sector": s.sector, "exchange": s.exchange, "currency": s.currency}
        for s in sorted(world.stocks.values(), key=lambda s: s.ticker)
        if sector in ("all", s.sector)
        and exchange in ("all", s.exchange)
        and (s.dividend_per_share > 0 or not dividend_payers_only)
    ]
    return {"sector": sector, "count": len(stocks), "stocks": stocks}


@SUITE.tool(stage="market_data", question="what is the ticker symbol of {company}")
def lookup_ticker_symbol(world: World, company: Company) -> TickerLookup:
    """Find the ticker symbol, exchange and trading currency of a listed company by its name.

    Args:
        company: company name as listed, e.g. "Acme Robotics" (case-insensitive).
    """
    for stock in world.stocks.values():
        if stock.company.lower() == company.strip().lower():
            return {
                "company": stock.company,
                "ticker": stock.ticker,
                "exchange": stock.exchange,
                "currency": stock.currency,
            }
    raise NotFound(f"no listed company {company!r}")


@SUITE.tool(stage="market_data", question="get the latest stock quote for {ticker}")
def get_stock_quote(world: World, ticker: Ticker) -> StockQuote:
    """Get the latest quote of a stock: last price, previous close, daily change and volume.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
    """
    stock = world.stock(ticker)
    price, previous = stock.closes[-1], stock.closes[-2]
    return {
        "ticker": ticker,
        "company": stock.company,
        "date": world.today,
        "price": price,
        "previous_close": previous,
        "change_pct": percent_change(price, previous),
        "volume": stock.volumes[-1],
        "currency": stock.currency,
    }


@SUITE.tool(stage="market_data", question="what did {symbol} last trade at")
def fetch_last_trade_price(world: World, symbol: Ticker) -> LastTrade:
    """Last traded price of an equity symbol, with the session date and the quote currency.

    Args:
        symbol: the equity's symbol (e.g. "KRNL").
    """
    quote = get_stock_quote(world, symbol)
    return {"ticker": quote["ticker"], "date": quote["date"], "price": quote["price"], "currency": quote["currency"]}


@SUITE.tool(stage="market_data", question="what was the closing price of {ticker} on {date}")
def get_closing_price(world: World, ticker: Ticker, date: TradeDate) -> ClosingPrice:
    """Get a stock's closing price and traded volume on one trading day.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
        date: trading day, YYYY-MM-DD (weekdays only).
    """
    stock = world.stock(ticker)
    day = world.day_index(date)
    return {
        "ticker": ticker,
        "date": date,
        "close": stock.closes[day],
        "volume": stock.volumes[day],
        "currency": stock.currency,
    }


@SUITE.tool(stage="market_data", question="show the last {days} daily closes of {ticker} up to {end_date}")
def get_price_history(
    world: World, ticker: Ticker, end_date: TradeDate, days: Annotated[int, Range(2, 60)]
) -> PriceHistory:
    """Get a stock's daily closing prices and volumes over the trading days up to a date, oldest first.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
        end_date: last trading day of the series, YYYY-MM-DD.
        days: number of trading days in the series.
    """
    stock = world.stock(ticker)
    end = world.day_index(end_date)
    start = max(0, end - days + 1)
    prices = [
        {"date": world.dates[i], "close": stock.closes[i], "volume": stock.volumes[i]} for i in range(start, end + 1)
    ]
    return {"ticker": ticker, "currency": stock.currency, "prices": prices}


@SUITE.tool(stage="market_data", question="what is the level of the {index_name} index")
def get_index_level(world: World, index_name: IndexName, date: TradeDate | None = None) -> IndexLevel:
    """Get the level of a stock index on a trading day (default today), its daily change and its constituents.

    Args:
        index_name: index name, e.g. "RTX Composite".
        date: trading day, YYYY-MM-DD; today when left out.
    """
    levels = world.index_levels(index_name)
    day = world.day_index(date) if date else len(world.dates) - 1
    change = percent_change(levels[day], levels[day - 1]) if day > 0 else 0.0
    return {
        "index_name": index_name,
        "date": world.dates[day],
        "level": levels[day],
        "change_pct": change,
        "constituents": world.index_members(index_name),
    }


@SUITE.tool(stage="market_data", question="what is the {base_currency} to {quote_currency} exchange rate")
def get_fx_rate(
    world: World, base_currency: Currency, quote_currency: CurrencyCode, date: TradeDate | None = None
) -> FxRate:
    """Get the exchange rate between two currencies on a trading day (units of quote per unit of base).

    Args:
        base_currency: ISO code of the currency being priced, e.g. "EUR".
        quote_currency: ISO code of the currency the price is expressed in.
        date: trading day, YYYY-MM-DD; today when left out.
    """
    day = world.day_index(date) if date else len(world.dates) - 1
    return {
        "base_currency": base_currency,
        "quote_currency": quote_currency,
        "date": world.dates[day],
        "rate": world.rate(base_currency, quote_currency, day),
    }


@SUITE.tool(stage="market_data", question="show the company fundamentals of {ticker}")
def get_company_fundamentals(world: World, ticker: Ticker) -> Fundamentals:
    """Get a listed company's fundamentals: size, earnings per share, P/E, dividend yield, revenue and staff.

    Market capitalisation and ratios use today's closing price; money is in millions of the trading currency.

    Args:
        ticker: exchange ticker symbol, e.g. "ACME".
    """
    stock = world.stock(ticker)
    price = stock.closes[-1]
    return {
        "ticker": ticker,
        "company": stock.company,
        "sector": stock.sector,
        "exchange": stock.exchange,
        "shares_outstanding_m": stock.shares_outstanding_m,
        "market_cap_m": round(stock.shares_outstanding_m * price, 1),
        "eps": stock.eps,
        "pe_ratio": round(price / stock.eps, 2),
        "dividend_yield_pct": round(100 * stock.dividend_per_share / price, 2),
        "revenue_m": stock.revenue_m,
        "employees": stock.employees,
    }
