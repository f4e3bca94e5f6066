"""Fixed catalogue of the finance world: listed companies, indices, currencies, customers' names and payees."""

# ticker: (company, sector, exchange, typical price, shares outstanding in millions, employees)
COMPANIES = {
    "ACME": ("Acme Robotics", "technology", "NYX", 180.0, 410, 21_000),
    "BLZE": ("Blaze Energy", "energy", "NYX", 64.0, 950, 14_500),
    "CRNA": ("Corona Health", "healthcare", "NYX", 122.0, 520, 33_000),
    "DLTA": ("Delta Logistics", "industrials", "NYX", 88.0, 300, 52_000),
    "EVRG": ("Evergreen Foods", "consumer", "NYX", 47.0, 1_200, 61_000),
    "FNBK": ("Fenwick Bank", "financials", "NYX", 39.0, 2_100, 27_000),
    "GLXY": ("Galaxy Semiconductors", "technology", "NYX", 310.0, 250, 18_000),
    "HLIX": ("Helix Biotech", "healthcare", "NYX", 75.0, 180, 4_200),
    "IONX": ("Ion Battery Works", "energy", "NYX", 23.0, 640, 7_800),
    "KRNL": ("Kernel Cloud", "technology", "NYX", 265.0, 330, 12_500),
    "MRDN": ("Meridian Insurance", "financials", "LNX", 54.0, 780, 16_000),
    "NOVA": ("Nova Airlines", "industrials", "LNX", 19.0, 1_500, 38_000),
    "ORBT": ("Orbital Media", "consumer", "LNX", 142.0, 260, 9_100),
    "RHNE": ("Rhine Chemie", "industrials", "EUX", 96.0, 610, 44_000),
    "SEIN": ("Seine Luxe", "consumer", "EUX", 410.0, 120, 23_000),
    "VOLT": ("Voltaic Grid", "energy", "EUX", 31.0, 1_800, 19_500),
}
EXCHANGE_CURRENCY = {"NYX": "USD", "LNX": "GBP", "EUX": "EUR"}
SECTORS = ["consumer", "energy", "financials", "healthcare", "industrials", "technology"]
INDICES = {
    "RTX Composite": SECTORS,
    "RTX Growth": ["healthcare", "technology"],
    "RTX Value": ["consumer", "energy", "financials", "industrials"],
}
USD_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "CHF": 0.88, "JPY": 151.0}
ACCOUNT_CURRENCIES = ["USD", "USD", "USD", "EUR", "GBP", "CHF"]
ACCOUNT_TYPES = ["individual", "joint", "retirement"]
FIRST_NAMES = ["Alice", "Bruno", "Carla", "Dmitri", "Elena", "Felix", "Greta", "Hassan", "Iris", "Jun"]
LAST_NAMES = ["Adams", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Huang", "Ito", "Jensen"]
PAYEES = [
    ("Northwind Utilities", "USD"),
    ("Harbor Property Rentals", "USD"),
    ("Alpine Insurance AG", "CHF"),
    ("Thames Water Services", "GBP"),
    ("Lumiere Telecom", "EUR"),
    ("Sakura Tuition Office", "JPY"),
]
HISTORY_DAYS = 160  # trading days of price history
MENTIONED_DAYS = 30  # the most recent trading days, the ones tasks mention
COMMISSION_RATE = 0.001
MIN_COMMISSION = 1.0
TERM_RATE_PREMIUM = {12: 0.0, 24: 0.25, 36: 0.5, 60: 1.0}
