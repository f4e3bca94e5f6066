"""Travel tools of the pricing stage: fare quotes, exchange rates, converted prices and trip budgets."""

from __future__ import annotations

from typing import Annotated

from raytool.envs.suite import Conflict, Range
from raytool.envs.suites.travel.model import FareQuoteRecord
from raytool.envs.suites.travel.suite import SUITE
from raytool.envs.suites.travel.types import (
    BookingId,
    BookingPrice,
    Cabin,
    ConvertedAmount,
    Currency,
    CurrencyCode,
    ExchangeRate,
    FareQuote,
    FlightId,
    TravellerBudget,
    TravellerId,
)
from raytool.envs.suites.travel.world import World


@SUITE.tool(stage="pricing", question="get a fare quote for a seat on flight {flight_id}")
def quote_flight_fare(
    world: World, flight_id: FlightId, cabin: Cabin = "economy", refundable: bool = False
) -> FareQuote:
    """Quote the current fare of one seat on a flight; the quote's fare id is what booking a flight needs.

    Fares are priced in the departure city's currency and rise as the cabin fills up.

    Args:
        flight_id: dated flight id, e.g. "AT104-2025-03-10".
        cabin: travel class of the seat.
        refundable: quote a refundable fare (25% dearer, fully refunded on cancellation).
    """
    flight = world.flight(flight_id)
    if not flight.free_seats(cabin):
        raise Conflict(f"flight {flight_id} has no free {cabin} seat")
    base, taxes, currency = world.fare(flight, cabin, refundable)
    fare_id = world.next_id("fq")
    world.fares[fare_id] = FareQuoteRecord(fare_id, flight_id, cabin, refundable, base, taxes, currency)
    return {
        "fare_id": fare_id,
        "flight_id": flight_id,
        "cabin": cabin,
        "refundable": refundable,
        "base_fare": base,
        "taxes": taxes,
        "total_price": round(base + taxes, 2),
        "currency": currency,
    }


@SUITE.tool(stage="pricing", question="what is the exchange rate from {from_currency} to {to_currency}")
def get_exchange_rate(world: World, from_currency: Currency, to_currency: CurrencyCode) -> ExchangeRate:
    """Get today's exchange rate between two currencies (units of the target per unit of the source).

    Args:
        from_currency: ISO code of the currency to convert from, e.g. "EUR".
        to_currency: ISO code of the currency to convert to.
    """
    return {"from_currency": from_currency, "to_currency": to_currency, "rate": world.rate(from_currency, to_currency)}


@SUITE.tool(stage="pricing", question="convert {amount} {from_currency} into {to_currency}")
def convert_amount(
    world: World,
    amount: Annotated[float, Range(0.01, 1_000_000)],
    from_currency: Currency,
    to_currency: CurrencyCode,
) -> ConvertedAmount:
    """Convert an amount of money into another currency at today's rate, rounded to cents.

    Args:
        amount: the sum to convert, in the source currency.
        from_currency: ISO code of the source currency, e.g. "GBP".
        to_currency: ISO code of the target currency.
    """
    rate = world.rate(from_currency, to_currency)
    return {
        "amount": amount,
        "from_currency": from_currency,
        "to_currency": to_currency,
        "rate": rate,
        "converted_amount": round(amount * rate, 2),
    }


@SUITE.tool(stage="pricing", question="how much does booking {booking_id} cost in {currency}")
def convert_booking_price(world: World, booking_id: BookingId, currency: CurrencyCode) -> BookingPrice:
    """Express the current total price of a flight booking in another currency.

    Args:
        booking_id: flight booking id, e.g. "bk-0001".
        currency: ISO code of the currency to express the price in.
    """
    booking = world.booking(booking_id)
    rate = world.rate(booking.currency, currency)
    return {
        "booking_id": booking_id,
        "original_amount": booking.total,
        "original_currency": booking.currency,
        "currency": currency,
        "rate": rate,
        "converted_amount": round(booking.total * rate, 2),
    }


@SUITE.tool(stage="pricing", question="how much of the trip budget of traveller {traveller_id} is left")
def get_traveller_budget(world: World, traveller_id: TravellerId) -> TravellerBudget:
    """Get a traveller's trip budget, what their bookings have spent of it and what remains.

    Args:
        traveller_id: traveller id, e.g. "tr-101".
    """
    traveller = world.traveller(traveller_id)
    return {
        "traveller_id": traveller_id,
        "currency": traveller.budget_currency,
        "budget": traveller.budget,
        "spent": traveller.spent,
        "remaining": round(traveller.budget - traveller.spent, 2),
    }
