"""Travel tools of the booking stage: book, seat, bag and cancel flights; reserve hotels; rent cars."""

from __future__ import annotations

from typing import Annotated, Literal

from raytool.envs.suite import Conflict, InvalidArgument, NotFound, QuotaExceeded, Range, raise_not_found
from raytool.envs.suites.travel.catalogue import BAG_FEE_USD, INSURANCE_RATE, MAX_CHECKED_BAGS, TIER_POINTS_PER_USD
from raytool.envs.suites.travel.model import (
    CarRentalRecord,
    FlightBookingRecord,
    HotelReservationRecord,
    seat_position,
    shift_date,
)
from raytool.envs.suites.travel.search_tools import require_travel_date
from raytool.envs.suites.travel.suite import SUITE
from raytool.envs.suites.travel.types import (
    BaggageUpdate,
    BookingId,
    CarId,
    CarRental,
    FareId,
    FlightBooking,
    FlightCancellation,
    HotelCancellation,
    HotelId,
    HotelReservation,
    ReservationId,
    RoomType,
    SeatAssignment,
    SeatNumber,
    TravelDate,
    TravellerId,
)
from raytool.envs.suites.travel.world import World


def booking_view(booking: FlightBookingRecord) -> FlightBooking:
    return {
        "booking_id": booking.booking_id,
        "flight_id": booking.flight_id,
        "traveller_id": booking.traveller_id,
        "cabin": booking.cabin,
        "seat_number": booking.seat_number,
        "refundable": booking.refundable,
        "insured": booking.insurance_fee > 0,
        "checked_bags": booking.checked_bags,
        "total_price": booking.total,
        "currency": booking.currency,
        "status": booking.status,
        "points_earned": booking.points_earned,
    }


def confirmed_booking(world: World, booking_id: str) -> FlightBookingRecord:
    booking = world.booking(booking_id)
    if booking.status != "confirmed":
        raise Conflict(f"booking {booking_id} is {booking.status}")
    return booking


@SUITE.tool(stage="booking", question="book the quoted fare {fare_id} for traveller {traveller_id}")
def book_flight(
    world: World,
    fare_id: FareId,
    traveller_id: TravellerId,
    seat_preference: Literal["any", "window", "aisle"] = "any",
    add_insurance: bool = False,
) -> FlightBooking:
    """Book a seat on a flight at a quoted fare for a traveller, charging it to their trip budget.

    A free seat is assigned at once (the preferred position when one is free); the traveller earns loyalty
    points by tier. A quote books once, and a traveller holds at most one seat per flight.

    Args:
        fare_id: fare quote id from a fare quote, e.g. "fq-0001".
        traveller_id: traveller id, e.g. "tr-101".
        seat_preference: preferred seat position.
        add_insurance: add travel insurance for 6% of the fare.
    """
    fare = world.fares.get(fare_id) or raise_not_found("fare quote", fare_id)
    traveller = world.traveller(traveller_id)
    if fare.booking_id:
        raise Conflict(f"fare quote {fare_id} was already booked as {fare.booking_id}")
    flight = world.flight(fare.flight_id)
    for other in world.bookings.values():
        if (other.traveller_id, other.flight_id, other.status) == (traveller_id, flight.flight_id, "confirmed"):
            raise Conflict(f"{traveller_id} already holds booking {other.booking_id} on {flight.flight_id}")
    free = flight.free_seats(fare.cabin)
    if not free:
        raise Conflict(f"flight {flight.flight_id} has no free {fare.cabin} seat left")
    seat = next((s for s in free if seat_preference in ("any", seat_position(s))), free[0])
    fare_total = round(fare.base_fare + fare.taxes, 2)
    insurance = round(fare_total * INSURANCE_RATE, 2) if add_insurance else 0.0
    world.charge(traveller, fare_total + insurance, fare.currency)
    points = int(world.convert(fare_total, fare.currency, "USD") * TIER_POINTS_PER_USD[traveller.loyalty_tier])
    booking = FlightBookingRecord(
        booking_id=world.next_id("bk"),
        fare_id=fare_id,
        flight_id=flight.flight_id,
        traveller_id=traveller_id,
        cabin=fare.cabin,
        seat_number=seat,
        refundable=fare.refundable,
        fare_total=fare_total,
        insurance_fee=insurance,
        currency=fare.currency,
        points_earned=points,
    )
    world.bookings[booking.booking_id] = booking
    flight.assigned[seat] = booking.booking_id
    world.seat_assignments[flight.flight_id] = flight.assigned
    fare.booking_id = booking.booking_id
    traveller.loyalty_points += points
    return booking_view(booking)


@SUITE.tool(stage="booking", question="move booking {booking_id} to seat {seat_number}")
def assign_seat(world: World, booking_id: BookingId, seat_number: SeatNumber) -> SeatAssignment:
    """Move a confirmed flight booking to another free seat of the same cabin.

    Args:
        booking_id: flight booking id, e.g. "bk-0001".
        seat_number: seat to move to, row and letter, e.g. "12A".
    """
    booking = confirmed_booking(world, booking_id)
    flight = world.flight(booking.flight_id)
    cabin = next((c for c in ("economy", "business") if seat_number in flight.seat_numbers(c)), None)
    if cabin is None:
        raise NotFound(f"no seat {seat_number!r} on flight {flight.flight_id}")
    if cabin != booking.cabin:
        raise InvalidArgument(f"seat {seat_number} is in {cabin}, booking {booking_id} is {booking.cabin}")
    previous = booking.seat_number
    if seat_number != previous:
        if seat_number not in flight.free_seats(cabin):
            raise Conflict(f"seat {seat_number} on {flight.flight_id} is taken")
        del flight.assigned[previous]
        flight.assigned[seat_number] = booking_id
        booking.seat_number = seat_number
    return {
        "booking_id": booking_id,
        "flight_id": flight.flight_id,
        "seat_number": seat_number,
        "previous_seat": previous,
    }


@SUITE.tool(stage="booking", question="add {bags} checked bags to booking {booking_id}")
def add_checked_bags(world: World, booking_id: BookingId, bags: Annotated[int, Range(1, 3)]) -> BaggageUpdate:
    """Add checked bags to a flight booking; each costs a flat fee charged to the traveller's budget.

    Args:
        booking_id: flight booking id, e.g. "bk-0001".
        bags: number of bags to add; a booking holds at most 3 checked bags.
    """
    booking = confirmed_booking(world, booking_id)
    if booking.checked_bags + bags > MAX_CHECKED_BAGS:
        raise QuotaExceeded(f"booking {booking_id} has {booking.checked_bags} bags; at most {MAX_CHECKED_BAGS} allowed")
    fee = round(bags * world.convert(BAG_FEE_USD, "USD", booking.currency), 2)
    world.charge(world.traveller(booking.traveller_id), fee, booking.currency)
    booking.checked_bags += bags
    booking.bag_fee = round(booking.bag_fee + fee, 2)
    return {
        "booking_id": booking_id,
        "checked_bags": booking.checked_bags,
        "bag_fee": fee,
        "total_price": booking.total,
        "currency": booking.currency,
    }


@SUITE.tool(stage="booking", question="show the details of flight booking {booking_id}")
def get_flight_booking(world: World, booking_id: BookingId) -> FlightBooking:
    """Get a flight booking: flight, traveller, cabin, seat, bags, price and status.

    Args:
        booking_id: flight booking id, e.g. "bk-0001".
    """
    return booking_view(world.booking(booking_id))


@SUITE.tool(stage="booking", question="cancel flight booking {booking_id}")
def cancel_flight_booking(world: World, booking_id: BookingId) -> FlightCancellation:
    """Cancel a flight booking and free its seat.

    Refundable fares are refunded in full; otherwise only the taxes and bag fees come back. Loyalty points
    earned by the booking are taken back.

    Args:
        booking_id: flight booking id, e.g. "bk-0001".
    """
    booking = confirmed_booking(world, booking_id)
    fare = world.fares[booking.fare_id]
    refund = booking.total if booking.refundable else round(min(booking.total, fare.taxes + booking.bag_fee), 2)
    traveller = world.traveller(booking.traveller_id)
    world.refund(traveller, refund, booking.currency)
    traveller.loyalty_points = max(0, traveller.loyalty_points - booking.points_earned)
    del world.flight(booking.flight_id).assigned[booking.seat_number]
    booking.status = "cancelled"
    return {"booking_id": booking_id, "status": booking.status, "refund_amount": refund, "currency": booking.currency}


@SUITE.tool(
    stage="booking",
    question="reserve a room at hotel {hotel_id} for traveller {traveller_id} from {check_in} for {nights} nights",
)
def reserve_hotel_room(
    world: World,
    hotel_id: HotelId,
    traveller_id: TravellerId,
    check_in: TravelDate,
    nights: Annotated[int, Range(1, 14)],
    room_type: RoomType = "standard",
) -> HotelReservation:
    """Reserve a hotel room for a stay, charging the whole stay to the traveller's trip budget.

    Args:
        hotel_id: hotel id, e.g. "HT-LIS-1".
        traveller_id: traveller id, e.g. "tr-101".
        check_in: arrival date, YYYY-MM-DD.
        nights: number of nights.
        room_type: kind of room.
    """
    hotel = world.hotels.get(hotel_id) or raise_not_found("hotel", hotel_id)
    traveller = world.traveller(traveller_id)
    require_travel_date(world, check_in, "check-in date")
    stay = [shift_date(check_in, i) for i in range(nights)]
    for other in world.reservations.values():
        if (other.hotel_id, other.traveller_id, other.status) == (hotel_id, traveller_id, "confirmed"):
            if set(stay) & {shift_date(other.check_in, i) for i in range(other.nights)}:
                raise Conflict(f"{traveller_id} already has reservation {other.reservation_id} at {hotel_id} then")
    full = [night for night in stay if hotel.rooms_free(room_type, night) <= 0]
    if full:
        raise Conflict(f"hotel {hotel_id} has no {room_type} room free on {full[0]}")
    total = round(hotel.nightly_rate(room_type) * nights, 2)
    world.charge(traveller, total, hotel.currency)
    for night in stay:
        hotel.booked[(room_type, night)] = hotel.booked.get((room_type, night), 0) + 1
    record = HotelReservationRecord(
        world.next_id("rs"), hotel_id, traveller_id, room_type, check_in, nights, total, hotel.currency
    )
    world.reservations[record.reservation_id] = record
    return {
        "reservation_id": record.reservation_id,
        "hotel_id": hotel_id,
        "traveller_id": traveller_id,
        "room_type": room_type,
        "check_in": check_in,
        "check_out": shift_date(check_in, nights),
        "nights": nights,
        "total_price": total,
        "currency": hotel.currency,
        "status": record.status,
    }


@SUITE.tool(stage="booking", question="cancel hotel reservation {reservation_id}")
def cancel_hotel_reservation(world: World, reservation_id: ReservationId) -> HotelCancellation:
    """Cancel a hotel reservation free of charge, releasing its room for every night.

    Args:
        reservation_id: hotel reservation id, e.g. "rs-0001".
    """
    record = world.reservations.get(reservation_id) or raise_not_found("reservation", reservation_id)
    if record.status != "confirmed":
        raise Conflict(f"reservation {reservation_id} is already {record.status}")
    hotel = world.hotels[record.hotel_id]
    for night in (shift_date(record.check_in, i) for i in range(record.nights)):
        hotel.booked[(record.room_type, night)] -= 1
    world.refund(world.traveller(record.traveller_id), record.total_price, record.currency)
    record.status = "cancelled"
    return {
        "reservation_id": reservation_id,
        "status": record.status,
        "refund_amount": record.total_price,
        "currency": record.currency,
    }


@SUITE.tool(
    stage="booking", question="rent car {car_id} for traveller {traveller_id} from {pickup_date} for {days} days"
)
def rent_car(
    world: World,
    car_id: CarId,
    traveller_id: TravellerId,
    pickup_date: TravelDate,
    days: Annotated[int, Range(1, 21)],
    full_coverage: bool = False,
) -> CarRental:
    """Rent a car for a period, charging it to the traveller's trip budget.

    Args:
        car_id: rental car id, e.g. "CR-LIS-2".
        traveller_id: traveller id, e.g. "tr-101".
        pickup_date: first rental day, YYYY-MM-DD.
        days: rental length in days.
        full_coverage: add full damage coverage for 15% of the rental price.
    """
    car = world.cars.get(car_id) or raise_not_found("rental car", car_id)
    traveller = world.traveller(traveller_id)
    require_travel_date(world, pickup_date, "pickup date")
    if not car.is_free(pickup_date, days):
        raise Conflict(f"car {car_id} is already rented during that period")
    total = round(car.daily_rate * days * (1.15 if full_coverage else 1.0), 2)
    world.charge(traveller, total, car.currency)
    car.rented.append((pickup_date, days))
    record = CarRentalRecord(world.next_id("rn"), car_id, traveller_id, pickup_date, days, total, car.currency)
    world.rentals[record.rental_id] = record
    return {
        "rental_id": record.rental_id,
        "car_id": car_id,
        "traveller_id": traveller_id,
        "pickup_date": pickup_date,
        "return_date": shift_date(pickup_date, days),
        "days": days,
        "total_price": total,
        "currency": car.currency,
        "status": record.status,
    }
