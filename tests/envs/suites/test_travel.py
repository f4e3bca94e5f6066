"""The travel suite: linked chains of real calls, every tool on a scripted trip, failure modes, determinism and
the planted overlaps."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, get_args

import pytest

from raytool.envs.suite import Conflict, InvalidArgument, NotFound, QuotaExceeded
from raytool.envs.suites.travel import PLANTED_OVERLAPS, SUITE, World
from raytool.envs.suites.travel.types import CurrencyCode


@pytest.fixture
def world() -> World:
    return SUITE.make_world(7)


def call(world: World, name: str, **arguments: Any) -> Any:
    """Run a tool through the suite (arguments checked against its spec); outputs must be JSON-native."""
    output = SUITE.call(world, name, arguments)
    assert json.loads(json.dumps(output)) == output
    return output


def plan_trip(world: World) -> dict[str, Any]:
    """A trip that uses every tool once, each later call fed by earlier outputs; the outputs by tool name."""
    out: dict[str, Any] = {}

    def run(name: str, **arguments: Any) -> Any:
        out[name] = call(world, name, **arguments)
        return out[name]

    home, away = world.values("city")[0], world.values("city")[-1]
    day = world.values("date")[1]
    run("list_cities", continent="all")
    traveller = run("get_traveller_profile", traveller_id=world.values("traveller_id")[0])
    run("lookup_passenger_details", passenger_id=traveller["traveller_id"])
    run("get_loyalty_account", traveller_id=traveller["traveller_id"])
    info = run("get_city_info", city=away)
    run("get_visa_requirements", nationality=traveller["nationality"], destination_country=info["country"])
    origin = run("get_city_info", city=home)["airport_code"]
    flights = run("search_flights", origin=origin, destination=away, date=day, cabin="economy", max_price=1e6)
    flight_id = flights["flights"][-1]["flight_id"]
    run("get_flight_status", flight_id=flight_id)
    fare = run("quote_flight_fare", flight_id=flight_id, refundable=True)
    booking = run(
        "book_flight", fare_id=fare["fare_id"], traveller_id=traveller["traveller_id"], seat_preference="aisle"
    )
    seats = run("get_seat_map", flight_id=booking["flight_id"], position="window", limit=3)
    run("assign_seat", booking_id=booking["booking_id"], seat_number=seats["seats"][0]["seat_number"])
    run("add_checked_bags", booking_id=booking["booking_id"], bags=1)
    run("redeem_loyalty_points", booking_id=booking["booking_id"], points=1500)
    run("convert_booking_price", booking_id=booking["booking_id"], currency="USD")
    run("get_flight_booking", booking_id=booking["booking_id"])
    run("get_exchange_rate", from_currency=fare["currency"], to_currency="JPY")
    run("convert_amount", amount=250.5, from_currency=info["currency"], to_currency="GBP")
    forecast = run("get_weather_forecast", city=away, date=flights["date"])
    run("check_city_weather", location=forecast["city"], day=forecast["date"])
    hotels = run("search_hotels", city=away, check_in=flights["date"], nights=3, min_stars=1)
    hotel_id = hotels["hotels"][0]["hotel_id"]
    details = run("get_hotel_details", hotel_id=hotel_id)
    filtered = call(world, "search_hotels", city=away, check_in=day, nights=3, amenities=details["amenities"][:2])
    assert hotel_id in {h["hotel_id"] for h in filtered["hotels"]}
    stay = run("reserve_hotel_room", hotel_id=hotel_id, traveller_id=traveller["traveller_id"], check_in=day, nights=3)
    cars = run("search_rental_cars", city=away, pickup_date=day, days=4, category="any")
    run("rent_car", car_id=cars["cars"][0]["car_id"], traveller_id=traveller["traveller_id"], pickup_date=day, days=4)
    run("get_trip_itinerary", traveller_id=traveller["traveller_id"])
    run("cancel_hotel_reservation", reservation_id=stay["reservation_id"])
    run("cancel_flight_booking", booking_id=booking["booking_id"])
    run("get_traveller_budget", traveller_id=traveller["traveller_id"])
    return out


def test_stages_and_tool_counts() -> None:
    assert SUITE.name == "travel" and SUITE.domain == "travel"
    assert SUITE.stages == ("search", "pricing", "booking", "trip_services")
    assert Counter(t.stage for t in SUITE.tools.values()) == {
        "search": 8,
        "pricing": 5,
        "booking": 8,
        "trip_services": 8,
    }


def test_every_tool_runs_on_a_scripted_trip(world: World) -> None:
    outputs = plan_trip(world)
    assert set(outputs) == set(SUITE.tools)
    assert outputs["get_trip_itinerary"]["total_items"] == 3
    assert [i["item_type"] for i in outputs["get_trip_itinerary"]["items"]] == [
        "flight",
        "car",
        "hotel",
    ]  # same day: by reference
    assert outputs["cancel_flight_booking"]["status"] == "cancelled"


def test_flight_chain_feeds_outputs_forward(world: World) -> None:
    """city -> airport_code -> flight_id -> fare_id -> booking_id, then bags and a currency conversion."""
    home, away = world.values("city")[:2]
    info = call(world, "get_city_info", city=home)
    search = call(world, "search_flights", origin=info["airport_code"], destination=away, date=world.values("date")[2])
    assert search["flights"] and all(f["seats_left"] > 0 for f in search["flights"])
    assert [f["departure_time"] for f in search["flights"]] == sorted(f["departure_time"] for f in search["flights"])
    flight_id = search["flights"][0]["flight_id"]
    fare = call(world, "quote_flight_fare", flight_id=flight_id)
    assert fare["flight_id"] == flight_id and fare["currency"] == info["currency"]
    assert fare["total_price"] == search["flights"][0]["lowest_fare"]
    booking = call(world, "book_flight", fare_id=fare["fare_id"], traveller_id="tr-101")
    assert (booking["booking_id"], booking["flight_id"], booking["status"]) == ("bk-0001", flight_id, "confirmed")
    assert booking["total_price"] == fare["total_price"]
    bags = call(world, "add_checked_bags", booking_id=booking["booking_id"], bags=2)
    assert bags["total_price"] == round(fare["total_price"] + bags["bag_fee"], 2)
    price = call(world, "convert_booking_price", booking_id=booking["booking_id"], currency="USD")
    assert price["original_amount"] == bags["total_price"]
    assert price["converted_amount"] == round(bags["total_price"] * price["rate"], 2)
    status = call(world, "get_flight_status", flight_id=booking["flight_id"])
    assert status["origin"] == info["airport_code"] and status["destination_city"] == away
    budget = call(world, "get_traveller_budget", traveller_id=booking["traveller_id"])
    assert budget["spent"] > 0 and budget["remaining"] == round(budget["budget"] - budget["spent"], 2)


def test_seat_chain_and_fares_follow_the_load(world: World) -> None:
    flight_id = world.values("flight_id")[0]
    first = call(world, "quote_flight_fare", flight_id=flight_id)
    booking = call(world, "book_flight", fare_id=first["fare_id"], traveller_id="tr-102", seat_preference="window")
    assert booking["seat_number"][-1] in "AF"
    seats = call(world, "get_seat_map", flight_id=booking["flight_id"], limit=30)
    assert booking["seat_number"] not in {s["seat_number"] for s in seats["seats"]}
    target = seats["seats"][0]["seat_number"]
    moved = call(world, "assign_seat", booking_id=booking["booking_id"], seat_number=target)
    assert moved == {
        "booking_id": booking["booking_id"],
        "flight_id": flight_id,
        "seat_number": target,
        "previous_seat": booking["seat_number"],
    }
    after = call(world, "get_seat_map", flight_id=flight_id, limit=30)
    assert target not in {s["seat_number"] for s in after["seats"]}
    assert after["available_count"] == seats["available_count"]
    assert call(world, "quote_flight_fare", flight_id=flight_id)["base_fare"] > first["base_fare"]


def test_hotel_and_car_chain(world: World) -> None:
    """forecast (city, date) -> hotels -> reservation -> itinerary -> cancellation; cars alike."""
    forecast = call(world, "get_weather_forecast", city=world.values("city")[3], date=world.values("date")[0])
    hotels = call(world, "search_hotels", city=forecast["city"], check_in=forecast["date"], nights=2)
    assert hotels["hotels"] and hotels["hotels"] == sorted(
        hotels["hotels"], key=lambda h: (h["total_price"], h["hotel_id"])
    )
    hotel_id = hotels["hotels"][0]["hotel_id"]
    stay = call(
        world,
        "reserve_hotel_room",
        hotel_id=hotel_id,
        traveller_id="tr-103",
        check_in=hotels["check_in"],
        nights=2,
        room_type="deluxe",
    )
    details = call(world, "get_hotel_details", hotel_id=stay["hotel_id"])
    deluxe = next(r for r in details["room_types"] if r["room_type"] == "deluxe")
    assert stay["total_price"] == round(2 * deluxe["nightly_rate"], 2) and stay["check_out"] > stay["check_in"]
    cars = call(world, "search_rental_cars", city=forecast["city"], pickup_date=forecast["date"], days=3)
    rental = call(
        world, "rent_car", car_id=cars["cars"][0]["car_id"], traveller_id="tr-103", pickup_date=forecast["date"], days=3
    )
    assert rental["total_price"] == cars["cars"][0]["total_price"]
    again = call(world, "search_rental_cars", city=forecast["city"], pickup_date=forecast["date"], days=3)
    assert rental["car_id"] not in {c["car_id"] for c in again["cars"]}
    itinerary = call(world, "get_trip_itinerary", traveller_id="tr-103")
    assert [i["reference"] for i in itinerary["items"]] == sorted([stay["reservation_id"], rental["rental_id"]])
    spent = call(world, "get_traveller_budget", traveller_id="tr-103")["spent"]
    refund = call(world, "cancel_hotel_reservation", reservation_id=stay["reservation_id"])
    assert refund["refund_amount"] == stay["total_price"]
    assert call(world, "get_traveller_budget", traveller_id="tr-103")["spent"] < spent
    assert call(world, "get_trip_itinerary", traveller_id="tr-103", include_cancelled=True)["total_items"] == 2


def test_visa_and_loyalty_chain(world: World) -> None:
    profile = call(world, "get_traveller_profile", traveller_id="tr-104")
    country = call(world, "get_city_info", city=profile["home_city"])["country"]
    visa = call(world, "get_visa_requirements", nationality=profile["nationality"], destination_country=country)
    assert visa["visa_required"] == (visa["requirement"] in ("e-visa", "embassy visa"))
    home = call(world, "get_visa_requirements", nationality=country, destination_country=country)
    assert home["requirement"] == "citizen" and not home["visa_required"]
    points = call(world, "get_loyalty_account", traveller_id="tr-104")["points"]
    fare = call(world, "quote_flight_fare", flight_id=world.values("flight_id")[5])
    booking = call(world, "book_flight", fare_id=fare["fare_id"], traveller_id="tr-104")
    redeemed = call(world, "redeem_loyalty_points", booking_id=booking["booking_id"], points=2000)
    assert redeemed["points_left"] == points + booking["points_earned"] - 2000
    assert redeemed["total_price"] == round(booking["total_price"] - redeemed["discount"], 2)


def test_cancellation_refunds_by_fare_rules(world: World) -> None:
    flight_id = world.values("flight_id")[9]
    results = {}
    for traveller, refundable in (("tr-101", True), ("tr-102", False)):
        fare = call(world, "quote_flight_fare", flight_id=flight_id, refundable=refundable)
        booking = call(world, "book_flight", fare_id=fare["fare_id"], traveller_id=traveller)
        results[refundable] = (fare, call(world, "cancel_flight_booking", booking_id=booking["booking_id"]))
    assert results[True][1]["refund_amount"] == results[True][0]["total_price"]
    assert results[False][1]["refund_amount"] == results[False][0]["taxes"]
    assert call(world, "get_traveller_budget", traveller_id="tr-101")["spent"] == 0.0


def test_failure_modes(world: World) -> None:
    city, day = world.values("city")[0], world.values("date")[0]
    airport = world.cities[city].airport_code
    with pytest.raises(NotFound):
        call(world, "get_city_info", city="Atlantis")
    with pytest.raises(NotFound):
        call(world, "get_flight_status", flight_id="ZZ999-2025-01-01")
    with pytest.raises(NotFound):
        call(world, "get_weather_forecast", city=city, date="1999-12-31")
    with pytest.raises(InvalidArgument):
        call(world, "search_flights", origin=airport, destination=city, date=day)
    with pytest.raises(InvalidArgument):
        call(world, "search_hotels", city=city, check_in="1999-12-31", nights=2)
    with pytest.raises(InvalidArgument):
        call(world, "search_hotels", city=city, check_in=day, nights=30)  # outside the documented range
    flight_id = world.values("flight_id")[0]
    fare = call(world, "quote_flight_fare", flight_id=flight_id)
    booking = call(world, "book_flight", fare_id=fare["fare_id"], traveller_id="tr-101")
    with pytest.raises(Conflict):
        call(world, "book_flight", fare_id=fare["fare_id"], traveller_id="tr-102")  # a quote books once
    with pytest.raises(Conflict):
        second = call(world, "quote_flight_fare", flight_id=flight_id)
        call(world, "book_flight", fare_id=second["fare_id"], traveller_id="tr-101")  # double booking
    business = call(world, "get_seat_map", flight_id=flight_id, cabin="business")["seats"][0]["seat_number"]
    with pytest.raises(InvalidArgument):
        call(world, "assign_seat", booking_id=booking["booking_id"], seat_number=business)
    with pytest.raises(NotFound):
        call(world, "assign_seat", booking_id=booking["booking_id"], seat_number="99Z")
    call(world, "add_checked_bags", booking_id=booking["booking_id"], bags=2)
    with pytest.raises(QuotaExceeded):
        call(world, "add_checked_bags", booking_id=booking["booking_id"], bags=2)
    world.travellers["tr-101"].loyalty_points = 100
    with pytest.raises(QuotaExceeded):
        call(world, "redeem_loyalty_points", booking_id=booking["booking_id"], points=500)
    world.travellers["tr-103"].budget = 20.0
    with pytest.raises(QuotaExceeded):
        call(
            world,
            "book_flight",
            fare_id=call(world, "quote_flight_fare", flight_id=flight_id)["fare_id"],
            traveller_id="tr-103",
        )
    call(world, "cancel_flight_booking", booking_id=booking["booking_id"])
    with pytest.raises(Conflict):
        call(world, "cancel_flight_booking", booking_id=booking["booking_id"])
    car = world.values("car_id")[0]
    call(world, "rent_car", car_id=car, traveller_id="tr-104", pickup_date=day, days=3)
    with pytest.raises(Conflict):
        call(world, "rent_car", car_id=car, traveller_id="tr-105", pickup_date=world.values("date")[2], days=2)


def test_same_seed_same_trip_other_seed_other_world() -> None:
    assert World.generate(7) == World.generate(7)
    assert plan_trip(SUITE.make_world(7)) == plan_trip(SUITE.make_world(7))
    other = SUITE.make_world(8)
    assert World.generate(7) != other
    assert plan_trip(SUITE.make_world(7)) != plan_trip(other)


def test_values_lists_what_tasks_may_mention(world: World) -> None:
    assert len(world.values("city")) == 7 and len(world.values("date")) == 7
    assert set(world.values("airport_code")) == {c.airport_code for c in world.cities.values()}
    assert set(world.values("country")) < set(world.values("nationality"))
    assert world.values("traveller_id") == ["tr-101", "tr-102", "tr-103", "tr-104", "tr-105", "tr-106"]
    assert len(world.values("flight_id")) == 7 * 6 * 2 * 7
    assert world.values("currency") == sorted(get_args(CurrencyCode))
    for kind in ("booking_id", "fare_id", "reservation_id", "rental_id", "seat_number"):
        assert world.values(kind) == []


def test_reading_leaves_the_world_unchanged(world: World) -> None:
    untouched = SUITE.make_world(7)
    flight_id = world.values("flight_id")[3]
    call(world, "get_flight_status", flight_id=flight_id)
    call(world, "get_seat_map", flight_id=flight_id)
    call(
        world,
        "search_flights",
        origin=world.values("airport_code")[0],
        destination=world.values("city")[-1],
        date=world.values("date")[0],
    )
    assert world == untouched


def test_planted_overlaps_agree_on_common_fields(world: World) -> None:
    assert PLANTED_OVERLAPS == [
        ("get_weather_forecast", "check_city_weather"),
        ("get_traveller_profile", "lookup_passenger_details"),
    ]
    for city in world.values("city"):
        for day in world.values("date"):
            full = call(world, "get_weather_forecast", city=city, date=day)
            short = call(world, "check_city_weather", location=city, day=day)
            assert short.items() <= full.items() and len(short) < len(full)
    for traveller in world.values("traveller_id"):
        full = call(world, "get_traveller_profile", traveller_id=traveller)
        short = call(world, "lookup_passenger_details", passenger_id=traveller)
        assert short.items() <= full.items() and len(short) < len(full)
    for kept, merged in PLANTED_OVERLAPS:
        kinds = [
            sorted(SUITE.tools[n].spec.properties[p]["x-kind"] for p in SUITE.tools[n].spec.required)
            for n in (kept, merged)
        ]
        assert kinds[0] == kinds[1] and SUITE.tools[kept].spec.description != SUITE.tools[merged].spec.description
