"""Ranking recommendations on plain data: (Hypothesis) at most ``limit`` results, best first,
in an order that depends only on the data; and what a profile's preferences may hold."""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from server.contracts.api import MovieOut
from server.domain.recommendations.queries import Taste
from server.domain.recommendations.services import Candidate, Likes, likes, rank

NAMES = ["Sci-Fi", "Drama", "Romance", "English", "Hindi"]


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    found = []
    for index in range(draw(st.integers(0, 8))):
        co_bookings = draw(st.integers(0, 3))
        found.append(
            Candidate(
                movie=MovieOut(
                    movie_id=uuid.UUID(int=index),
                    title=draw(st.sampled_from(["Arrival", "Cars", "Dune"])),
                    genres=draw(st.lists(st.sampled_from(NAMES[:3]), unique=True)),
                    languages=draw(st.lists(st.sampled_from(NAMES[3:]), unique=True)),
                    duration_minutes=120,
                    certification="U",
                    release_date=date(2026, 11, 1),
                ),
                co_bookings=co_bookings,
                because="Interstellar" if co_bookings else None,
                tickets_sold=draw(st.integers(0, 3)),
            )
        )
    return found


liked = st.builds(
    Likes,
    stated=st.frozensets(st.sampled_from([n.lower() for n in NAMES])),
    booked=st.frozensets(st.sampled_from([n.lower() for n in NAMES])),
)


@given(candidates(), liked, st.sampled_from([None, "Mumbai"]), st.integers(1, 10), st.randoms())
def test_ranking_is_best_first_within_the_limit_and_ignores_input_order(
    found: list[Candidate], taste: Likes, place: str | None, limit: int, shuffler
) -> None:
    ranked = rank(found, taste, place, limit)
    assert len(ranked) == min(limit, len(found))
    keys = [(-r.score, -r.tickets_sold, r.movie.title, r.movie.movie_id) for r in ranked]
    assert keys == sorted(keys)
    shuffled = list(found)
    shuffler.shuffle(shuffled)
    assert rank(shuffled, taste, place, limit) == ranked
    by_id = {c.movie.movie_id: c for c in found}
    for r in ranked:
        co_bookings = by_id[r.movie.movie_id].co_bookings
        assert r.score >= co_bookings
        assert r.reason.startswith("Booked by people who also booked") == (co_bookings > 0)


def test_only_lists_of_names_in_a_profile_count_as_likes() -> None:
    taste = Taste(
        preferences={"genres": ["Sci-Fi", 3], "languages": "Hindi", "contact_email": "a@b.c"},
        booked_genres=["Drama"],
        booked_languages=["English"],
    )
    assert likes(taste) == Likes(
        stated=frozenset({"sci-fi"}), booked=frozenset({"drama", "english"})
    )
