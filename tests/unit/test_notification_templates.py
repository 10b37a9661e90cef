"""Notification templates are pure functions of a payload and the facts about one recipient;
and the other pure pieces of the worker: retry delays, dedupe keys, delivery settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from server.contracts.enums import RefundDestination
from server.contracts.notifications import (
    Announcement,
    BookingCancelled,
    BookingConfirmed,
    BookingReminder,
    MovieOnSale,
    RefundIssued,
    SeatsMoved,
    ShowCancelled,
    WaitlistOffered,
)
from server.domain.notifications import templates
from server.domain.notifications.providers import DeliverySettings, load_settings
from server.domain.notifications.templates import (
    TOPICS,
    BookingFacts,
    MissingFacts,
    Occasion,
    Recipient,
    ShowFacts,
)
from server.domain.notifications.worker import dedupe_key, retry_delay
from server.settings import SettingsError

STARTS = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # 14:30 in Mumbai
SHOW = ShowFacts(
    movie_title="The Long Night",
    theater_name="Regal Colaba",
    theater_address="1 Shahid Bhagat Singh Road",
    screen_name="Screen 2",
    starts_at=STARTS,
    timezone="Asia/Kolkata",
)
ANN = Recipient(uuid.uuid4(), "Ann", "ann@example.test", "+91 98200 00000")
BOOKING = BookingFacts(code="K7PQ2M9X", currency="INR", seats=("E7", "E8"), pickup_code="HX42QP")
AT_THE_SHOW = Occasion(ANN, show=SHOW, booking=BOOKING)
WHEN = "Sun 22 Nov 2026, 14:30 IST"


def confirmed(**changes: object) -> BookingConfirmed:
    payload = {
        "booking_id": str(uuid.uuid4()),
        "code": "K7PQ2M9X",
        "status": "CONFIRMED",
        "user_id": str(uuid.uuid4()),
        "show_id": str(uuid.uuid4()),
        "seats": ["E7", "E8"],
        "total_minor": 66080,
        "currency": "INR",
    }
    # Exactly what checkout writes, decoded the way the worker decodes it.
    return msgspec.convert(payload | changes, BookingConfirmed)


def test_confirmation_says_code_show_local_time_seats_total_and_pickup() -> None:
    letter = templates.booking_confirmed(confirmed(), AT_THE_SHOW)
    assert letter.subject == "Your tickets: The Long Night on Sun 22 Nov 14:30 (booking K7PQ2M9X)"
    body = letter.body
    assert body.startswith("Hello Ann,\n\nYour booking is confirmed.")
    for fact in (
        "Booking code   K7PQ2M9X",
        f"When           {WHEN}",
        "Where          Regal Colaba, Screen 2",
        "Address        1 Shahid Bhagat Singh Road",
        "Seats          E7, E8",
        "Total paid     660.80 INR",
        "pickup code HX42QP at the snack counter",
    ):
        assert fact in body
    assert body.rstrip().endswith("Regal Colaba")
    assert "K7PQ2M9X" in letter.sms and "seats E7, E8" in letter.sms


def test_confirmation_without_snacks_has_no_snack_line() -> None:
    occasion = Occasion(ANN, show=SHOW, booking=BookingFacts("K7PQ2M9X", "INR", ("E7",), None))
    assert "Snacks" not in templates.booking_confirmed(confirmed(), occasion).body


def test_a_booking_under_review_is_received_not_confirmed() -> None:
    letter = templates.booking_confirmed(confirmed(status="REVIEW"), AT_THE_SHOW)
    assert letter.subject.startswith("Booking K7PQ2M9X received")
    assert "routine check" in letter.body and "is confirmed" not in letter.body


def test_local_time_follows_the_theater_timezone_and_daylight_saving() -> None:
    assert templates.local_time(STARTS, "Asia/Kolkata") == WHEN
    # New York leaves daylight saving on 1 Nov 2026: the same UTC hour reads an hour earlier.
    summer = datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert templates.local_time(summer, "America/New_York") == "Sat 31 Oct 2026, 18:00 EDT"
    winter = summer + timedelta(days=2)
    assert templates.local_time(winter, "America/New_York") == "Mon 02 Nov 2026, 17:00 EST"


def test_part_cancellation_names_the_seats_kept_and_the_refund() -> None:
    kept = Occasion(ANN, show=SHOW, booking=BookingFacts("K7PQ2M9X", "INR", ("E8",), None))
    event = BookingCancelled(booking_id=uuid.uuid4(), seats=["E7"], refund_minor=25000)
    letter = templates.booking_cancelled(event, kept)
    assert letter.subject == "Seats cancelled in booking K7PQ2M9X"
    assert "We have cancelled seat E7 of your booking K7PQ2M9X" in letter.body
    assert "You still hold seat E8." in letter.body
    assert "You will get 250.00 INR back" in letter.body


def test_part_cancellation_says_the_ticket_was_reissued_and_the_old_one_is_void() -> None:
    kept = Occasion(ANN, show=SHOW, booking=BookingFacts("K7PQ2M9X", "INR", ("E8",), None))
    event = BookingCancelled(
        booking_id=uuid.uuid4(), seats=["E7"], refund_minor=25000, ticket_seats=["E8"]
    )
    letter = templates.booking_cancelled(event, kept)
    assert "You still hold seat E8, on a new ticket: its QR code replaces the old one" in (
        letter.body
    )
    assert "no longer opens the door" in letter.body
    assert "booking code K7PQ2M9X stays the same" in letter.body
    assert "Your old ticket no longer works" in letter.sms and "seat E8" in letter.sms
    # Without a reissued ticket (say, a booking that had none) nothing is said about one.
    plain = templates.booking_cancelled(msgspec.structs.replace(event, ticket_seats=[]), kept)
    assert "You still hold seat E8." in plain.body and "new ticket" not in plain.body
    assert "old ticket" not in plain.sms


def test_whole_cancellation_without_refund_says_so() -> None:
    gone = Occasion(ANN, show=SHOW, booking=BookingFacts("K7PQ2M9X", "INR", (), None))
    letter = templates.booking_cancelled(
        BookingCancelled(booking_id=uuid.uuid4(), reason="asked by the customer"), gone
    )
    assert letter.subject == "Booking K7PQ2M9X cancelled"
    assert "Reason: asked by the customer" in letter.body
    assert "No refund is due" in letter.body and "still hold" not in letter.body


@pytest.mark.parametrize(
    ("destination", "where"),
    [
        (RefundDestination.ORIGINAL, "card or account you paid with"),
        (RefundDestination.WALLET, "wallet"),
    ],
)
def test_refund_says_how_much_and_where_it_goes(destination, where) -> None:
    event = RefundIssued(booking_id=uuid.uuid4(), amount_minor=33040, destination=destination)
    letter = templates.refund_issued(event, AT_THE_SHOW)
    assert letter.subject == "Refund of 330.40 INR for booking K7PQ2M9X"
    assert where in letter.body


def test_show_cancelled_apologises_with_reason_and_refund() -> None:
    event = ShowCancelled(booking_id=uuid.uuid4(), reason="projector failure", refund_minor=66080)
    letter = templates.show_cancelled(event, AT_THE_SHOW)
    assert letter.subject == "Show cancelled: The Long Night on Sun 22 Nov 14:30"
    assert "is cancelled (projector failure)" in letter.body
    assert "Your booking K7PQ2M9X is cancelled with it" in letter.body
    assert "660.80 INR back" in letter.body


def test_waitlist_offer_gives_the_deadline_on_the_theater_clock() -> None:
    event = WaitlistOffered(
        entry_id=uuid.uuid4(),
        user_id=ANN.user_id or uuid.uuid4(),
        show_id=uuid.uuid4(),
        hold_id=uuid.uuid4(),
        seat_ids=[uuid.uuid4(), uuid.uuid4()],
        expires_at=datetime(2026, 11, 20, 9, 10, tzinfo=UTC),
    )
    letter = templates.waitlist_offered(event, Occasion(ANN, show=SHOW))
    assert "2 seats opened up" in letter.body
    assert "until Fri 20 Nov 2026, 14:40 IST" in letter.body
    assert "Open your holds in the app" in letter.body
    assert "Book before Fri 20 Nov 2026, 14:40 IST" in letter.sms

    # A guest put on the list at the counter has no login: they book at the box office.
    counter = msgspec.structs.replace(event, at_box_office=True)
    letter = templates.waitlist_offered(counter, Occasion(ANN, show=SHOW))
    assert "Come to the box office at Regal Colaba, 1 Shahid Bhagat Singh Road" in letter.body
    assert "in the app" not in letter.body
    assert "Book at the Regal Colaba box office before Fri 20 Nov" in letter.sms


def test_seat_move_lists_each_move() -> None:
    # The payload exactly as the admin seat repair writes it.
    payload = {
        "booking_id": str(uuid.uuid4()),
        "show_id": str(uuid.uuid4()),
        "reason": "broken seat",
        "moves": [{"from": "G5", "to": "H15"}],
    }
    event = msgspec.convert(payload, SeatsMoved)
    letter = templates.seats_moved(event, AT_THE_SHOW)
    assert "(broken seat)" in letter.body and "G5   is now H15" in letter.body
    assert "G5→H15" in letter.sms


def test_announcement_mentions_the_booking_when_there_is_one() -> None:
    event = Announcement(subject="Parking closed", message="The car park is closed today.")
    about_booking = templates.announcement(event, AT_THE_SHOW)
    assert about_booking.subject == "Parking closed"
    assert "This is about your booking K7PQ2M9X" in about_booking.body
    plain = templates.announcement(event, Occasion(ANN))
    assert "booking" not in plain.body and plain.body.rstrip().endswith(templates.SIGNATURE)


def test_reminder_says_show_local_time_seats_code_and_pickup() -> None:
    letter = templates.booking_reminder(BookingReminder(booking_id=uuid.uuid4()), AT_THE_SHOW)
    assert letter.subject == "Reminder: The Long Night on Sun 22 Nov 14:30 (booking K7PQ2M9X)"
    assert letter.body.startswith("Hello Ann,\n\nA reminder: your show is coming up")
    for fact in (
        "Booking code   K7PQ2M9X",
        f"When           {WHEN}",
        "Where          Regal Colaba, Screen 2",
        "Seats          E7, E8",
        "Snacks         pickup code HX42QP at the snack counter",
    ):
        assert fact in letter.body
    assert "Total paid" not in letter.body
    assert letter.sms == (
        "Reminder: The Long Night on Sun 22 Nov 14:30, Regal Colaba Screen 2, seats E7, E8. "
        "Booking K7PQ2M9X. Snacks: pickup code HX42QP."
    )
    cancelled = Occasion(ANN, show=SHOW, booking=BookingFacts("K7PQ2M9X", "INR", (), None))
    with pytest.raises(MissingFacts, match="holds no seats"):
        templates.booking_reminder(BookingReminder(booking_id=uuid.uuid4()), cancelled)


def test_on_sale_alert_names_the_movie_city_and_first_show() -> None:
    event = MovieOnSale(
        alert_id=uuid.uuid4(), user_id=ANN.user_id, show_id=uuid.uuid4(), city="Mumbai"
    )
    letter = templates.movie_on_sale(event, Occasion(ANN, show=SHOW))
    assert letter.subject == "The Long Night is on sale in Mumbai"
    assert "You asked us to tell you when The Long Night is on sale in Mumbai" in letter.body
    assert f"When      {WHEN}" in letter.body and "Regal Colaba, Screen 2" in letter.body
    assert letter.sms == (
        "The Long Night is on sale in Mumbai: first show Sun 22 Nov 14:30 at Regal Colaba. "
        "Book in the app."
    )


def test_every_topic_has_a_template_and_booking_templates_need_a_booking() -> None:
    assert set(TOPICS) == {
        "booking.confirmed",
        "booking.cancelled",
        "refund.issued",
        "show.cancelled",
        "waitlist.offered",
        "booking.seats_moved",
        "announcement",
        "booking.reminder",
        "release.on_sale",
    }
    with pytest.raises(MissingFacts):
        templates.booking_confirmed(confirmed(), Occasion(ANN))


# -- the worker's pure rules -----------------------------------------------------------------


def test_retry_delay_doubles_from_30_seconds_up_to_an_hour() -> None:
    delays = [retry_delay(attempt).total_seconds() for attempt in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays[-1] == 3600 and max(delays) == 3600


def test_dedupe_key_names_event_channel_recipient_and_fits_its_column() -> None:
    assert dedupe_key(42, "email", "ann@example.test") == "42:email:ann@example.test"
    long_address = "a" * 250 + "@example.test"
    key = dedupe_key(42, "email", long_address)
    assert len(key) <= 200 and key.startswith("42:email:sha256:")
    assert key == dedupe_key(42, "email", long_address)


def test_delivery_settings_from_the_environment() -> None:
    assert load_settings({}) == DeliverySettings()
    settings = load_settings(
        {
            "BMS_SMTP_HOST": "mail.example.test",
            "BMS_SMTP_PORT": "2525",
            "BMS_SMTP_STARTTLS": "false",
            "BMS_SMTP_USER": "bms",
            "BMS_SMTP_PASSWORD": "pw",
            "BMS_SMS_PROVIDER": "https://sms.example.test/send",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "mail.example.test",
        2525,
        False,
    )
    assert settings.sms_provider == "https://sms.example.test/send"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"BMS_SMTP_PORT": "smtp"}, "BMS_SMTP_PORT"),
        ({"BMS_SMTP_PORT": "70000"}, "BMS_SMTP_PORT"),
        ({"BMS_SMTP_STARTTLS": "maybe"}, "BMS_SMTP_STARTTLS"),
        ({"BMS_SMTP_PASSWORD": "pw"}, "BMS_SMTP_USER"),
        ({"BMS_SMS_PROVIDER": "carrier-pigeon"}, "BMS_SMS_PROVIDER"),
    ],
)
def test_a_bad_delivery_setting_is_named(environ, named) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)
