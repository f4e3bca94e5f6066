"""The entities of the travel world: the fixed estate (cities, flights, hotels, cars) and the records tools create.

Everything is a plain mutable dataclass so a whole world deep-copies; tools change records in place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from raytool.envs.suites.travel.catalogue import AIRCRAFT, FIRST_ROW, ROOM_FACTOR, SEAT_LETTERS


def shift_date(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def seat_position(seat_number: str) -> str:
    letter = seat_number[-1]
    return "window" if letter in "AF" else "aisle" if letter in "CD" else "middle"


@dataclass
class CityRecord:
    name: str
    country: str
    airport_code: str
    currency: str
    continent: str
    utc_offset_hours: int
    typical_high_c: int
    languages: list[str]


@dataclass
class Route:
    """A daily scheduled service: the same flight number departs at the same time every day."""

    flight_number: str
    airline: str
    origin: str  # airport code
    destination: str  # airport code
    departure_minute: int  # minutes after local midnight
    duration_minutes: int
    aircraft: str
    base_fare_usd: float


@dataclass
class Flight:
    """One dated departure of a route, as `World.flight` builds it from the seed.

    `assigned` is the world's seat table of the flight (`World.seat_assignments`) once a seat was booked on it;
    before that it is a fresh empty dict, which `book_flight` stores.
    """

    flight_id: str
    date: str
    route: Route
    presold: dict[str, int]  # cabin -> seats sold before the world starts
    seat_salt: int
    delay_minutes: int
    assigned: dict[str, str]  # seat number -> booking id

    def seat_numbers(self, cabin: str) -> list[str]:
        first = FIRST_ROW[cabin]
        rows = range(first, first + AIRCRAFT[self.route.aircraft][cabin])
        return [f"{row}{letter}" for row in rows for letter in SEAT_LETTERS[cabin]]

    def presold_seats(self, cabin: str) -> set[str]:
        return set(random.Random(self.seat_salt).sample(self.seat_numbers(cabin), self.presold[cabin]))

    def free_seats(self, cabin: str) -> list[str]:
        taken = self.presold_seats(cabin) | set(self.assigned)
        return [seat for seat in self.seat_numbers(cabin) if seat not in taken]


@dataclass
class Hotel:
    hotel_id: str
    name: str
    city: str
    stars: int
    guest_rating: float
    amenities: list[str]
    currency: str
    standard_rate: float  # per night, in the hotel's currency
    rooms: dict[str, int]  # room type -> rooms of that type
    booked: dict[tuple[str, str], int] = field(default_factory=dict)  # (room type, night) -> rooms taken

    def nightly_rate(self, room_type: str) -> float:
        return round(self.standard_rate * ROOM_FACTOR[room_type], 2)

    def rooms_free(self, room_type: str, night: str) -> int:
        return self.rooms[room_type] - self.booked.get((room_type, night), 0)


@dataclass
class RentalCar:
    car_id: str
    city: str
    model: str
    category: str
    automatic: bool
    daily_rate: float
    currency: str
    rented: list[tuple[str, int]] = field(default_factory=list)  # (pickup date, days)

    def is_free(self, pickup_date: str, days: int) -> bool:
        start = date.fromisoformat(pickup_date).toordinal()
        for other_start, other_days in self.rented:
            begin = date.fromisoformat(other_start).toordinal()
            if start < begin + other_days and begin < start + days:
                return False
        return True


@dataclass
class Forecast:
    condition: str
    high_c: float
    low_c: float
    precipitation_chance: int
    wind_kph: int


@dataclass
class Traveller:
    traveller_id: str
    name: str
    nationality: str
    home_city: str
    email: str
    passport_expiry: str
    loyalty_tier: str
    loyalty_points: int
    budget: float
    budget_currency: str
    spent: float = 0.0


@dataclass
class FareQuoteRecord:
    fare_id: str
    flight_id: str
    cabin: str
    refundable: bool
    base_fare: float
    taxes: float
    currency: str
    booking_id: str = ""


@dataclass
class FlightBookingRecord:
    booking_id: str
    fare_id: str
    flight_id: str
    traveller_id: str
    cabin: str
    seat_number: str
    refundable: bool
    fare_total: float
    insurance_fee: float
    currency: str
    points_earned: int
    checked_bags: int = 0
    bag_fee: float = 0.0
    discount: float = 0.0
    status: str = "confirmed"

    @property
    def total(self) -> float:
        return round(self.fare_total + self.insurance_fee + self.bag_fee - self.discount, 2)


@dataclass
class HotelReservationRecord:
    reservation_id: str
    hotel_id: str
    traveller_id: str
    room_type: str
    check_in: str
    nights: int
    total_price: float
    currency: str
    status: str = "confirmed"


@dataclass
class CarRentalRecord:
    rental_id: str
    car_id: str
    traveller_id: str
    pickup_date: str
    days: int
    total_price: float
    currency: str
    status: str = "confirmed"
