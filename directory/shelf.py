"""A bounded shelf: at most so many entries, the least recently used out first, safe across
threads. What one process keeps of the public data while it stays as it is (the rendered result
cards, the API's list items, the next starts) lives on shelves kept by data_version.kept()."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
V = TypeVar("V")


class Shelf(Generic[V]):
    """At most `max_entries` values by key, the least recently used out first."""

    def __init__(self, max_entries: int):
        self.max_entries = max(1, max_entries)
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)

    def __len__(self) -> int:
        return len(self._values)


def shelved(
    ids: list[int],
    shelf: Shelf[V] | None,
    key: Callable[[int], Hashable],
    load: Callable[[list[int]], dict[int, T]],
    make: Callable[[int, T], V],
) -> list[V]:
    """A value for each id, in order: from the shelf, or made from the objects of the ids the
    shelf lacks, loaded together by one call of `load` (an id it does not find is left out).
    Without a shelf every value is made."""
    keys = {i: key(i) for i in ids} if shelf is not None else {}
    found: dict[int, V] = {}
    if shelf is not None:
        found = {i: value for i, k in keys.items() if (value := shelf.get(k)) is not None}
    missing = [i for i in ids if i not in found]
    loaded = load(missing) if missing else {}
    values = []
    for i in ids:
        value = found.get(i)
        if value is None:
            if i not in loaded:
                continue
            value = make(i, loaded[i])
            if shelf is not None:
                shelf.put(keys[i], value)
        values.append(value)
    return values
