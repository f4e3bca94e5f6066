"""Travel tools of the trip-services stage: weather, visas, traveller profiles, loyalty and itineraries."""

from __future__ import annotations

from typing import Annotated

from raytool.envs.suite import InvalidArgument, NotFound, QuotaExceeded, Range
from raytool.envs.suites.travel.booking_tools import confirmed_booking
from raytool.envs.suites.travel.catalogue import USD_PER_POINT
from raytool.envs.suites.travel.suite import SUITE
from raytool.envs.suites.travel.types import (
    BookingId,
    City,
    Country,
    Forecast,
    Itinerary,
    LoyaltyAccount,
    Nationality,
    PassengerDetails,
    PointsRedemption,
    TravelDate,
    TravellerId,
    TravellerProfile,
    VisaRequirement,
    WeatherSnapshot,
)
from raytool.envs.suites.travel.world import World


@SUITE.tool(stage="trip_services", question="what is the weather forecast for {city} on {date}")
def get_weather_forecast(world: World, city: City, date: TravelDate) -> Forecast:
    """Get the weather forecast of a city for one day: conditions, temperatures, rain chance and wind.

    Args:
        city: city name, e.g. "Madrid".
        date: day of the forecast, YYYY-MM-DD.
    """
    world.city(city)
    forecast = world.forecasts.get((city, date))
    if forecast is None:
        raise NotFound(f"no forecast for {city} on {date!r}")
    return {
        "city": city,
        "date": date,
        "condition": forecast.condition,
        "high_c": forecast.high_c,
        "low_c": forecast.low_c,
        "precipitation_chance": forecast.precipitation_chance,
        "wind_kph": forecast.wind_kph,
    }


@SUITE.tool(stage="trip_services", question="how warm will it be in {location} on {day}")
def check_city_weather(world: World, location: City, day: TravelDate) -> WeatherSnapshot:
    """Quick weather check for a destination: the sky and the day's top temperature in Celsius.

    Args:
        location: the destination city.
        day: the calendar day to check (YYYY-MM-DD).
    """
    forecast = get_weather_forecast(world, location, day)
    return {"city": location, "date": day, "condition": forecast["condition"], "high_c": forecast["high_c"]}


@SUITE.tool(stage="trip_services", question="does a citizen of {nationality} need a visa for {destination_country}")
def get_visa_requirements(world: World, nationality: Nationality, destination_country: Country) -> VisaRequirement:
    """Get the entry rules for a nationality visiting a country: visa type, allowed stay, processing time and fee.

    Args:
        nationality: the traveller's citizenship, as a country name, e.g. "Brazil".
        destination_country: the country to visit, e.g. "Japan".
    """
    for country in (nationality, destination_country):
        if country not in world.values("nationality"):
            raise NotFound(f"no country {country!r}")
    rule = world.visa_rules.get((nationality, destination_country))
    if rule is None:
        raise NotFound(f"no entry rules for visitors to {destination_country!r}")
    requirement, max_stay, processing, fee = rule
    return {
        "nationality": nationality,
        "destination_country": destination_country,
        "requirement": requirement if nationality != destination_country else "citizen",
        "visa_required": requirement in ("e-visa", "embassy visa"),
        "max_stay_days": max_stay,
        "processing_days": processing,
        "fee_usd": fee,
    }


@SUITE.tool(stage="trip_services", question="show the profile of traveller {traveller_id}")
def get_traveller_profile(world: World, traveller_id: TravellerId) -> TravellerProfile:
    """Get a traveller's profile: name, nationality, home city, contact email, passport expiry and loyalty tier.

    Args:
        traveller_id: traveller id, e.g. "tr-101".
    """
    traveller = world.traveller(traveller_id)
    return {
        "traveller_id": traveller_id,
        "name": traveller.name,
        "nationality": traveller.nationality,
        "home_city": traveller.home_city,
        "email": traveller.email,
        "passport_expiry": traveller.passport_expiry,
        "loyalty_tier": traveller.loyalty_tier,
    }


@SUITE.tool(stage="trip_services", question="fetch the passport details of passenger {passenger_id}")
def lookup_passenger_details(world: World, passenger_id: TravellerId) -> PassengerDetails:
    """Passenger record for check-in: full name, citizenship and passport validity.

    Args:
        passenger_id: the passenger's traveller id (tr-NNN).
    """
    profile = get_traveller_profile(world, passenger_id)
    return {key: profile[key] for key in ("traveller_id", "name", "nationality", "passport_expiry")}


@SUITE.tool(stage="trip_services", question="how many loyalty points does traveller {traveller_id} have")
def get_loyalty_account(world: World, traveller_id: TravellerId) -> LoyaltyAccount:
    """Get a traveller's loyalty programme account: tier, points balance and the points' value in dollars.

    Args:
        traveller_id: traveller id, e.g. "tr-101".
    """
    traveller = world.traveller(traveller_id)
    return {
        "traveller_id": traveller_id,
        "program": "Horizon Rewards",
        "tier": traveller.loyalty_tier,
        "points": traveller.loyalty_points,
        "points_value_usd": round(traveller.loyalty_points * USD_PER_POINT, 2),
    }


@SUITE.tool(stage="trip_services", question="redeem {points} loyalty points against booking {booking_id}")
def redeem_loyalty_points(
    world: World, booking_id: BookingId, points: Annotated[int, Range(500, 10_000)]
) -> PointsRedemption:
    """Pay part of a flight booking with the traveller's loyalty points (100 points are worth one dollar).

    Args:
        booking_id: flight booking id, e.g. "bk-0001".
        points: points to redeem.
    """
    booking = confirmed_booking(world, booking_id)
    traveller = world.traveller(booking.traveller_id)
    if points > traveller.loyalty_points:
        raise QuotaExceeded(f"{traveller.traveller_id} has only {traveller.loyalty_points} points")
    discount = world.convert(points * USD_PER_POINT, "USD", booking.currency)
    if discount > booking.total:
        raise InvalidArgument(f"{points} points are worth more than the {booking.total} left to pay")
    traveller.loyalty_points -= points
    booking.discount = round(booking.discount + discount, 2)
    world.refund(traveller, discount, booking.currency)
    return {
        "booking_id": booking_id,
        "points_redeemed": points,
        "discount": discount,
        "total_price": booking.total,
        "currency": booking.currency,
        "points_left": traveller.loyalty_points,
    }


@SUITE.tool(stage="trip_services", question="list the trip itinerary of traveller {traveller_id}")
def get_trip_itinerary(world: World, traveller_id: TravellerId, include_cancelled: bool = False) -> Itinerary:
    """List a traveller's flights, hotel stays and car rentals in date order.

    Args:
        traveller_id: traveller id, e.g. "tr-101".
        include_cancelled: also list cancelled items.
    """
    world.traveller(traveller_id)
    items = []
    for b in world.bookings.values():
        if b.traveller_id == traveller_id:
            flight = world.flight(b.flight_id)
            route = flight.route
            text = f"flight {route.flight_number} {route.origin}-{route.destination}, seat {b.seat_number}"
            items.append(("flight", b.booking_id, flight.date, text, b.status, b.total, b.currency))
    for r in world.reservations.values():
        if r.traveller_id == traveller_id:
            text = f"{r.nights} nights, {r.room_type} room at {world.hotels[r.hotel_id].name}"
            items.append(("hotel", r.reservation_id, r.check_in, text, r.status, r.total_price, r.currency))
    for c in world.rentals.values():
        if c.traveller_id == traveller_id:
            text = f"{world.cars[c.car_id].model} for {c.days} days in {world.cars[c.car_id].city}"
            items.append(("car", c.rental_id, c.pickup_date, text, c.status, c.total_price, c.currency))
    keys = ("item_type", "reference", "date", "description", "status", "amount", "currency")
    rows = [dict(zip(keys, item, strict=True)) for item in sorted(items, key=lambda i: (i[2], i[1]))]
    rows = [row for row in rows if include_cancelled or row["status"] == "confirmed"]
    return {"traveller_id": traveller_id, "total_items": len(rows), "items": rows}
