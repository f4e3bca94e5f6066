"""Finance tools of the accounts stage: customers' accounts, balances, positions, transfers, statements, loans."""

from __future__ import annotations

from typing import Annotated, Literal

from raytool.envs.suite import Conflict, QuotaExceeded, Range, raise_not_found
from raytool.envs.suites.finance.catalogue import TERM_RATE_PREMIUM
from raytool.envs.suites.finance.model import LoanQuoteRecord, TransferRecord
from raytool.envs.suites.finance.suite import SUITE
from raytool.envs.suites.finance.types import (
    AccountId,
    AccountSummary,
    CashBalance,
    CustomerAccounts,
    CustomerId,
    Loan,
    LoanQuote,
    LoanQuoteId,
    PayeeId,
    Positions,
    Statement,
    TransactionType,
    Transfer,
    TransferId,
)
from raytool.envs.suites.finance.world import World

LOAN_TO_INCOME_LIMIT = 4.0


@SUITE.tool(stage="accounts", question="list the accounts of customer {customer_id}")
def list_customer_accounts(world: World, customer_id: CustomerId) -> CustomerAccounts:
    """List a customer's accounts with their type, currency and cash balance.

    Args:
        customer_id: customer id, e.g. "cu-101".
    """
    customer = world.customer(customer_id)
    accounts = [
        {"account_id": a.account_id, "account_type": a.account_type, "currency": a.currency, "cash_balance": a.cash}
        for a in sorted(world.accounts.values(), key=lambda a: a.account_id)
        if a.customer_id == customer_id
    ]
    return {"customer_id": customer_id, "name": customer.name, "accounts": accounts}


@SUITE.tool(stage="accounts", question="summarize account {account_id}")
def get_account_summary(world: World, account_id: AccountId) -> AccountSummary:
    """Get an account's summary: owner, type, currency, cash (total and not held by open orders) and limits.

    Args:
        account_id: account id, e.g. "ac-1001".
    """
    account = world.account(account_id)
    open_orders = [o for o in world.orders.values() if o.account_id == account_id and o.status == "open"]
    return {
        "account_id": account_id,
        "customer_id": account.customer_id,
        "account_type": account.account_type,
        "currency": account.currency,
        "cash_balance": account.cash,
        "available_cash": world.available_cash(account),
        "daily_transfer_limit": account.daily_transfer_limit,
        "transferred_today": account.transferred_today,
        "order_notional_limit": account.order_notional_limit,
        "open_orders": len(open_orders),
    }


@SUITE.tool(stage="accounts", question="how much cash is in {acct}")
def check_cash_balance(world: World, acct: AccountId) -> CashBalance:
    """Cash sitting in a brokerage account, in the account's own currency.

    Args:
        acct: the brokerage account (ac-NNNN).
    """
    account = world.account(acct)
    return {"account_id": acct, "currency": account.currency, "cash_balance": account.cash}


@SUITE.tool(stage="accounts", question="show the stock positions held in account {account_id}")
def get_portfolio_positions(world: World, account_id: AccountId) -> Positions:
    """List an account's stock positions valued at today's close, with unrealized profit or loss.

    Each position is in its stock's currency; the total is converted into the account's currency.

    Args:
        account_id: account id, e.g. "ac-1001".
    """
    account = world.account(account_id)
    holdings, total = [], 0.0
    for ticker, position in sorted(account.positions.items()):
        stock = world.stock(ticker)
        value = round(position.quantity * stock.closes[-1], 2)
        total += world.convert(value, stock.currency, account.currency)
        holdings.append(
            {
                "ticker": ticker,
                "quantity": position.quantity,
                "average_cost": position.average_cost,
                "last_price": stock.closes[-1],
                "market_value": value,
                "unrealized_pnl": round(value - position.quantity * position.average_cost, 2),
                "currency": stock.currency,
            }
        )
    return {
        "account_id": account_id,
        "currency": account.currency,
        "total_market_value": round(total, 2),
        "positions": holdings,
    }


@SUITE.tool(stage="accounts", question="pay {amount} from account {account_id} to payee {payee_id}")
def transfer_funds(
    world: World,
    account_id: AccountId,
    payee_id: PayeeId,
    amount: Annotated[float, Range(1, 20_000)],
    memo: str = "",
) -> Transfer:
    """Send money from an account to a registered payee, converted into the payee's currency at today's rate.

    Args:
        account_id: account to debit, e.g. "ac-1001".
        payee_id: registered payee, e.g. "py-02".
        amount: sum to send, in the account's currency.
        memo: free-text reference shown to the payee.
    """
    account = world.account(account_id)
    payee = world.payees.get(payee_id) or raise_not_found("payee", payee_id)
    if amount > world.available_cash(account):
        raise QuotaExceeded(f"{account_id} has only {world.available_cash(account)} {account.currency} available")
    if account.transferred_today + amount > account.daily_transfer_limit:
        left = round(account.daily_transfer_limit - account.transferred_today, 2)
        raise QuotaExceeded(f"{account_id} can transfer only {left} {account.currency} more today")
    rate = world.rate(account.currency, payee.currency)
    record = TransferRecord(
        transfer_id=world.next_id("tf"),
        account_id=account_id,
        payee_id=payee_id,
        amount=round(amount, 2),
        currency=account.currency,
        credited_amount=round(amount * rate, 2),
        credited_currency=payee.currency,
        rate=rate,
        date=world.today,
        memo=memo,
    )
    world.transfers[record.transfer_id] = record
    account.transferred_today = round(account.transferred_today + amount, 2)
    account.record(world.today, "transfer", -record.amount, f"transfer {record.transfer_id} to {payee.name}")
    return transfer_view(record)


def transfer_view(record: TransferRecord) -> Transfer:
    return {
        "transfer_id": record.transfer_id,
        "account_id": record.account_id,
        "payee_id": record.payee_id,
        "amount": record.amount,
        "currency": record.currency,
        "credited_amount": record.credited_amount,
        "credited_currency": record.credited_currency,
        "rate": record.rate,
        "date": record.date,
        "memo": record.memo,
        "status": record.status,
    }


@SUITE.tool(stage="accounts", question="what is the status of transfer {transfer_id}")
def get_transfer_status(world: World, transfer_id: TransferId) -> Transfer:
    """Get a payment transfer: accounts, amounts on both sides, rate, date and status.

    Args:
        transfer_id: transfer id, e.g. "tf-0001".
    """
    record = world.transfers.get(transfer_id) or raise_not_found("transfer", transfer_id)
    return transfer_view(record)


@SUITE.tool(stage="accounts", question="show the statement of account {account_id}")
def get_account_statement(
    world: World,
    account_id: AccountId,
    last_n: Annotated[int, Range(1, 50)] = 10,
    transaction_types: list[TransactionType] | None = None,
    newest_first: bool = False,
) -> Statement:
    """Get an account statement: its latest cash movements with the balance after each.

    Args:
        account_id: account id, e.g. "ac-1001".
        last_n: number of most recent movements to list.
        transaction_types: only movements of these types, e.g. ["dividend", "fee"].
        newest_first: list the most recent movement first instead of last.
    """
    account = world.account(account_id)
    moves = [t for t in account.transactions if t.transaction_type != "opening"]
    if transaction_types:
        moves = [t for t in moves if t.transaction_type in transaction_types]
    lines = [
        {
            "date": t.date,
            "transaction_type": t.transaction_type,
            "amount": t.amount,
            "balance_after": t.balance_after,
            "description": t.description,
        }
        for t in moves[-last_n:]
    ]
    if newest_first:
        lines.reverse()
    return {
        "account_id": account_id,
        "currency": account.currency,
        "closing_balance": account.cash,
        "transactions": lines,
    }


@SUITE.tool(stage="accounts", question="quote a {term_months}-month loan of {principal} for customer {customer_id}")
def request_loan_quote(
    world: World,
    customer_id: CustomerId,
    principal: Annotated[float, Range(1_000, 200_000)],
    term_months: Literal[12, 24, 36, 60],
) -> LoanQuote:
    """Quote a personal loan for a customer: interest rate by credit score and term, monthly payment, interest.

    The loan is in the currency of the customer's first account and is paid out there when accepted; total
    debt may not pass four times the customer's annual income.

    Args:
        customer_id: customer id, e.g. "cu-101".
        principal: sum to borrow, in the currency of the customer's first account.
        term_months: repayment period in months.
    """
    customer = world.customer(customer_id)
    account = min((a for a in world.accounts.values() if a.customer_id == customer_id), key=lambda a: a.account_id)
    amount_usd = world.convert(principal, account.currency, "USD")
    headroom = LOAN_TO_INCOME_LIMIT * customer.annual_income_usd - customer.debt_usd
    if amount_usd > headroom:
        raise QuotaExceeded(f"{customer_id} can borrow at most {max(0.0, round(headroom, 2))} USD more")
    rate = round(3.5 + (850 - customer.credit_score) / 40 + TERM_RATE_PREMIUM[term_months], 2)
    monthly_rate = rate / 100 / 12
    payment = round(principal * monthly_rate / (1 - (1 + monthly_rate) ** -term_months), 2)
    record = LoanQuoteRecord(
        quote_id=world.next_id("lq"),
        customer_id=customer_id,
        account_id=account.account_id,
        amount=round(principal, 2),
        currency=account.currency,
        term_months=term_months,
        annual_rate_pct=rate,
        monthly_payment=payment,
        total_interest=round(payment * term_months - principal, 2),
    )
    world.loan_quotes[record.quote_id] = record
    return {
        "quote_id": record.quote_id,
        "customer_id": customer_id,
        "account_id": record.account_id,
        "amount": record.amount,
        "currency": record.currency,
        "term_months": term_months,
        "annual_rate_pct": rate,
        "monthly_payment": payment,
        "total_interest": record.total_interest,
    }


@SUITE.tool(stage="accounts", question="accept loan quote {quote_id}")
def accept_loan_quote(world: World, quote_id: LoanQuoteId) -> Loan:
    """Accept a loan quote: the loan is opened and its amount paid into the customer's account.

    Args:
        quote_id: loan quote id, e.g. "lq-0001".
    """
    quote = world.loan_quotes.get(quote_id) or raise_not_found("loan quote", quote_id)
    if quote.loan_id:
        raise Conflict(f"loan quote {quote_id} was already accepted as {quote.loan_id}")
    customer = world.customer(quote.customer_id)
    amount_usd = world.convert(quote.amount, quote.currency, "USD")
    if customer.debt_usd + amount_usd > LOAN_TO_INCOME_LIMIT * customer.annual_income_usd:
        raise QuotaExceeded(f"{customer.customer_id} has borrowed since the quote; the loan would pass the limit")
    quote.loan_id = world.next_id("ln")
    customer.debt_usd = round(customer.debt_usd + amount_usd, 2)
    account = world.account(quote.account_id)
    account.record(world.today, "loan", quote.amount, f"loan {quote.loan_id} paid out")
    return {
        "loan_id": quote.loan_id,
        "quote_id": quote_id,
        "customer_id": quote.customer_id,
        "account_id": quote.account_id,
        "amount": quote.amount,
        "currency": quote.currency,
        "monthly_payment": quote.monthly_payment,
        "cash_balance": account.cash,
    }
