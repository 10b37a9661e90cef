"""The serving process's garbage-collector settings (server/infra/heap.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from server.app import create_app
from server.infra.heap import YOUNG_GENERATION_OBJECTS, settle_heap
from server.settings import Settings


def test_settling_freezes_start_up_objects_and_still_collects_later_cycles() -> None:
    # In a child process: freezing would otherwise keep this test session's objects forever.
    script = textwrap.dedent(
        """
        import gc, weakref
        from server.infra.heap import settle_heap

        class Node:
            pass

        start_up = [Node() for _ in range(1000)]
        settle_heap()
        print(gc.get_freeze_count() >= 1000, gc.get_threshold()[0])

        cycle = Node()
        cycle.self = cycle
        alive = weakref.ref(cycle)
        del cycle
        gc.collect()
        print(alive() is None)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    frozen, threshold, collected = result.stdout.split()
    assert frozen == "True"
    assert int(threshold) == YOUNG_GENERATION_OBJECTS
    assert collected == "True"


def test_only_a_serving_process_tunes_the_collector() -> None:
    settings = Settings(database_url="postgresql://x/y", redis_url="redis://x")
    assert settle_heap in create_app(settings, serving=True).on_startup
    assert settle_heap not in create_app(settings).on_startup
