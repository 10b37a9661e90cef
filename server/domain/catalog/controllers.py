"""The public catalog: cities, theaters, movies, reviews, shows and the server's meta data.

Reads need no login; posting a review needs a customer token.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Router, get, post
from litestar.params import FromPath, Parameter, QueryParameter

from server.contracts import api
from server.contracts.catalog import (
    MetaOut,
    MovieSuggestion,
    ReviewCreate,
    ReviewOut,
    SnackItemOut,
    TheaterDetailOut,
)
from server.domain.catalog import services as catalog
from server.domain.deps import AppServices, Caller, Db


class PlaceController(Controller):
    tags = ["catalog"]

    @get("/cities", summary="Cities with their timezone, currency and tax rate")
    async def cities(self, db: Db, services: AppServices) -> list[api.CityOut]:
        return await catalog.list_cities(db, services.redis)

    @get("/theaters", summary="Theaters, optionally in one city and nearest first")
    async def theaters(
        self,
        db: Db,
        services: AppServices,
        city: Annotated[str | None, Parameter(description="City name or id")] = None,
        lat: float | None = None,
        lon: float | None = None,
    ) -> list[api.TheaterOut]:
        return await catalog.list_theaters(db, services.redis, city=city, lat=lat, lon=lon)

    @get("/theaters/{theater_id:uuid}", summary="A theater with its screens")
    async def theater(self, theater_id: FromPath[uuid.UUID], db: Db) -> TheaterDetailOut:
        return await catalog.theater_detail(db, theater_id)

    @get(
        "/theaters/{theater_id:uuid}/snacks",
        summary="A theater's snack menu: what can be added to a quote or booking",
    )
    async def snacks(self, theater_id: FromPath[uuid.UUID], db: Db) -> list[SnackItemOut]:
        return await catalog.snack_menu(db, theater_id)

    @get("/meta", summary="Server version and, on a demo server, the demo accounts")
    async def meta(self, db: Db) -> MetaOut:
        return await catalog.meta(db)


class MovieController(Controller):
    path = "/movies"
    tags = ["catalog"]

    @get("/", summary="Movies: filter, search and sort")
    async def movies(
        self,
        db: Db,
        services: AppServices,
        city: Annotated[str | None, Parameter(description="City name or id")] = None,
        q: Annotated[str | None, Parameter(description="Title, cast name or genre")] = None,
        language: str | None = None,
        genre: str | None = None,
        screen_format: Annotated[str | None, QueryParameter(name="format")] = None,
        status: Annotated[str | None, Parameter(description="now_showing or upcoming")] = None,
        sort: Annotated[
            str | None, Parameter(description="title, release, rating or popularity")
        ] = None,
    ) -> list[api.MovieOut]:
        search = catalog.MovieSearch(
            city=city,
            q=q,
            language=language,
            genre=genre,
            screen_format=screen_format,
            status=status,
            sort=sort,
        )
        return await catalog.list_movies(db, services.redis, services.clock, search)

    @get("/autocomplete", summary="Search-as-you-type movie titles")
    async def autocomplete(
        self,
        db: Db,
        q: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=20)] = 8,
    ) -> list[MovieSuggestion]:
        return await catalog.autocomplete(db, q, limit)

    @get("/{movie_id:uuid}", summary="One movie with its average rating")
    async def movie(self, movie_id: FromPath[uuid.UUID], db: Db) -> api.MovieOut:
        return await catalog.movie_detail(db, movie_id)

    @get("/{movie_id:uuid}/reviews", summary="A movie's reviews, newest first")
    async def reviews(
        self,
        movie_id: FromPath[uuid.UUID],
        db: Db,
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        offset: Annotated[int, Parameter(ge=0)] = 0,
    ) -> list[ReviewOut]:
        return await catalog.list_reviews(db, movie_id, limit=limit, offset=offset)

    @post("/{movie_id:uuid}/reviews", summary="Review a movie (once per account)")
    async def review(
        self,
        movie_id: FromPath[uuid.UUID],
        data: ReviewCreate,
        db: Db,
        principal: Caller,
        services: AppServices,
    ) -> ReviewOut:
        return await catalog.add_review(
            db, services.redis, services.clock, principal, movie_id, data
        )


class ShowController(Controller):
    path = "/shows"
    tags = ["catalog"]

    @get("/", summary="Shows with live seat counts, by local date, movie, theater or place")
    async def shows(
        self,
        db: Db,
        services: AppServices,
        city: Annotated[str | None, Parameter(description="City name or id")] = None,
        day: Annotated[
            str | None,
            QueryParameter(name="date", description="YYYY-MM-DD on the theater's own clock"),
        ] = None,
        movie_id: uuid.UUID | None = None,
        theater_id: uuid.UUID | None = None,
        lat: float | None = None,
        lon: float | None = None,
    ) -> list[api.ShowOut]:
        search = catalog.ShowSearch(
            city=city, day=day, movie_id=movie_id, theater_id=theater_id, lat=lat, lon=lon
        )
        return await catalog.list_shows(db, services.clock, search)

    @get("/{show_id:uuid}", summary="One show with live seat counts")
    async def show(
        self, show_id: FromPath[uuid.UUID], db: Db, services: AppServices
    ) -> api.ShowOut:
        return await catalog.show_detail(db, services.clock, show_id)


catalog_router = Router(
    path="/api/v1", route_handlers=[PlaceController, MovieController, ShowController]
)
