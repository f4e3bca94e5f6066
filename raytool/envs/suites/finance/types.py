"""Kinds and result types of the finance tools.

A kinded field (`Ticker`, `AccountId`, ...) can feed a later tool's parameter of the same kind (the binder takes
the first field of the kind in the latest output). Amounts are rounded to cents, rates and ratios to 2-6 decimals.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Kind

# Kinds a task may mention (the world lists their values).
Ticker = Annotated[str, Kind("ticker")]
Company = Annotated[str, Kind("company")]
IndexName = Annotated[str, Kind("index_name")]
Currency = Annotated[str, Kind("currency")]
TradeDate = Annotated[str, Kind("date")]
CustomerId = Annotated[str, Kind("customer_id")]
AccountId = Annotated[str, Kind("account_id")]
PayeeId = Annotated[str, Kind("payee_id")]
# Kinds only tools produce.
OrderId = Annotated[str, Kind("order_id")]
TransferId = Annotated[str, Kind("transfer_id")]
LoanQuoteId = Annotated[str, Kind("loan_quote_id")]
LoanId = Annotated[str, Kind("loan_id")]

CurrencyCode = Literal["CHF", "EUR", "GBP", "JPY", "USD"]
TransactionType = Literal["deposit", "withdrawal", "dividend", "fee", "trade", "transfer", "loan"]


class ListedStock(TypedDict):
    ticker: Ticker
    company: Company
    sector: str
    exchange: str
    currency: str


class StockList(TypedDict):
    sector: str
    count: int
    stocks: list[ListedStock]


class TickerLookup(TypedDict):
    company: str
    ticker: Ticker
    exchange: str
    currency: Currency


class StockQuote(TypedDict):
    ticker: Ticker
    company: str
    date: TradeDate
    price: float
    previous_close: float
    change_pct: float
    volume: int
    currency: Currency


class LastTrade(TypedDict):
    ticker: Ticker
    date: TradeDate
    price: float
    currency: Currency


class ClosingPrice(TypedDict):
    ticker: Ticker
    date: TradeDate
    close: float
    volume: int
    currency: Currency


class PricePoint(TypedDict):
    date: TradeDate
    close: float
    volume: int


class PriceHistory(TypedDict):
    ticker: Ticker
    currency: str
    prices: list[PricePoint]


class IndexLevel(TypedDict):
    index_name: IndexName
    date: TradeDate
    level: float
    change_pct: float
    constituents: list[Ticker]


class FxRate(TypedDict):
    base_currency: str
    quote_currency: Currency
    date: TradeDate
    rate: float


class Fundamentals(TypedDict):
    ticker: Ticker
    company: str
    sector: str
    exchange: str
    shares_outstanding_m: float
    market_cap_m: float
    eps: float
    pe_ratio: float
    dividend_yield_pct: float
    revenue_m: float
    employees: int


class Volatility(TypedDict):
    ticker: Ticker
    end_date: TradeDate
    window_days: int
    daily_volatility_pct: float
    annualized_volatility_pct: float


class MovingAverage(TypedDict):
    ticker: Ticker
    end_date: TradeDate
    window_days: int
    moving_average: float
    last_close: float
    above_average: bool


class PeriodReturn(TypedDict):
    ticker: Ticker
    start_date: TradeDate
    end_date: str
    start_close: float
    end_close: float
    return_pct: float


class Drawdown(TypedDict):
    ticker: Ticker
    lookback_days: int
    max_drawdown_pct: float
    peak_date: TradeDate
    trough_date: str


class Beta(TypedDict):
    ticker: Ticker
    index_name: IndexName
    window_days: int
    beta: float
    correlation: float


class PositionRisk(TypedDict):
    ticker: Ticker
    weight_pct: float
    annualized_volatility_pct: float


class PortfolioRisk(TypedDict):
    account_id: AccountId
    currency: str
    total_value: float
    weighted_volatility_pct: float
    largest_weight_pct: float
    positions: list[PositionRisk]


class AccountBrief(TypedDict):
    account_id: AccountId
    account_type: str
    currency: Currency
    cash_balance: float


class CustomerAccounts(TypedDict):
    customer_id: CustomerId
    name: str
    accounts: list[AccountBrief]


class AccountSummary(TypedDict):
    account_id: AccountId
    customer_id: CustomerId
    account_type: str
    currency: Currency
    cash_balance: float
    available_cash: float
    daily_transfer_limit: float
    transferred_today: float
    order_notional_limit: float
    open_orders: int


class CashBalance(TypedDict):
    account_id: AccountId
    currency: Currency
    cash_balance: float


class Holding(TypedDict):
    ticker: Ticker
    quantity: int
    average_cost: float
    last_price: float
    market_value: float
    unrealized_pnl: float
    currency: str


class Positions(TypedDict):
    account_id: AccountId
    currency: str
    total_market_value: float
    positions: list[Holding]


class StatementLine(TypedDict):
    date: TradeDate
    transaction_type: str
    amount: float
    balance_after: float
    description: str


class Statement(TypedDict):
    account_id: AccountId
    currency: str
    closing_balance: float
    transactions: list[StatementLine]


class Transfer(TypedDict):
    transfer_id: TransferId
    account_id: AccountId
    payee_id: PayeeId
    amount: float
    currency: str
    credited_amount: float
    credited_currency: str
    rate: float
    date: TradeDate
    memo: str
    status: str


class LoanQuote(TypedDict):
    quote_id: LoanQuoteId
    customer_id: CustomerId
    account_id: AccountId
    amount: float
    currency: Currency
    term_months: int
    annual_rate_pct: float
    monthly_payment: float
    total_interest: float


class Loan(TypedDict):
    loan_id: LoanId
    quote_id: str
    customer_id: CustomerId
    account_id: AccountId
    amount: float
    currency: str
    monthly_payment: float
    cash_balance: float


class OrderFields(TypedDict):
    order_id: OrderId
    account_id: AccountId
    ticker: Ticker
    side: str
    quantity: int
    order_type: str
    status: str
    placed_on: TradeDate
    filled_quantity: int
    fill_price: float
    commission: float


class Order(OrderFields, total=False):
    limit_price: float  # present for limit orders only


class OrderCancellation(TypedDict):
    order_id: OrderId
    status: str
    released_cash: float
    currency: str


class Fill(TypedDict):
    order_id: OrderId
    account_id: AccountId
    ticker: Ticker
    side: str
    quantity: int
    fill_price: float
    gross_amount: float
    commission: float
    currency: str
    cash_balance: float
    position_quantity: int


class OpenOrder(TypedDict):
    order_id: OrderId
    ticker: Ticker
    side: str
    quantity: int
    order_type: str


class OpenOrders(TypedDict):
    account_id: AccountId
    count: int
    orders: list[OpenOrder]
