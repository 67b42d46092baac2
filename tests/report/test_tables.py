"""The report's content: the services' figures joined into sessions, totals and tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import get_args

from shared.contract.notifications import EmailKind
from shared.report.tables import EMAIL_KINDS, build, tables
from tests.report.builders import NOW, busy_year, months, places, session, sources


def test_a_session_joins_its_outline_with_its_places_attendance_and_ratings():
    report = build(busy_year(), now=NOW)

    first = report.sessions[0]
    assert (first.title, first.status) == ("Gouvernance", "tenue")
    assert (first.enrolled, first.waitlisted, first.attended) == (2, 1, 2)
    assert (first.ratings, first.average_rating) == (2, 4.5)
    assert (first.questions, first.experts_confirmed, first.experts_invited) == (2, 1, 2)
    assert first.report_shared


def test_a_session_the_registration_service_does_not_know_counts_nobody():
    figures = sources(scheduling={"sessions": [session("s9", "2025-03-18T10:00:00+01:00", "X")]})

    [alone] = build(figures, now=NOW).sessions

    assert (alone.enrolled, alone.waitlisted, alone.attended, alone.ratings) == (0, 0, 0, 0)
    assert alone.average_rating is None


def test_a_session_not_over_is_to_come_and_a_cancelled_one_says_so():
    during = datetime.fromisoformat("2025-05-20T11:00:00+02:00")

    statuses = [s.status for s in build(busy_year(), now=during).sessions]

    assert statuses == ["tenue", "à venir", "à venir", "annulée"]
    assert len(build(busy_year(), now=during).held) == 3


def test_turnout_is_the_ballots_per_active_member_in_percent():
    assert build(busy_year(), now=NOW).turnout == 66.7
    assert build(sources(), now=NOW).turnout is None
    nobody = {"version": 1, "ballots": 0, "active_members": 0, "ranking": []}
    assert build(sources(programme={"programme": nobody}), now=NOW).turnout is None


def test_the_year_rating_weighs_each_session_by_its_number_of_ratings():
    # 4.5 from 2 ratings and 3.0 from 1: (9 + 3) / 3
    assert build(busy_year(), now=NOW).average_rating == 4.0
    assert build(sources(), now=NOW).average_rating is None


def test_every_kind_of_email_has_a_french_name_and_an_unknown_one_keeps_its_own():
    assert set(EMAIL_KINDS) == set(get_args(EmailKind))
    names = [e.kind for e in build(busy_year(), now=NOW).emails]
    assert names == ["Invitation à une séance", "Bienvenue dans le groupe", "a_future_kind"]


def test_a_year_with_nothing_recorded_is_empty_and_one_departure_is_not():
    assert build(sources(), now=NOW).empty
    one_departure = sources(registration={"months": months(left={11: 1})})
    assert not build(one_departure, now=NOW).empty
    assert not build(busy_year(), now=NOW).empty


def test_the_sessions_table_has_one_row_per_session_and_no_session_id():
    by_name = {t.name: t for t in tables(build(busy_year(), now=NOW))}

    table = by_name["seances"]

    assert table.columns[:8] == (
        "Date",
        "Titre",
        "Question",
        "Statut",
        "Inscrits",
        "Liste d'attente",
        "Présents",
        "Note moyenne (sur 5)",
    )
    assert table.rows[0][:2] == (date(2025, 3, 18), "Gouvernance")
    assert table.rows[0][3:] == ("tenue", 2, 1, 2, 4.5, 2, 2, 1, 2, "oui")
    assert table.rows[3][3] == "annulée"
    assert not any(cell == "s1" for row in table.rows for cell in row)


def test_the_tables_give_the_months_territories_programme_turnout_and_emails():
    by_name = {t.name: t for t in tables(build(busy_year(), now=NOW))}

    assert by_name["membres-par-mois"].rows[0] == ("janvier", 2, 0)
    assert by_name["membres-par-mois"].rows[5] == ("juin", 0, 1)
    assert len(by_name["membres-par-mois"].rows) == 12
    assert by_name["territoires"].rows[0] == ("Pays Voironnais", 2)
    assert by_name["demarches"].rows == (("PAT", 3), ("SAT", 1))
    assert by_name["programme"].rows == (
        (1, "Gouvernance", 5),
        (2, "Foncier agricole", 2),
        (3, "(sujet retiré)", 2),
    )
    assert by_name["participation-vote"].rows == ((2, 2, 3, 66.7),)
    assert by_name["emails"].rows[0] == ("Invitation à une séance", 9, 1)


def test_a_session_starting_just_after_midnight_in_paris_is_dated_in_paris():
    late = session("s1", "2024-12-31T23:30:00+00:00", "Réveillon")  # 00:30 on 1 January
    figures = sources(scheduling={"sessions": [late]}, registration={"sessions": [places("s1")]})

    [row] = {t.name: t for t in tables(build(figures, now=NOW))}["seances"].rows

    assert row[0] == date(2025, 1, 1)
