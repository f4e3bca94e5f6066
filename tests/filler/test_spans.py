"""Candidate values of a request: words, spans, quotes, dates and lists, with exact character offsets."""

from __future__ import annotations

from raytool.filler.spans import extract, iso_date, list_items, words


def test_words_trim_surrounding_punctuation_and_keep_inner_punctuation() -> None:
    text = 'Deploy "app.py" to 192.168.77.71, (ID: x-9).'
    assert [text[a:b] for a, b in words(text)] == ["Deploy", "app.py", "to", "192.168.77.71", "ID", "x-9"]


def test_spans_are_original_substrings_and_quotes_give_their_content() -> None:
    text = 'Provide the marketing insights for the film "Avengers: Endgame" on Facebook.'
    cands = extract(text)
    by_text = {c.text: c for c in cands.items}
    assert "Avengers: Endgame" in by_text
    for cand in cands.items:
        assert text[cand.start : cand.end] == cand.text
    quoted = [c for c in cands.items if c.kind == "quoted"]
    assert [c.text for c in quoted] == ["Avengers: Endgame"]
    assert max(c.words for c in cands.items if c.kind == "span") == 6


def test_dates_get_their_iso_value_and_impossible_dates_none() -> None:
    text = "Find rooms from November 25, 2013, to 7 January 2006 or 02/30/2020."
    dates = {c.text: c.value for c in extract(text).items if c.kind == "date"}
    assert dates == {"November 25, 2013": "2013-11-25", "7 January 2006": "2006-01-07"}
    assert iso_date(2020, 2, 30) is None


def test_long_requests_are_cut_and_say_so() -> None:
    cands = extract("word " * 5000, max_chars=2000)
    assert cands.truncated
    assert max(c.end for c in cands.items) <= 2000


def test_a_possessive_also_offers_the_name_without_its_s() -> None:
    texts = {c.text for c in extract("Show me traveller tr-104's profile and Ana’s budget.").items}
    assert {"tr-104", "tr-104's", "Ana", "Ana’s", "traveller tr-104"} <= texts
    plain = extract("Cancel order ord-0001 for Paris")
    assert len(plain.items) == len({(c.start, c.end, c.kind) for c in plain.items}) == 15  # 5 words: 15 runs, no extra


def test_a_currency_amount_and_a_number_with_a_hyphenated_unit_also_offer_the_bare_number() -> None:
    text = "Donate $20.5 for a 23-year-old on a 60-month plan."
    offered = {(c.text, text[c.start : c.end]) for c in extract(text).items if c.kind == "span"}
    assert {("20.5", "20.5"), ("$20.5", "$20.5"), ("23", "23"), ("23-year-old", "23-year-old"), ("60", "60")} <= offered
    assert not any(c.text in ("year-old", "year", "-year-old") for c in extract(text).items)


def test_a_list_joined_with_and_offers_its_items_joined_by_commas() -> None:
    text = "Email john@example.com and mary@example.com about headache, nausea, and dizziness."
    lists = {c.text: c.value for c in extract(text).items if c.kind == "list"}
    assert lists["john@example.com and mary@example.com"] == "john@example.com, mary@example.com"
    assert lists["headache, nausea, and dizziness"] == "headache, nausea, dizziness"
    assert lists["nausea, and dizziness"] == "nausea, dizziness"
    # runs that start or end on a function word, or whose two items differ in length, are no lists
    assert not any(k.startswith(("Email", "about")) or k.endswith("and") for k in lists)
    assert all(text[c.start : c.end] == c.text for c in extract(text).items)
    assert list_items("the cat and dog") is None and list_items("tea and long cakes") is None
    assert list_items("eggs, milk, and brown bread") == ["eggs", "milk", "brown bread"]
    assert list_items("cats and dogs") == ["cats", "dogs"] and list_items("cats or dogs") is None
