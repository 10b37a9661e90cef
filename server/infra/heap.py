"""Garbage-collector settings for a long-running server process.

CPython's cyclic collector runs after every 700 net new container objects, and every tenth
run of the middle generation it walks the whole heap. A bms process holds a few hundred
thousand long-lived objects once it is up (Litestar's routes, SQLAlchemy's mappers, the
seat layouts), so under a stampede each full walk stopped every request for 70-180 ms, nine
times in six seconds: a quarter of a millisecond of CPU per hold request, the largest single
cost after PostgreSQL's round trip (measured in docs/benchmarks.md, sixth session).

After start-up nothing of what was built is ever freed, so it is moved out of the
collector's sight (``gc.freeze``), and the youngest generation is collected after
``YOUNG_GENERATION_OBJECTS`` net new objects: a release night's requests allocate and free
their objects by reference counting long before that, and what cycles they leave are still
collected, in pauses of a few tens of milliseconds.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_OBJECTS = 50_000
# How many young collections per middle one, and middle per full: CPython's own ratios.
MIDDLE_EVERY = 10
FULL_EVERY = 10


def settle_heap() -> None:
    """Freeze what start-up built and collect less often; call once the app is up."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_OBJECTS, MIDDLE_EVERY, FULL_EVERY)
