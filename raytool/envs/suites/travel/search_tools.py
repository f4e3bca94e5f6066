"""Travel tools of the search and pricing stages: cities, flights, seats, hotels, cars, fares and currencies."""

from __future__ import annotations

from typing import Annotated, Literal

from raytool.envs.suite import InvalidArgument, Range, raise_not_found
from raytool.envs.suites.travel.catalogue import FIRST_ROW, ROOM_GUESTS
from raytool.envs.suites.travel.model import Route, seat_position, shift_date
from raytool.envs.suites.travel.suite import SUITE
from raytool.envs.suites.travel.types import (
    AirportCode,
    Amenity,
    Cabin,
    CarSearch,
    City,
    CityInfo,
    CityList,
    FlightId,
    FlightSearch,
    FlightStatus,
    HotelDetails,
    HotelId,
    HotelSearch,
    SeatMap,
    TravelDate,
)
from raytool.envs.suites.travel.world import World


def require_travel_date(world: World, day: str, what: str) -> None:
    """InvalidArgument unless `day` lies in the published schedule window."""
    if day not in world.dates:
        raise InvalidArgument(f"{what} {day!r} is outside the schedule window {world.dates[0]}..{world.dates[-1]}")


def arrival_time(world: World, route: Route) -> str:
    """Local arrival clock time, with a day offset suffix ("07:35+1") when it lands on another day."""
    origin, destination = world.city_of_airport(route.origin), world.city_of_airport(route.destination)
    shift = destination.utc_offset_hours - origin.utc_offset_hours
    days, minute = divmod(route.departure_minute + route.duration_minutes + 60 * shift, 24 * 60)
    return f"{minute // 60:02d}:{minute % 60:02d}" + (f"{days:+d}" if days else "")


def departure_time(route: Route) -> str:
    return f"{route.departure_minute // 60:02d}:{route.departure_minute % 60:02d}"


@SUITE.tool(stage="search", question="list the cities the travel network serves")
def list_cities(world: World, continent: Literal["all", "Europe", "Americas", "Asia"] = "all") -> CityList:
    """List the cities served by the travel network with their airport code, country and local currency.

    Args:
        continent: only list cities on this continent; "all" lists every city.
    """
    cities = [c for c in world.cities.values() if continent in ("all", c.continent)]
    return {
        "continent": continent,
        "cities": [
            {"city": c.name, "country": c.country, "airport_code": c.airport_code, "currency": c.currency}
            for c in sorted(cities, key=lambda c: c.name)
        ],
    }


@SUITE.tool(stage="search", question="look up the airport code, country and currency of {city}")
def get_city_info(world: World, city: City) -> CityInfo:
    """Get facts about a city: its country, main airport code, local currency, UTC offset and languages.

    Args:
        city: city name, e.g. "Lisbon".
    """
    record = world.city(city)
    return {
        "city": record.name,
        "country": record.country,
        "airport_code": record.airport_code,
        "currency": record.currency,
        "continent": record.continent,
        "utc_offset_hours": record.utc_offset_hours,
        "languages": list(record.languages),
    }


@SUITE.tool(stage="search", question="find flights from {origin} to {destination} on {date}")
def search_flights(
    world: World,
    origin: AirportCode,
    destination: City,
    date: TravelDate,
    cabin: Cabin = "economy",
    max_price: Annotated[float, Range(1, 1_000_000)] | None = None,
) -> FlightSearch:
    """Search the nonstop flights of one day from a departure airport to a destination city.

    Only flights with free seats in the cabin are listed, earliest departure first; the fare shown is the
    current non-refundable price of one seat in the departure city's currency.

    Args:
        origin: IATA code of the departure airport, e.g. "LIS".
        destination: name of the arrival city, e.g. "Tokyo".
        date: departure date, YYYY-MM-DD.
        cabin: travel class to price and check availability for.
        max_price: leave out flights whose fare is above this amount (in the fare's currency).
    """
    departure_city = world.city_of_airport(origin)
    arrival_code = world.city(destination).airport_code
    if departure_city.name == destination:
        raise InvalidArgument(f"origin {origin} is already in {destination}")
    require_travel_date(world, date, "date")
    options = []
    for route in world.routes.values():
        if (route.origin, route.destination) != (origin, arrival_code):
            continue
        flight = world.flight(f"{route.flight_number}-{date}")
        seats_left = len(flight.free_seats(cabin))
        base, taxes, currency = world.fare(flight, cabin, refundable=False)
        total = round(base + taxes, 2)
        if seats_left == 0 or (max_price is not None and total > max_price):
            continue
        options.append(
            {
                "flight_id": flight.flight_id,
                "flight_number": route.flight_number,
                "airline": route.airline,
                "departure_time": departure_time(route),
                "arrival_time": arrival_time(world, route),
                "duration_minutes": route.duration_minutes,
                "seats_left": seats_left,
                "lowest_fare": total,
                "currency": currency,
            }
        )
    options.sort(key=lambda o: o["departure_time"])
    return {"origin": origin, "destination": destination, "date": date, "cabin": cabin, "flights": options}


@SUITE.tool(stage="search", question="check the status and schedule of flight {flight_id}")
def get_flight_status(world: World, flight_id: FlightId) -> FlightStatus:
    """Get the schedule and operational status (on time or delayed) of a dated flight.

    Args:
        flight_id: dated flight id as returned by flight search, e.g. "AT104-2025-03-10".
    """
    flight = world.flight(flight_id)
    route = flight.route
    return {
        "flight_id": flight.flight_id,
        "flight_number": route.flight_number,
        "airline": route.airline,
        "origin": route.origin,
        "destination": route.destination,
        "origin_city": world.city_of_airport(route.origin).name,
        "destination_city": world.city_of_airport(route.destination).name,
        "date": flight.date,
        "departure_time": departure_time(route),
        "arrival_time": arrival_time(world, route),
        "duration_minutes": route.duration_minutes,
        "aircraft": route.aircraft,
        "status": "delayed" if flight.delay_minutes else "on time",
        "delay_minutes": flight.delay_minutes,
    }


@SUITE.tool(stage="search", question="show the free seats on flight {flight_id}")
def get_seat_map(
    world: World,
    flight_id: FlightId,
    cabin: Cabin = "economy",
    position: Literal["any", "window", "aisle", "middle"] = "any",
    limit: Annotated[int, Range(1, 30)] = 10,
) -> SeatMap:
    """Show the free seats of one cabin on a flight, front rows first.

    Args:
        flight_id: dated flight id, e.g. "AT104-2025-03-10".
        cabin: cabin whose seat map to show.
        position: only seats at this position in the row; "any" shows all.
        limit: largest number of seats to list.
    """
    flight = world.flight(flight_id)
    free = flight.free_seats(cabin)
    wanted = [s for s in free if position in ("any", seat_position(s))]
    exit_rows = {FIRST_ROW["economy"], FIRST_ROW["economy"] + 12}
    seats = [
        {
            "seat_number": s,
            "position": seat_position(s),
            "extra_legroom": cabin == "business" or int(s[:-1]) in exit_rows,
        }
        for s in wanted[:limit]
    ]
    return {"flight_id": flight_id, "cabin": cabin, "available_count": len(free), "seats": seats}


@SUITE.tool(stage="search", question="find hotels in {city} for {nights} nights from {check_in}")
def search_hotels(
    world: World,
    city: City,
    check_in: TravelDate,
    nights: Annotated[int, Range(1, 14)],
    min_stars: Annotated[int, Range(1, 5)] = 1,
    amenities: list[Amenity] | None = None,
) -> HotelSearch:
    """Search hotels of a city with a standard room free for every night of a stay, cheapest first.

    Args:
        city: city name, e.g. "Paris".
        check_in: arrival date, YYYY-MM-DD.
        nights: number of nights to stay.
        min_stars: lowest star rating to include.
        amenities: amenities every listed hotel must offer, e.g. ["wifi", "pool"].
    """
    world.city(city)
    require_travel_date(world, check_in, "check-in date")
    nights_of_stay = [shift_date(check_in, i) for i in range(nights)]
    hotels = []
    for hotel in world.hotels.values():
        if hotel.city != city or hotel.stars < min_stars or not set(amenities or []) <= set(hotel.amenities):
            continue
        if any(hotel.rooms_free("standard", night) <= 0 for night in nights_of_stay):
            continue
        rate = hotel.nightly_rate("standard")
        hotels.append(
            {
                "hotel_id": hotel.hotel_id,
                "name": hotel.name,
                "stars": hotel.stars,
                "guest_rating": hotel.guest_rating,
                "nightly_rate": rate,
                "total_price": round(rate * nights, 2),
                "currency": hotel.currency,
            }
        )
    hotels.sort(key=lambda h: (h["total_price"], h["hotel_id"]))
    return {"city": city, "check_in": check_in, "nights": nights, "hotels": hotels}


@SUITE.tool(stage="search", question="describe hotel {hotel_id} and its room types")
def get_hotel_details(world: World, hotel_id: HotelId) -> HotelDetails:
    """Get a hotel's description: stars, guest rating, amenities and the rate of each room type.

    Args:
        hotel_id: hotel id, e.g. "HT-LIS-1".
    """
    hotel = world.hotels.get(hotel_id) or raise_not_found("hotel", hotel_id)
    rooms = [
        {"room_type": kind, "nightly_rate": hotel.nightly_rate(kind), "max_guests": ROOM_GUESTS[kind], "rooms": count}
        for kind, count in hotel.rooms.items()
    ]
    return {
        "hotel_id": hotel.hotel_id,
        "name": hotel.name,
        "city": hotel.city,
        "stars": hotel.stars,
        "guest_rating": hotel.guest_rating,
        "amenities": list(hotel.amenities),
        "currency": hotel.currency,
        "room_types": rooms,
    }


@SUITE.tool(stage="search", question="find rental cars in {city} picked up on {pickup_date} for {days} days")
def search_rental_cars(
    world: World,
    city: City,
    pickup_date: TravelDate,
    days: Annotated[int, Range(1, 21)],
    category: Literal["any", "economy", "compact", "suv", "van"] = "any",
) -> CarSearch:
    """Search the rental cars of a city that are free for a whole rental period, cheapest first.

    Args:
        city: city name where the car is picked up and returned.
        pickup_date: first rental day, YYYY-MM-DD.
        days: rental length in days.
        category: only cars of this category; "any" lists all.
    """
    world.city(city)
    require_travel_date(world, pickup_date, "pickup date")
    cars = [
        {
            "car_id": car.car_id,
            "model": car.model,
            "category": car.category,
            "automatic": car.automatic,
            "daily_rate": car.daily_rate,
            "total_price": round(car.daily_rate * days, 2),
            "currency": car.currency,
        }
        for car in world.cars.values()
        if car.city == city and category in ("any", car.category) and car.is_free(pickup_date, days)
    ]
    cars.sort(key=lambda c: (c["total_price"], c["car_id"]))
    return {"city": city, "pickup_date": pickup_date, "days": days, "cars": cars}
