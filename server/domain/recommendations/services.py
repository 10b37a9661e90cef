"""Recommendation rules: blend co-bookings, stated and booked taste, and popularity, and say why.

A candidate's score is ``CO_BOOKING_WEIGHT`` per co-booking (see ``queries.candidates``), plus
``STATED_WEIGHT`` per genre or language of the movie the user lists in their profile
preferences, plus ``BOOKED_WEIGHT`` per one they only booked before. Tickets sold in the
popularity window break ties, then the title, then the id, so equal data gives equal answers;
for someone with no history and no preferences popularity is the whole ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import Clock
from server.contracts import api
from server.contracts.catalog import RecommendationOut
from server.domain.accounts.principal import Principal
from server.domain.catalog.services import movie_out, resolve_city
from server.domain.recommendations import queries

# What people did outweighs what a profile says, and a stated taste outweighs one guessed from
# bookings: two matching genres or languages count as much as one co-booking.
CO_BOOKING_WEIGHT = 1.0
STATED_WEIGHT = 0.5
BOOKED_WEIGHT = 0.25


@dataclass(frozen=True, slots=True)
class Likes:
    """Genres and languages (lower-cased): ``stated`` in the profile, ``booked`` from history."""

    stated: frozenset[str]
    booked: frozenset[str]


@dataclass(frozen=True, slots=True)
class Candidate:
    movie: api.MovieOut
    co_bookings: int
    # The user's movie that most of those people booked.
    because: str | None
    tickets_sold: int


def _names(value: object) -> list[str]:
    """A profile preference list; anything but a list of names counts as none."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def likes(taste: queries.Taste) -> Likes:
    stated = [*_names(taste.preferences.get("genres")), *_names(taste.preferences.get("languages"))]
    return Likes(
        stated=frozenset(name.lower() for name in stated),
        booked=frozenset(name.lower() for name in [*taste.booked_genres, *taste.booked_languages]),
    )


def _recommendation(candidate: Candidate, liked: Likes, place: str | None) -> RecommendationOut:
    movie = candidate.movie
    names = [*movie.genres, *movie.languages]
    stated = [name for name in names if name.lower() in liked.stated]
    booked = [name for name in names if name.lower() in liked.booked - liked.stated]
    score = (
        CO_BOOKING_WEIGHT * candidate.co_bookings
        + STATED_WEIGHT * len(stated)
        + BOOKED_WEIGHT * len(booked)
    )
    if candidate.because is not None:
        reason = f"Booked by people who also booked {candidate.because}"
    elif stated:
        reason = f"Because you like {stated[0]}"
    elif booked:
        reason = f"Because you booked {booked[0]} movies before"
    elif candidate.tickets_sold:
        reason = f"Popular in {place}" if place else "Popular right now"
    else:
        reason = f"Now showing in {place}" if place else "Now showing"
    return RecommendationOut(
        movie=movie, score=score, reason=reason, tickets_sold=candidate.tickets_sold
    )


def rank(
    candidates: Iterable[Candidate], liked: Likes, place: str | None, limit: int
) -> list[RecommendationOut]:
    """The best ``limit`` candidates, best first; the order depends only on the data."""
    scored = [_recommendation(candidate, liked, place) for candidate in candidates]
    scored.sort(key=lambda r: (-r.score, -r.tickets_sold, r.movie.title, r.movie.movie_id))
    return scored[:limit]


def _candidates(rows: Sequence[queries.CandidateRow]) -> list[Candidate]:
    return [
        Candidate(movie=movie_out(movie), co_bookings=people, because=because, tickets_sold=sold)
        for movie, people, because, sold in rows
    ]


async def recommend(
    session: AsyncSession, clock: Clock, principal: Principal, *, city: str | None, limit: int
) -> list[RecommendationOut]:
    """Movies with a bookable show soon (in the city) that the caller has not booked yet."""
    key = (city or "").strip()
    found = await resolve_city(session, key) if key else None
    audience = queries.Audience(
        user_id=principal.user_id, now=clock.now(), city_id=found.id if found else None
    )
    rows = await queries.candidates(session, audience)
    liked = likes(await queries.taste(session, principal.user_id))
    return rank(_candidates(rows), liked, found.name if found else None, limit)
