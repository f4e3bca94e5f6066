"""The finance world: stocks with seeded random-walk price histories, indices, FX rates, customers, accounts.

`World.generate(seed)` builds everything from one `random.Random(seed)`. Dates are trading days
("YYYY-MM-DD", weekdays only); the last one is "today", when orders fill and transfers settle. Tools change the
world in place and number what they create from `World.counters`, so every result depends only on the seed
and the call history. All records are plain dataclasses (deep-copyable).
"""

from __future__ import annotations

import math
import random
from array import array
from dataclasses import dataclass, field
from datetime import date, timedelta

from raytool.envs.suite import InvalidArgument, NotFound, raise_not_found
from raytool.envs.suites.finance.catalogue import (
    ACCOUNT_CURRENCIES,
    ACCOUNT_TYPES,
    COMPANIES,
    EXCHANGE_CURRENCY,
    FIRST_NAMES,
    HISTORY_DAYS,
    INDICES,
    LAST_NAMES,
    MENTIONED_DAYS,
    PAYEES,
    USD_RATES,
)
from raytool.envs.suites.finance.model import (
    Account,
    Customer,
    LoanQuoteRecord,
    OrderRecord,
    Payee,
    Position,
    Stock,
    Transaction,
    TransferRecord,
)


def trading_days(first: date, count: int) -> list[str]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day.isoformat())
        day += timedelta(days=1)
    return days


@dataclass
class World:
    seed: int
    dates: list[str]  # trading days, oldest first; the last is today
    stocks: dict[str, Stock]
    usd_rates: dict[str, array]  # currency -> units per US dollar on each trading day (floats, "d")
    customers: dict[str, Customer]
    accounts: dict[str, Account]
    payees: dict[str, Payee]
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    transfers: dict[str, TransferRecord] = field(default_factory=dict)
    loan_quotes: dict[str, LoanQuoteRecord] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    @classmethod
    def generate(cls, seed: int) -> World:
        rng = random.Random(seed)
        dates = trading_days(date(2024, 1, 1) + timedelta(days=rng.randrange(0, 240)), HISTORY_DAYS)
        world = cls(seed=seed, dates=dates, stocks={}, usd_rates={}, customers={}, accounts={}, payees={})
        for currency, rate in USD_RATES.items():
            walk = [rate]
            for _ in dates[1:]:
                walk.append(walk[-1] * math.exp(rng.gauss(0, 0.004)) if currency != "USD" else 1.0)
            world.usd_rates[currency] = array("d", [round(r, 6) for r in walk])
        for ticker in COMPANIES:
            world.stocks[ticker] = world._random_stock(rng, ticker)
        for number, (name, currency) in enumerate(PAYEES, start=1):
            payee_id = f"py-{number:02d}"
            world.payees[payee_id] = Payee(payee_id, name, currency)
        world._add_customers(rng)
        return world

    def _random_stock(self, rng: random.Random, ticker: str) -> Stock:
        company, sector, exchange, price, shares, employees = COMPANIES[ticker]
        drift, volatility = rng.uniform(-0.001, 0.0015), rng.uniform(0.008, 0.03)
        closes = [round(price * rng.uniform(0.7, 1.3), 2)]
        for _ in self.dates[1:]:
            closes.append(round(max(1.0, closes[-1] * math.exp(drift + volatility * rng.gauss(0, 1))), 2))
        base_volume = int(2_000_000 * rng.uniform(0.3, 3.0))
        volumes = [int(base_volume * rng.lognormvariate(0, 0.35)) for _ in self.dates]
        eps = round(closes[-1] / rng.uniform(9, 45), 2)
        return Stock(
            ticker=ticker,
            company=company,
            sector=sector,
            exchange=exchange,
            currency=EXCHANGE_CURRENCY[exchange],
            shares_outstanding_m=float(shares),
            employees=employees,
            eps=eps,
            dividend_per_share=round(eps * rng.choice([0.0, 0.0, 0.2, 0.35, 0.5]), 2),
            revenue_m=round(shares * closes[-1] * rng.uniform(0.2, 1.5), 1),
            closes=array("d", closes),
            volumes=array("q", volumes),
        )

    def _add_customers(self, rng: random.Random) -> None:
        tickers = sorted(self.stocks)
        account_number = 1001
        for number in range(101, 107):
            customer_id = f"cu-{number}"
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            income = round(rng.uniform(60_000, 250_000), -2)
            debt = round(rng.uniform(0, 0.8) * income, -2)
            self.customers[customer_id] = Customer(customer_id, name, income, rng.randint(580, 830), debt)
            for _ in range(rng.randint(1, 2)):
                account_id = f"ac-{account_number}"
                account_number += 1
                currency = rng.choice(ACCOUNT_CURRENCIES)
                positions = {}
                for ticker in sorted(rng.sample(tickers, rng.randint(2, 4))):
                    cost = round(self.stocks[ticker].closes[0] * rng.uniform(0.8, 1.2), 2)
                    positions[ticker] = Position(rng.randint(10, 300), cost)
                account = Account(
                    account_id=account_id,
                    customer_id=customer_id,
                    account_type=rng.choice(ACCOUNT_TYPES),
                    currency=currency,
                    cash=0.0,
                    daily_transfer_limit=self.convert(round(rng.uniform(50_000, 150_000), -3), "USD", currency),
                    order_notional_limit=self.convert(round(rng.uniform(150_000, 300_000), -3), "USD", currency),
                    positions=positions,
                    transactions=[],
                )
                self._add_history(rng, account, self.convert(rng.uniform(150_000, 500_000), "USD", currency))
                self.accounts[account_id] = account

    def _add_history(self, rng: random.Random, account: Account, closing_cash: float) -> None:
        """Past cash movements over the mentioned days, ending at `closing_cash`."""
        recent = self.dates[-MENTIONED_DAYS:-1]
        moves = []
        for day in sorted(rng.sample(recent, rng.randint(4, 8))):
            kind = rng.choice(["deposit", "deposit", "withdrawal", "dividend", "fee"])
            size = {"deposit": 5_000, "withdrawal": -3_000, "dividend": 400, "fee": -25}[kind]
            moves.append((day, kind, round(size * rng.uniform(0.3, 2.0), 2)))
        account.cash = round(closing_cash - sum(amount for _, _, amount in moves), 2)
        account.transactions.append(Transaction(self.dates[0], "opening", 0.0, account.cash, "opening balance"))
        for day, kind, amount in moves:
            account.record(day, kind, amount, f"{kind} on {day}")

    def values(self, kind: str) -> list:
        """Sorted existing values of a kind a task may mention; [] for kinds only tools produce."""
        listed = {
            "ticker": self.stocks,
            "company": [stock.company for stock in self.stocks.values()],
            "index_name": INDICES,
            "currency": self.usd_rates,
            "date": self.dates[-MENTIONED_DAYS:],
            "customer_id": self.customers,
            "account_id": self.accounts,
            "payee_id": self.payees,
        }
        return sorted(listed.get(kind, []))

    @property
    def today(self) -> str:
        return self.dates[-1]

    def next_id(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]:04d}"

    def day_index(self, day: str) -> int:
        """Position of a trading day in the history; NotFound for weekends and days outside it."""
        try:
            return self.dates.index(day)
        except ValueError:
            raise NotFound(f"no trading day {day!r} (history runs {self.dates[0]}..{self.today}, weekdays)") from None

    def window(self, ticker: str, end: int, days: int) -> list[float]:
        """Closes of the `days` + 1 trading days ending at index `end` (so `days` daily returns)."""
        if end - days < 0:
            raise InvalidArgument(f"only {end} trading days of history before {self.dates[end]}, need {days}")
        return list(self.stock(ticker).closes[end - days : end + 1])

    def stock(self, ticker: str) -> Stock:
        return self.stocks.get(ticker) or raise_not_found("ticker", ticker)

    def account(self, account_id: str) -> Account:
        return self.accounts.get(account_id) or raise_not_found("account", account_id)

    def customer(self, customer_id: str) -> Customer:
        return self.customers.get(customer_id) or raise_not_found("customer", customer_id)

    def rate(self, from_currency: str, to_currency: str, day: int = -1) -> float:
        for code in (from_currency, to_currency):
            if code not in self.usd_rates:
                raise_not_found("currency", code)
        return round(self.usd_rates[to_currency][day] / self.usd_rates[from_currency][day], 6)

    def convert(self, amount: float, from_currency: str, to_currency: str) -> float:
        return round(amount * self.rate(from_currency, to_currency), 2)

    def index_levels(self, index_name: str) -> list[float]:
        """Equal-weighted index of its constituents' price relatives, 1000 on the first day."""
        members = self.index_members(index_name)
        relatives = [[c / s.closes[0] for c in s.closes] for s in (self.stocks[t] for t in members)]
        return [round(1000 * sum(day) / len(members), 2) for day in zip(*relatives, strict=True)]

    def index_members(self, index_name: str) -> list[str]:
        sectors = INDICES.get(index_name) or raise_not_found("index", index_name)
        return sorted(t for t, s in self.stocks.items() if s.sector in sectors)

    def available_cash(self, account: Account) -> float:
        open_orders = [o for o in self.orders.values() if o.account_id == account.account_id and o.status == "open"]
        return round(account.cash - sum(o.reserved_cash for o in open_orders), 2)
