"""The Jinja filters that turn values into words: labels of keys, the one date format."""

from __future__ import annotations

from datetime import UTC, date, datetime

from coterie.web.templating import label, templates


def test_keys_read_as_labels_and_free_text_is_left_alone() -> None:
    assert label("partner_approval") == "Partner approval"
    assert label("it-services") == "IT services"
    assert label("closed-won") == "Closed won"
    assert label("EMEA push for Q3") == "EMEA push for Q3"  # not a key: as typed
    assert label("Develop") == "Develop"


def test_dates_have_one_format() -> None:
    page = templates.env.from_string("{{ d | date }} / {{ t | date }} / {{ none | date }}")
    moment = datetime(2027, 1, 21, 23, 30, tzinfo=UTC)
    assert page.render(d=date(2027, 1, 21), t=moment, prefs=None) == "21 Jan 2027 / 21 Jan 2027 / —"
