"""Start-up objects are frozen while the App runs, and thawed when it stops."""

from __future__ import annotations

import gc

from core._gc import start_up_frozen


def test_objects_alive_at_start_are_frozen_then_thawed() -> None:
    assert gc.get_freeze_count() == 0
    keep = [object() for _ in range(10)]
    with start_up_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with start_up_frozen():  # a nested App (a restart inside a running one)
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # the inner one left; the outer still runs
    assert gc.get_freeze_count() == 0
    assert len(keep) == 10


def test_garbage_made_after_start_is_still_collected() -> None:
    class Node:
        other: object = None

    with start_up_frozen():
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        del a, b
        assert gc.collect() >= 2
