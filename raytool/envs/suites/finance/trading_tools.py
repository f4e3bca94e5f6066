"""Finance tools of the trading stage: place, inspect, execute and cancel stock orders."""

from __future__ import annotations

from typing import Annotated, Literal

from raytool.envs.suite import Conflict, QuotaExceeded, Range, raise_not_found
from raytool.envs.suites.finance.catalogue import COMMISSION_RATE, MIN_COMMISSION
from raytool.envs.suites.finance.model import OrderRecord, Position
from raytool.envs.suites.finance.suite import SUITE
from raytool.envs.suites.finance.types import (
    AccountId,
    Fill,
    OpenOrders,
    Order,
    OrderCancellation,
    OrderId,
    Ticker,
)
from raytool.envs.suites.finance.world import World


def commission_on(amount: float) -> float:
    return round(max(MIN_COMMISSION, amount * COMMISSION_RATE), 2)


def order_view(order: OrderRecord) -> Order:
    view: Order = {
        "order_id": order.order_id,
        "account_id": order.account_id,
        "ticker": order.ticker,
        "side": order.side,
        "quantity": order.quantity,
        "order_type": order.order_type,
        "status": order.status,
        "placed_on": order.placed_on,
        "filled_quantity": order.quantity if order.status == "filled" else 0,
        "fill_price": order.fill_price,
        "commission": order.commission,
    }
    if order.limit_price is not None:
        view["limit_price"] = order.limit_price
    return view


def get_order(world: World, order_id: str) -> OrderRecord:
    return world.orders.get(order_id) or raise_not_found("order", order_id)


@SUITE.tool(stage="trading", question="place an order in account {account_id} for {quantity} shares of {ticker}")
def place_stock_order(
    world: World,
    account_id: AccountId,
    ticker: Ticker,
    quantity: Annotated[int, Range(1, 200)],
    side: Literal["buy", "sell"] = "buy",
    limit_price: Annotated[float, Range(1, 1_000)] | None = None,
) -> Order:
    """Place an open order to buy or sell shares; it fills when executed (at today's close, within any limit).

    A buy holds back its estimated cost plus commission from the account's available cash; a sell needs the
    shares in the account. Orders above the account's per-order notional limit are refused.

    Args:
        account_id: account to trade in, e.g. "ac-1001".
        ticker: exchange ticker symbol, e.g. "ACME".
        quantity: number of shares.
        side: buy or sell.
        limit_price: worst acceptable price per share (a limit order); a market order when left out.
    """
    account = world.account(account_id)
    stock = world.stock(ticker)
    price = limit_price if limit_price is not None else stock.closes[-1]
    notional = world.convert(quantity * price, stock.currency, account.currency)
    if notional > account.order_notional_limit:
        raise QuotaExceeded(
            f"order of {notional} {account.currency} passes the limit of {account.order_notional_limit}"
        )
    reserved = 0.0
    if side == "buy":
        reserved = round(notional + commission_on(notional), 2)
        if reserved > world.available_cash(account):
            raise QuotaExceeded(f"{account_id} has only {world.available_cash(account)} {account.currency} available")
    else:
        held = account.positions[ticker].quantity if ticker in account.positions else 0
        pending = sum(
            o.quantity
            for o in world.orders.values()
            if (o.account_id, o.ticker, o.side, o.status) == (account_id, ticker, "sell", "open")
        )
        if quantity > held - pending:
            raise QuotaExceeded(f"{account_id} holds {held - pending} unpledged shares of {ticker}, not {quantity}")
    order = OrderRecord(world.next_id("ord"), account_id, ticker, side, quantity, limit_price, world.today, reserved)
    world.orders[order.order_id] = order
    return order_view(order)


@SUITE.tool(stage="trading", question="what is the status of order {order_id}")
def get_order_status(world: World, order_id: OrderId) -> Order:
    """Get a stock order: account, stock, side, size, type, status and fill details.

    Args:
        order_id: order id, e.g. "ord-0001".
    """
    return order_view(get_order(world, order_id))


@SUITE.tool(stage="trading", question="execute order {order_id}")
def execute_open_order(world: World, order_id: OrderId) -> Fill:
    """Execute an open order at today's closing price, settling cash, commission and the position.

    A limit order executes only when the close is at or better than its limit; otherwise it stays open.

    Args:
        order_id: order id, e.g. "ord-0001".
    """
    order = get_order(world, order_id)
    if order.status != "open":
        raise Conflict(f"order {order_id} is {order.status}")
    account, stock = world.account(order.account_id), world.stock(order.ticker)
    price = stock.closes[-1]
    buying = order.side == "buy"
    if order.limit_price is not None and (price > order.limit_price if buying else price < order.limit_price):
        raise Conflict(f"close {price} is worse than the limit {order.limit_price}; order {order_id} stays open")
    gross = world.convert(order.quantity * price, stock.currency, account.currency)
    commission = commission_on(gross)
    position = account.positions.setdefault(order.ticker, Position(0, 0.0))
    if buying:
        cost = position.quantity * position.average_cost + order.quantity * price
        position.quantity += order.quantity
        position.average_cost = round(cost / position.quantity, 4)
        account.record(world.today, "trade", -(gross + commission), f"bought {order.quantity} {order.ticker}")
    else:
        position.quantity -= order.quantity
        account.record(world.today, "trade", gross - commission, f"sold {order.quantity} {order.ticker}")
    if position.quantity == 0:
        del account.positions[order.ticker]
    order.status, order.fill_price, order.commission, order.reserved_cash = "filled", price, commission, 0.0
    return {
        "order_id": order_id,
        "account_id": account.account_id,
        "ticker": order.ticker,
        "side": order.side,
        "quantity": order.quantity,
        "fill_price": price,
        "gross_amount": gross,
        "commission": commission,
        "currency": account.currency,
        "cash_balance": account.cash,
        "position_quantity": position.quantity,
    }


@SUITE.tool(stage="trading", question="cancel order {order_id}")
def cancel_stock_order(world: World, order_id: OrderId) -> OrderCancellation:
    """Cancel an open stock order, releasing the cash it held back.

    Args:
        order_id: order id, e.g. "ord-0001".
    """
    order = get_order(world, order_id)
    if order.status != "open":
        raise Conflict(f"order {order_id} is already {order.status}")
    released, order.reserved_cash, order.status = order.reserved_cash, 0.0, "cancelled"
    currency = world.account(order.account_id).currency
    return {"order_id": order_id, "status": order.status, "released_cash": released, "currency": currency}


@SUITE.tool(stage="trading", question="list the open orders of account {account_id}")
def list_open_orders(world: World, account_id: AccountId) -> OpenOrders:
    """List an account's orders that are still open, oldest first.

    Args:
        account_id: account id, e.g. "ac-1001".
    """
    world.account(account_id)
    orders = [
        {"order_id": o.order_id, "ticker": o.ticker, "side": o.side, "quantity": o.quantity, "order_type": o.order_type}
        for o in world.orders.values()
        if o.account_id == account_id and o.status == "open"
    ]
    return {"account_id": account_id, "count": len(orders), "orders": orders}
