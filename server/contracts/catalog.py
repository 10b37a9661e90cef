"""Catalog shapes beyond the core ones in ``api.py``: theater details, search suggestions,
reviews, recommendations and the server's self-description (``/api/v1/meta``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from server.contracts.api import MovieOut, ScreenOut, TheaterOut


class MovieStatus(StrEnum):
    NOW_SHOWING = "now_showing"
    UPCOMING = "upcoming"


class MovieSort(StrEnum):
    TITLE = "title"
    RELEASE = "release"
    RATING = "rating"
    POPULARITY = "popularity"


class TheaterDetailOut(TheaterOut, kw_only=True):
    screens: list[ScreenOut] = []


class SnackItemOut(msgspec.Struct, kw_only=True):
    """One item of a theater's snack menu; the price includes its tax. Order it by
    ``item_id`` in a quote or booking (``snacks: [{item_id, quantity}]``)."""

    item_id: UUID
    name: str
    category: str
    price_minor: int
    currency: str


class MovieSuggestion(msgspec.Struct, kw_only=True):
    """One search-as-you-type hit: just enough to show and pick."""

    movie_id: UUID
    title: str
    year: int


class ReviewCreate(msgspec.Struct, kw_only=True):
    rating: int
    text: str = ""


class ReviewOut(msgspec.Struct, kw_only=True):
    review_id: UUID
    movie_id: UUID
    user_id: UUID
    user_name: str
    rating: int
    text: str
    created_at: datetime


class DemoAccount(msgspec.Struct, kw_only=True):
    email: str
    password: str
    role: str
    note: str = ""


class MetaOut(msgspec.Struct, kw_only=True):
    """What a client shows before login: the version, and the demo accounts when the demo
    data is loaded (never real accounts)."""

    version: str
    demo: bool
    demo_accounts: list[DemoAccount] = []


class RecommendationOut(msgspec.Struct, kw_only=True):
    """A movie now showing that the caller has not booked, picked for them.

    ``score`` ranks it: one point per other customer who booked it and a movie you booked,
    plus a little for each of your genres and languages it has; ``tickets_sold`` (in the
    popularity window) breaks ties; ``reason`` says why in a sentence, e.g. "Booked by people
    who also booked Interstellar"."""

    movie: MovieOut
    score: float
    reason: str
    tickets_sold: int
