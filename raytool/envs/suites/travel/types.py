"""Kinds and result types of the travel tools.

A kinded field (`FlightId`, `City`, ...) can feed a later tool's parameter of the same kind (the binder takes the
first field of the kind in the latest output). Fields stay plain where binding them would pair a place with
itself (a city's own airport as origin and the city as destination) or point at something no tool consumes.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from raytool.envs.suite import Kind

# Kinds a task may mention (the world lists their values).
City = Annotated[str, Kind("city")]
Country = Annotated[str, Kind("country")]
Nationality = Annotated[str, Kind("nationality")]
AirportCode = Annotated[str, Kind("airport_code")]
Currency = Annotated[str, Kind("currency")]
TravelDate = Annotated[str, Kind("date")]
TravellerId = Annotated[str, Kind("traveller_id")]
FlightId = Annotated[str, Kind("flight_id")]
HotelId = Annotated[str, Kind("hotel_id")]
CarId = Annotated[str, Kind("car_id")]
# Kinds only tools produce.
FareId = Annotated[str, Kind("fare_id")]
BookingId = Annotated[str, Kind("booking_id")]
ReservationId = Annotated[str, Kind("reservation_id")]
RentalId = Annotated[str, Kind("rental_id")]
SeatNumber = Annotated[str, Kind("seat_number")]

Cabin = Literal["economy", "business"]
RoomType = Literal["standard", "deluxe", "suite"]
CurrencyCode = Literal["CAD", "CHF", "EUR", "GBP", "JPY", "SGD", "USD"]
Amenity = Literal["wifi", "breakfast", "pool", "gym", "spa", "parking", "airport_shuttle"]


class CitySummary(TypedDict):
    city: City
    country: str
    airport_code: str
    currency: str


class CityList(TypedDict):
    continent: str
    cities: list[CitySummary]


class CityInfo(TypedDict):
    city: str
    country: Country
    airport_code: AirportCode
    currency: Currency
    continent: str
    utc_offset_hours: int
    languages: list[str]


class FlightOption(TypedDict):
    flight_id: FlightId
    flight_number: str
    airline: str
    departure_time: str
    arrival_time: str
    duration_minutes: int
    seats_left: int
    lowest_fare: float
    currency: str


class FlightSearch(TypedDict):
    origin: AirportCode
    destination: City
    date: TravelDate
    cabin: str
    flights: list[FlightOption]


class FlightStatus(TypedDict):
    flight_id: FlightId
    flight_number: str
    airline: str
    origin: AirportCode
    destination: AirportCode
    origin_city: str
    destination_city: str
    date: TravelDate
    departure_time: str
    arrival_time: str
    duration_minutes: int
    aircraft: str
    status: str
    delay_minutes: int


class Seat(TypedDict):
    seat_number: SeatNumber
    position: str
    extra_legroom: bool


class SeatMap(TypedDict):
    flight_id: FlightId
    cabin: str
    available_count: int
    seats: list[Seat]


class HotelOption(TypedDict):
    hotel_id: HotelId
    name: str
    stars: int
    guest_rating: float
    nightly_rate: float
    total_price: float
    currency: str


class HotelSearch(TypedDict):
    city: City
    check_in: TravelDate
    nights: int
    hotels: list[HotelOption]


class RoomOffer(TypedDict):
    room_type: str
    nightly_rate: float
    max_guests: int
    rooms: int


class HotelDetails(TypedDict):
    hotel_id: HotelId
    name: str
    city: City
    stars: int
    guest_rating: float
    amenities: list[str]
    currency: str
    room_types: list[RoomOffer]


class CarOption(TypedDict):
    car_id: CarId
    model: str
    category: str
    automatic: bool
    daily_rate: float
    total_price: float
    currency: str


class CarSearch(TypedDict):
    city: City
    pickup_date: TravelDate
    days: int
    cars: list[CarOption]


class FareQuote(TypedDict):
    fare_id: FareId
    flight_id: FlightId
    cabin: str
    refundable: bool
    base_fare: float
    taxes: float
    total_price: float
    currency: Currency


class ExchangeRate(TypedDict):
    from_currency: str
    to_currency: Currency
    rate: float


class ConvertedAmount(TypedDict):
    amount: float
    from_currency: str
    to_currency: Currency
    rate: float
    converted_amount: float


class BookingPrice(TypedDict):
    booking_id: BookingId
    original_amount: float
    original_currency: str
    currency: str
    rate: float
    converted_amount: float


class TravellerBudget(TypedDict):
    traveller_id: TravellerId
    currency: Currency
    budget: float
    spent: float
    remaining: float


class FlightBooking(TypedDict):
    booking_id: BookingId
    flight_id: FlightId
    traveller_id: TravellerId
    cabin: str
    seat_number: str
    refundable: bool
    insured: bool
    checked_bags: int
    total_price: float
    currency: Currency
    status: str
    points_earned: int


class SeatAssignment(TypedDict):
    booking_id: BookingId
    flight_id: str
    seat_number: str
    previous_seat: str


class BaggageUpdate(TypedDict):
    booking_id: BookingId
    checked_bags: int
    bag_fee: float
    total_price: float
    currency: str


class FlightCancellation(TypedDict):
    booking_id: str
    status: str
    refund_amount: float
    currency: str


class HotelReservation(TypedDict):
    reservation_id: ReservationId
    hotel_id: HotelId
    traveller_id: TravellerId
    room_type: str
    check_in: TravelDate
    check_out: str
    nights: int
    total_price: float
    currency: Currency
    status: str


class HotelCancellation(TypedDict):
    reservation_id: str
    status: str
    refund_amount: float
    currency: str


class CarRental(TypedDict):
    rental_id: RentalId
    car_id: CarId
    traveller_id: TravellerId
    pickup_date: TravelDate
    return_date: str
    days: int
    total_price: float
    currency: Currency
    status: str


class Forecast(TypedDict):
    city: City
    date: TravelDate
    condition: str
    high_c: float
    low_c: float
    precipitation_chance: int
    wind_kph: int


class WeatherSnapshot(TypedDict):
    city: City
    date: TravelDate
    condition: str
    high_c: float


class VisaRequirement(TypedDict):
    nationality: Nationality
    destination_country: Country
    requirement: str
    visa_required: bool
    max_stay_days: int
    processing_days: int
    fee_usd: float


class TravellerProfile(TypedDict):
    traveller_id: TravellerId
    name: str
    nationality: Nationality
    home_city: City
    email: str
    passport_expiry: str
    loyalty_tier: str


class PassengerDetails(TypedDict):
    traveller_id: TravellerId
    name: str
    nationality: Nationality
    passport_expiry: str


class LoyaltyAccount(TypedDict):
    traveller_id: TravellerId
    program: str
    tier: str
    points: int
    points_value_usd: float


class PointsRedemption(TypedDict):
    booking_id: BookingId
    points_redeemed: int
    discount: float
    total_price: float
    currency: str
    points_left: int


class ItineraryItem(TypedDict):
    item_type: str
    reference: str
    date: TravelDate
    description: str
    status: str
    amount: float
    currency: str


class Itinerary(TypedDict):
    traveller_id: TravellerId
    total_items: int
    items: list[ItineraryItem]
