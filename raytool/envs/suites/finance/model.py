"""The entities of the finance world: listed stocks with their price history, customers, accounts, payees, and
the records tools create (orders, transfers, loan quotes).

Everything is a plain mutable dataclass so a whole world deep-copies; tools change records in place.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass


@dataclass
class Stock:
    ticker: str
    company: str
    sector: str
    exchange: str
    currency: str
    shares_outstanding_m: float
    employees: int
    eps: float
    dividend_per_share: float
    revenue_m: float
    closes: array  # of float ("d"): one close per trading day of `World.dates` (arrays deep-copy fast)
    volumes: array  # of int ("q")


@dataclass
class Customer:
    customer_id: str
    name: str
    annual_income_usd: float
    credit_score: int
    debt_usd: float


@dataclass
class Position:
    quantity: int
    average_cost: float  # per share, in the stock's currency


@dataclass
class Transaction:
    date: str
    transaction_type: str  # deposit | withdrawal | dividend | fee | trade | transfer | loan
    amount: float  # signed, in the account's currency
    balance_after: float
    description: str


@dataclass
class Account:
    account_id: str
    customer_id: str
    account_type: str
    currency: str
    cash: float
    daily_transfer_limit: float
    order_notional_limit: float
    positions: dict[str, Position]
    transactions: list[Transaction]
    transferred_today: float = 0.0

    def record(self, day: str, kind: str, amount: float, description: str) -> None:
        """Apply a signed cash movement and log it."""
        self.cash = round(self.cash + amount, 2)
        self.transactions.append(Transaction(day, kind, round(amount, 2), self.cash, description))


@dataclass
class Payee:
    payee_id: str
    name: str
    currency: str


@dataclass
class OrderRecord:
    order_id: str
    account_id: str
    ticker: str
    side: str  # buy | sell
    quantity: int
    limit_price: float | None
    placed_on: str
    reserved_cash: float  # account currency held back for an open buy
    status: str = "open"  # open | filled | cancelled
    fill_price: float = 0.0
    commission: float = 0.0

    @property
    def order_type(self) -> str:
        return "market" if self.limit_price is None else "limit"


@dataclass
class TransferRecord:
    transfer_id: str
    account_id: str
    payee_id: str
    amount: float
    currency: str
    credited_amount: float
    credited_currency: str
    rate: float
    date: str
    memo: str
    status: str = "completed"


@dataclass
class LoanQuoteRecord:
    quote_id: str
    customer_id: str
    account_id: str  # where the loan is paid out
    amount: float
    currency: str
    term_months: int
    annual_rate_pct: float
    monthly_payment: float
    total_interest: float
    loan_id: str = ""
