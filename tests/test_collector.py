"""The server's garbage collection policy (csms/collector.py): start-up objects frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from csms import collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def cycle() -> tuple[list[Node], weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return [a], weakref.ref(a)


def test_settle_freezes_what_exists_and_makes_young_collections_rarer(
    restored_collector: None,
) -> None:
    holder, ref = cycle()
    collector.settle()
    assert gc.get_threshold() == collector.THRESHOLDS
    assert gc.get_freeze_count() > 0
    holder.clear()  # garbage now, but frozen: an ordinary collection does not free it
    gc.collect()
    assert ref() is not None
