"""A tiny hand-made tool catalogue and tasks over it, shared by the proposer tests (not a test module)."""

from __future__ import annotations

from raytool.tools.call import ToolCall
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

# name -> (domain, description, {parameter: description})
TOOLS: dict[str, tuple[str, str, dict[str, str]]] = {
    "get_weather": ("Travel/Weather", "Get the current weather forecast for a city",
                    {"city": "Name of the city", "date": "Day of the forecast"}),
    "book_flight": ("Travel/Flights", "Book a flight ticket between two airports",
                    {"origin": "Departure airport", "destination": "Arrival airport"}),
    "book_hotel": ("Travel/Hotels", "Reserve a hotel room in a city",
                   {"city": "City of the hotel", "nights": "Number of nights"}),
    "convert_currency": ("Finance/Exchange", "Convert an amount of money from one currency to another",
                         {"amount": "Amount of money", "currency": "Target currency code"}),
    "get_stock_price": ("Finance/Markets", "Look up the latest stock price of a company",
                        {"ticker": "Stock ticker symbol"}),
    "calculate_loan": ("Finance/Banking", "Calculate the monthly payment of a loan",
                       {"principal": "Loan principal", "rate": "Annual interest rate"}),
    "send_email": ("Office/Mail", "Send an email message to a recipient",
                   {"recipient": "Email address", "body": "Message text"}),
    "schedule_meeting": ("Office/Calendar", "Schedule a meeting in the calendar",
                         {"time": "Start time", "attendees": "People invited"}),
    "translate_text": ("Language/Translation", "Translate text into another language",
                       {"text": "Text to translate", "language": "Target language"}),
    "summarize_text": ("Language/Summaries", "Summarize a long document into a short paragraph",
                       {"document": "The document to summarize"}),
    "get_recipe": ("Food/Cooking", "Find a cooking recipe for a dish", {"dish": "Name of the dish"}),
    "order_pizza": ("Food/Delivery", "Order a pizza for home delivery",
                    {"size": "Pizza size", "address": "Delivery address"}),
}  # fmt: skip

# (query, gold tools in call order)
TASKS: list[tuple[str, list[str]]] = [
    ("Book a flight ticket from Paris to Rome. Then tell me the weather forecast in Rome.",
     ["book_flight", "get_weather"]),
    ("What is the weather forecast in Oslo tomorrow?", ["get_weather"]),
    ("Convert 100 dollars to euros.", ["convert_currency"]),
    ("Look up the stock price of ACME. Then convert that amount of money to yen.",
     ["get_stock_price", "convert_currency"]),
    ("Send an email to bob@example.com saying hello.", ["send_email"]),
    ("Schedule a meeting with Alice at noon. Then send an email message to Alice with the agenda.",
     ["schedule_meeting", "send_email"]),
    ("Translate this sentence into French.", ["translate_text"]),
    ("Summarize this long document. Then translate the summary into German.", ["summarize_text", "translate_text"]),
    ("Find a recipe for lasagna.", ["get_recipe"]),
    ("Reserve a hotel room in Rome for three nights. Then book a flight ticket to Rome.",
     ["book_hotel", "book_flight"]),
    ("Calculate the monthly payment of a loan of 20000 at 5 percent.", ["calculate_loan"]),
    ("Order a large pizza to my address.", ["order_pizza"]),
]  # fmt: skip


def tool(name: str, domain: str, description: str, params: dict[str, str]) -> ToolSpec:
    props = {p: {"type": "string", "description": d} for p, d in params.items()}
    return ToolSpec(name, description, {"type": "object", "properties": props, "required": []}, domain=domain)


def catalogue() -> dict[str, ToolSpec]:
    return {name: tool(name, *spec) for name, spec in TOOLS.items()}


def task(task_id: str, query: str, names: list[str]) -> Task:
    return Task(task_id, query, tuple(ToolCall(n, {}) for n in names))


def tasks() -> list[Task]:
    return [task(f"t{i}", query, names) for i, (query, names) in enumerate(TASKS)]


def extra_tools() -> list[ToolSpec]:
    """Two tools that are not in `catalogue()` (to grow a catalogue)."""
    return [
        tool("track_parcel", "Office/Shipping", "Track the delivery status of a parcel", {"code": "Tracking code"}),
        tool("find_cinema", "Leisure/Movies", "Find cinemas showing a movie nearby", {"movie": "Movie title"}),
    ]
