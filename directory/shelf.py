"""A bounded shelf: at most so many entries (or so many bytes), the least recently used out
first, safe across threads. What one process keeps of the public data while it stays as it is
(the rendered result cards, the API's list items, the calendar's events, the next starts) lives
on shelves kept by data_version.kept_shelf(); the answer cache's in-process store is one too."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
V = TypeVar("V")


class Shelf(Generic[V]):
    """Values by key, the least recently used out first once there are more than `max_entries`
    or, with `weigh`, once their weights add up to more than `max_weight`."""

    def __init__(
        self,
        max_entries: int | None = None,
        *,
        max_weight: int | None = None,
        weigh: Callable[[V], int] | None = None,
    ):
        self.max_entries = max(1, max_entries) if max_entries is not None else None
        self.max_weight = max_weight
        self.weigh = weigh
        self.weight = 0  # of the values kept, when weighed
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
            old = self._values.pop(key, None)
            if old is not None and self.weigh is not None:
                self.weight -= self.weigh(old)
            self._values[key] = value
            if self.weigh is not None:
                self.weight += self.weigh(value)
            while self._values and self._too_much():
                _key, dropped = self._values.popitem(last=False)
                if self.weigh is not None:
                    self.weight -= self.weigh(dropped)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.weight = 0

    def _too_much(self) -> bool:
        if self.max_entries is not None and len(self._values) > self.max_entries:
            return True
        return self.max_weight is not None and self.weight > self.max_weight

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
