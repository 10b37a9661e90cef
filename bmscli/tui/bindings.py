"""Every key binding of the app, as data: the screens take theirs from here and the help
screen lists them from here, so the two can never disagree.

``h`` is a seat-map cursor key (vim style), so no action uses it.
"""

from __future__ import annotations

from textual.binding import Binding

from bmscli.tui.widgets.seat_map import SeatMap

APP = [
    Binding("f1", "help", "Help", id="app.help"),
    Binding("question_mark", "help", "Help", show=False, id="app.help_mark"),
    Binding("f2", "bookings", "Bookings", id="app.bookings"),
]
# The kiosk's way out for staff: not shown in the footer or the customers' help screen.
KIOSK_EXIT = Binding("ctrl+x", "staff_exit", "Staff exit", show=False, priority=True)

START_OVER = Binding("escape", "start_over", "Start over", id="kiosk.start_over")

BACK = Binding("escape", "back", "Back", id="back")

BROWSE = [
    # Priority: the title typed right behind "/" goes into the search box (action_search).
    Binding("slash", "search", "Search", id="browse.search", priority=True),
    Binding("n", "status('now_showing')", "Now showing", id="browse.now"),
    Binding("u", "status('upcoming')", "Upcoming", id="browse.upcoming"),
    Binding("c", "focus_widget('city')", "City", id="browse.city"),
    Binding("f", "focus_widget('language')", "Filters", id="browse.filters"),
    Binding("m", "focus_widget('movies')", "Movies", show=False, id="browse.movies"),
]

MOVIE = [
    BACK,
    Binding("s,enter", "showtimes", "Showtimes", id="movie.showtimes"),
]

SHOWTIMES = [
    BACK,
    Binding("left_square_bracket,comma", "day(-1)", "Day before", id="showtimes.earlier"),
    Binding("right_square_bracket,full_stop", "day(1)", "Day after", id="showtimes.later"),
]

SEATS = [
    BACK,
    Binding("b", "best_available", "Best seats", id="seats.best"),
    Binding("p", "proceed", "Hold & pay", id="seats.proceed"),
    Binding("r", "release", "Release", id="seats.release"),
    Binding("w", "waitlist", "Waiting list", id="seats.waitlist"),
    Binding("c", "clear", "Clear", id="seats.clear"),
    Binding("a", "accessible", "Accessible", id="seats.accessible"),
]

CHECKOUT = [
    Binding("escape", "back", "Back to seats", id="checkout.back"),
    Binding("f10", "pay", "Pay", id="checkout.pay"),
    Binding("f6", "no_snacks", "No snacks", show=False, id="checkout.no_snacks"),
]

TICKET = [
    Binding("escape", "done", "Done", id="ticket.done"),
    Binding("s", "save", "Save / print", id="ticket.save"),
]

BOOKINGS = [
    BACK,
    Binding("slash", "focus_lookup", "Find", id="bookings.find"),
    Binding("x", "cancel_booking", "Cancel seats", id="bookings.cancel"),
    Binding("p", "book_offer", "Book waiting-list offer", id="bookings.book_offer"),
]

REFUND_QUOTE = [
    Binding("escape,n", "keep", "Keep booking", id="refund.keep"),
    Binding("y", "confirm", "Cancel and refund", id="refund.confirm"),
]

HELP = [Binding("escape,f1,q", "close", "Close")]

# What the help screen lists, in order: (section title, bindings).
HELP_SECTIONS: list[tuple[str, list[Binding]]] = [
    ("Everywhere", APP),
    ("Movies", BROWSE),
    ("A movie", MOVIE),
    ("Showtimes", SHOWTIMES),
    ("Seats", [*SeatMap.BINDINGS, *SEATS]),
    ("Checkout", CHECKOUT),
    ("Ticket", TICKET),
    ("Bookings (staff)", [*BOOKINGS, *REFUND_QUOTE]),
]
