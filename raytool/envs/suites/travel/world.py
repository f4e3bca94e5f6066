"""The travel world: cities, dated flights, hotels, rental cars, forecasts, visa rules and travellers.

`World.generate(seed)` builds everything from one `random.Random(seed)`; tools then change the world in place
(bookings, seats, budgets, loyalty points) and number what they create from `World.counters`, so every
result depends only on the seed and the call history. All records are plain dataclasses (deep-copyable).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from raytool.envs.suite import QuotaExceeded, raise_not_found
from raytool.envs.suites.travel.catalogue import (
    AIRCRAFT,
    AIRLINES,
    AMENITIES,
    CABIN_FARE_FACTOR,
    CAR_MODELS,
    CITY_CATALOGUE,
    CONDITIONS,
    FIRST_NAMES,
    HOTEL_NAMES,
    LAST_NAMES,
    OTHER_NATIONALITIES,
    SEAT_LETTERS,
    TIERS,
    USD_RATES,
    VISA_RULES,
)
from raytool.envs.suites.travel.model import (
    CarRentalRecord,
    CityRecord,
    FareQuoteRecord,
    Flight,
    FlightBookingRecord,
    Forecast,
    Hotel,
    HotelReservationRecord,
    RentalCar,
    Route,
    Traveller,
    shift_date,
)


@dataclass
class World:
    seed: int
    dates: list[str]
    cities: dict[str, CityRecord]
    routes: dict[str, Route]  # flight number -> daily service
    hotels: dict[str, Hotel]
    cars: dict[str, RentalCar]
    forecasts: dict[tuple[str, str], Forecast]  # (city, date)
    visa_rules: dict[tuple[str, str], tuple[str, int, int, float]]  # (nationality, country) -> rule
    travellers: dict[str, Traveller]
    usd_rates: dict[str, float]
    fares: dict[str, FareQuoteRecord] = field(default_factory=dict)
    bookings: dict[str, FlightBookingRecord] = field(default_factory=dict)
    reservations: dict[str, HotelReservationRecord] = field(default_factory=dict)
    rentals: dict[str, CarRentalRecord] = field(default_factory=dict)
    seat_assignments: dict[str, dict[str, str]] = field(default_factory=dict)  # flight id -> seat -> booking
    counters: dict[str, int] = field(default_factory=dict)

    @classmethod
    def generate(cls, seed: int) -> World:
        rng = random.Random(seed)
        first_day = date(2025, 1, 6) + timedelta(days=rng.randrange(0, 300))
        dates = [(first_day + timedelta(days=i)).isoformat() for i in range(7)]
        names = sorted(rng.sample(sorted(CITY_CATALOGUE), 7))
        cities = {name: CityRecord(name, *CITY_CATALOGUE[name]) for name in names}
        usd_rates = {c: r if c == "USD" else round(r * rng.uniform(0.97, 1.03), 4) for c, r in USD_RATES.items()}
        world = cls(
            seed=seed,
            dates=dates,
            cities=cities,
            routes={},
            hotels={},
            cars={},
            forecasts={},
            visa_rules={},
            travellers={},
            usd_rates=usd_rates,
        )
        world._add_flights(rng)
        world._add_hotels_and_cars(rng)
        world._add_forecasts_and_visas(rng)
        world._add_travellers(rng)
        return world

    def _add_flights(self, rng: random.Random) -> None:
        pairs = [(a, b) for a in self.cities.values() for b in self.cities.values() if a is not b]
        for number, (origin, destination) in enumerate(pairs):
            long_haul = origin.continent != destination.continent
            duration = rng.randint(420, 780) if long_haul else rng.randint(55, 170)
            base_fare = round((70 + duration * 0.5) * rng.uniform(0.8, 1.25), 2)
            for wave, first_hour in enumerate((6, 15)):
                code = rng.choice(sorted(AIRLINES))
                route = Route(
                    flight_number=f"{code}{100 + number * 2 + wave}",
                    airline=AIRLINES[code],
                    origin=origin.airport_code,
                    destination=destination.airport_code,
                    departure_minute=first_hour * 60 + rng.randrange(0, 6 * 60, 5),
                    duration_minutes=duration,
                    aircraft="B787" if long_haul else "A320",
                    base_fare_usd=base_fare,
                )
                self.routes[route.flight_number] = route

    def _add_hotels_and_cars(self, rng: random.Random) -> None:
        for city in self.cities.values():
            for i, suffix in enumerate(rng.sample(HOTEL_NAMES, 3), start=1):
                stars = rng.randint(2, 5)
                rate = self.convert((40 + 35 * stars) * rng.uniform(0.85, 1.25), "USD", city.currency)
                rooms = {"standard": rng.randint(6, 12), "deluxe": rng.randint(3, 6), "suite": rng.randint(1, 3)}
                hotel_id = f"HT-{city.airport_code}-{i}"
                amenities = sorted(rng.sample(AMENITIES, rng.randint(2, 5)), key=AMENITIES.index)
                self.hotels[hotel_id] = Hotel(
                    hotel_id=hotel_id,
                    name=f"{city.name} {suffix}",
                    city=city.name,
                    stars=stars,
                    guest_rating=round(rng.uniform(6.5, 9.6), 1),
                    amenities=amenities,
                    currency=city.currency,
                    standard_rate=rate,
                    rooms=rooms,
                )
            for i, (model, category, usd_rate) in enumerate(rng.sample(CAR_MODELS, 4), start=1):
                car_id = f"CR-{city.airport_code}-{i}"
                daily = self.convert(usd_rate * rng.uniform(0.9, 1.2), "USD", city.currency)
                automatic = rng.random() < 0.6
                self.cars[car_id] = RentalCar(car_id, city.name, model, category, automatic, daily, city.currency)

    def _add_forecasts_and_visas(self, rng: random.Random) -> None:
        for city in self.cities.values():
            for day in self.dates:
                condition, rain = rng.choices(CONDITIONS, weights=[30, 25, 20, 18, 7])[0]
                high = round(city.typical_high_c + rng.gauss(0, 3), 1)
                low = round(high - rng.uniform(5, 10), 1)
                chance = max(0, min(100, rain + rng.randint(-10, 10)))
                self.forecasts[(city.name, day)] = Forecast(condition, high, low, chance, rng.randint(3, 45))
        for nationality in self.values("nationality"):
            for destination in self.values("country"):
                if nationality == destination:
                    self.visa_rules[(nationality, destination)] = ("none", 0, 0, 0.0)
                    continue
                kind, days, fee = rng.choices(VISA_RULES, weights=[50, 20, 15, 15])[0]
                self.visa_rules[(nationality, destination)] = (kind, rng.choice([30, 90, 180]), days, float(fee))

    def _add_travellers(self, rng: random.Random) -> None:
        nationalities = self.values("nationality")
        for number in range(101, 107):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            home = rng.choice(sorted(self.cities))
            currency = self.cities[home].currency
            traveller_id = f"tr-{number}"
            self.travellers[traveller_id] = Traveller(
                traveller_id=traveller_id,
                name=f"{first} {last}",
                nationality=rng.choice(nationalities),
                home_city=home,
                email=f"{first.lower()}.{last.lower()}@example.com",
                passport_expiry=shift_date(self.dates[0], rng.randint(400, 3000)),
                loyalty_tier=rng.choice(TIERS),
                loyalty_points=rng.randint(15_000, 120_000),
                budget=self.convert(rng.uniform(9_000, 20_000), "USD", currency),
                budget_currency=currency,
            )

    def values(self, kind: str) -> list:
        """Sorted existing values of a kind a task may mention; [] for kinds only tools produce."""
        countries = {city.country for city in self.cities.values()}
        listed = {
            "city": self.cities,
            "country": countries,
            "nationality": countries | set(OTHER_NATIONALITIES),
            "airport_code": [city.airport_code for city in self.cities.values()],
            "currency": self.usd_rates,
            "date": self.dates,
            "traveller_id": self.travellers,
            "flight_id": [f"{number}-{day}" for number in self.routes for day in self.dates],
            "hotel_id": self.hotels,
            "car_id": self.cars,
        }
        return sorted(listed.get(kind, []))

    def next_id(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]:04d}"

    def rate(self, from_currency: str, to_currency: str) -> float:
        for code in (from_currency, to_currency):
            if code not in self.usd_rates:
                raise_not_found("currency", code)
        return round(self.usd_rates[to_currency] / self.usd_rates[from_currency], 6)

    def convert(self, amount: float, from_currency: str, to_currency: str) -> float:
        return round(amount * self.rate(from_currency, to_currency), 2)

    def city(self, name: str) -> CityRecord:
        return self.cities.get(name) or raise_not_found("city", name)

    def city_of_airport(self, airport_code: str) -> CityRecord:
        found = [c for c in self.cities.values() if c.airport_code == airport_code]
        return found[0] if found else raise_not_found("airport", airport_code)

    def traveller(self, traveller_id: str) -> Traveller:
        return self.travellers.get(traveller_id) or raise_not_found("traveller", traveller_id)

    def flight(self, flight_id: str) -> Flight:
        """The dated departure `flight_id` ("AT104-2025-03-10"); its load and delay follow from the seed alone."""
        number, _, day = flight_id.partition("-")
        route = self.routes.get(number)
        if route is None or day not in self.dates:
            raise_not_found("flight", flight_id)
        rng = random.Random(f"{self.seed}:{flight_id}")
        seats = {cabin: rows * len(SEAT_LETTERS[cabin]) for cabin, rows in AIRCRAFT[route.aircraft].items()}
        presold = {cabin: int(count * rng.uniform(0.3, 0.85)) for cabin, count in seats.items()}
        delay = rng.choice([0, 0, 0, 0, 15, 40, 90])
        assigned = self.seat_assignments.get(flight_id, {})
        return Flight(flight_id, day, route, presold, rng.randrange(10**6), delay, assigned)

    def booking(self, booking_id: str) -> FlightBookingRecord:
        return self.bookings.get(booking_id) or raise_not_found("booking", booking_id)

    def fare(self, flight: Flight, cabin: str, refundable: bool) -> tuple[float, float, str]:
        """(base fare, taxes, currency) of a seat now: fares rise as the cabin fills."""
        capacity = len(flight.seat_numbers(cabin))
        sold = capacity - len(flight.free_seats(cabin))
        usd = flight.route.base_fare_usd * CABIN_FARE_FACTOR[cabin] * (1 + 0.5 * sold / capacity)
        usd *= 1.25 if refundable else 1.0
        currency = self.city_of_airport(flight.route.origin).currency
        base = self.convert(usd, "USD", currency)
        return base, round(base * 0.12 + self.convert(18, "USD", currency), 2), currency

    def charge(self, traveller: Traveller, amount: float, currency: str) -> None:
        """Add a cost to the traveller's spending; QuotaExceeded when it would pass the trip budget."""
        cost = self.convert(amount, currency, traveller.budget_currency)
        if traveller.spent + cost > traveller.budget + 1e-9:
            left = round(traveller.budget - traveller.spent, 2)
            raise QuotaExceeded(
                f"{traveller.traveller_id}: {cost} {traveller.budget_currency} exceeds the remaining budget of {left}"
            )
        traveller.spent = round(traveller.spent + cost, 2)

    def refund(self, traveller: Traveller, amount: float, currency: str) -> None:
        traveller.spent = round(
            max(0.0, traveller.spent - self.convert(amount, currency, traveller.budget_currency)), 2
        )
