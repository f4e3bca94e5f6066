"""Fixed catalogue of the travel world: cities, currencies, airlines, aircraft, hotels, cars, weather, visas."""

# name: (country, airport code, currency, continent, UTC offset in hours, typical high in °C, languages)
CITY_CATALOGUE = {
    "Lisbon": ("Portugal", "LIS", "EUR", "Europe", 0, 21, ["Portuguese"]),
    "Madrid": ("Spain", "MAD", "EUR", "Europe", 1, 22, ["Spanish"]),
    "Paris": ("France", "CDG", "EUR", "Europe", 1, 17, ["French"]),
    "London": ("United Kingdom", "LHR", "GBP", "Europe", 0, 15, ["English"]),
    "Zurich": ("Switzerland", "ZRH", "CHF", "Europe", 1, 14, ["German", "French", "Italian"]),
    "New York": ("United States", "JFK", "USD", "Americas", -5, 18, ["English", "Spanish"]),
    "Toronto": ("Canada", "YYZ", "CAD", "Americas", -5, 13, ["English", "French"]),
    "Tokyo": ("Japan", "HND", "JPY", "Asia", 9, 19, ["Japanese"]),
    "Singapore": ("Singapore", "SIN", "SGD", "Asia", 8, 31, ["English", "Malay", "Mandarin", "Tamil"]),
}
OTHER_NATIONALITIES = ["Australia", "Brazil", "India"]
USD_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CHF": 0.88, "CAD": 1.36, "JPY": 151.0, "SGD": 1.34}
AIRLINES = {"AT": "Atlas Airways", "BR": "Borealis Air", "CO": "Coral Airlines"}
# aircraft: rows per cabin; business rows are numbered from 1, economy rows from 10
AIRCRAFT = {"A320": {"business": 3, "economy": 22}, "B787": {"business": 6, "economy": 34}}
SEAT_LETTERS = {"business": "ACDF", "economy": "ABCDEF"}
FIRST_ROW = {"business": 1, "economy": 10}
CABIN_FARE_FACTOR = {"economy": 1.0, "business": 3.2}
ROOM_FACTOR = {"standard": 1.0, "deluxe": 1.55, "suite": 2.6}
ROOM_GUESTS = {"standard": 2, "deluxe": 3, "suite": 4}
AMENITIES = ["wifi", "breakfast", "pool", "gym", "spa", "parking", "airport_shuttle"]
HOTEL_NAMES = ["Grand Hotel", "Harbour Inn", "Central Suites", "Garden Lodge", "Skyline Hotel", "Old Town Rooms"]
CAR_MODELS = [
    ("Fiat 500", "economy", 32),
    ("Toyota Yaris", "economy", 36),
    ("VW Golf", "compact", 48),
    ("Tesla Model 3", "compact", 74),
    ("Toyota RAV4", "suv", 82),
    ("Ford Transit", "van", 95),
]
CONDITIONS = [("sunny", 10), ("partly cloudy", 25), ("cloudy", 35), ("rain", 70), ("thunderstorms", 85)]
VISA_RULES = [("none", 0, 0), ("e-visa", 3, 35), ("visa on arrival", 0, 50), ("embassy visa", 15, 120)]
TIERS = ["blue", "silver", "gold", "platinum"]
TIER_POINTS_PER_USD = {"blue": 5, "silver": 7, "gold": 9, "platinum": 12}
FIRST_NAMES = ["Ana", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST_NAMES = ["Silva", "Okafor", "Martin", "Keller", "Tanaka", "Novak", "Reyes", "Lindqvist", "Shah", "Brown"]
MAX_CHECKED_BAGS = 3
BAG_FEE_USD = 35.0
INSURANCE_RATE = 0.06
USD_PER_POINT = 0.01
