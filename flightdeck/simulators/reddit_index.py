"""Where the Reddit simulator finds one ad account's (or one parent's) campaigns, ad groups and
ads without scanning every stored object: a list call serves a page in time proportional to
the page, not to everything stored (a 40,000-ad account is read in 40 pages of 1,000).

Reddit objects are only ever added (a deletion is a status), so an index catches up by reading
what was added since it last looked. A store that shrank or was replaced (reset, restore) and
any platform-side edit through the admin surface (which may change any field, a parent id
too: `SimulatorState.edits`) make it read the store again. Kept beside the state, never saved.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any, overload

Store = dict[str, dict[str, Any]]


class _Index:
    """The ids of one store's objects grouped by one field's value, in creation order."""

    def __init__(self, store: Store, field: str, edits: int) -> None:
        self.store, self.field, self.edits = store, field, edits
        self.seen = 0
        self.groups: dict[Any, list[str]] = {}
        self.catch_up()

    def catch_up(self) -> None:
        for obj in itertools.islice(self.store.values(), self.seen, None):
            self.groups.setdefault(obj.get(self.field), []).append(obj["id"])
        self.seen = len(self.store)

    def current(self, store: Store, edits: int) -> bool:
        return store is self.store and edits == self.edits and len(store) >= self.seen


class Indexes:
    """Per (object type, field) indexes of one simulator state."""

    def __init__(self) -> None:
        self._indexes: dict[tuple[str, str], _Index] = {}

    def ids(self, kind: str, store: Store, field: str, value: Any, edits: int) -> list[str]:
        """Ids of the objects of `store` whose `field` is `value`, in creation order (the
        list is the index's own: read it, never change it)."""
        index = self._indexes.get((kind, field))
        if index is None or not index.current(store, edits):
            index = self._indexes[(kind, field)] = _Index(store, field, edits)
        elif len(store) > index.seen:
            index.catch_up()
        return index.groups.get(value, [])


class StoredObjects(Sequence[dict[str, Any]]):
    """A read-only sequence of stored objects by id: slicing it looks up only the slice."""

    def __init__(self, store: Store, ids: Sequence[str]) -> None:
        self._store, self._ids = store, ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, position: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, position: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, position: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(position, slice):
            return [self._store[i] for i in self._ids[position]]
        return self._store[self._ids[position]]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._store[i] for i in self._ids)
