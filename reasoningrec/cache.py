"""In-process caches, one helper: a value is kept per owner object (a Dataset) or per key of
content (paths, settings), never per name.

    from reasoningrec.cache import Cache
    _INDEXES = Cache("scoring.llm item index")                 # a unique name per cache
    index = _INDEXES.get(ds, lambda: ItemIndex.build(ds.items))  # once per dataset object
    backend = _SHARED.get(None, lambda: Backend(path), key=(path, options))  # once per key

An owned entry belongs to its owner, which the cache holds by a weak reference: two datasets
never share an entry even when their names agree (the demo pool's "ml1m" is not the full
"ml1m"), the same object always hits, and its entries go when it is collected. `owner=None`
keeps the entry for the process, keyed by `key` alone (which must then say everything the
value depends on). No two modules may name a cache alike. A value is built once even when
threads ask together (one lock per entry); a build that raises leaves no entry. `limit` drops
the oldest entries beyond it.
"""
from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any

_NAMES: dict[str, str] = {}   # cache name -> the file that made it


class _Slot:
    __slots__ = ("lock", "ready", "value")

    def __init__(self):
        self.lock, self.ready, self.value = threading.Lock(), False, None


class Cache:
    def __init__(self, name: str, limit: int | None = None):
        where = sys._getframe(1).f_globals.get("__file__", "?")
        if _NAMES.setdefault(name, where) != where:   # the same module run again may reuse it
            raise ValueError(f"a cache named {name!r} exists already ({_NAMES[name]}): pick "
                             "another name")
        self.name, self.limit = name, limit
        self._slots: dict[tuple, _Slot] = {}            # (owner id or None, key) -> slot
        self._owners: dict[int, weakref.ref] = {}       # owner id -> its weak reference
        self._dead: list[tuple[int, weakref.ref]] = []  # collected owners, purged under the lock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Cache({self.name!r}, {len(self._slots)} entries)"

    def __len__(self) -> int:
        with self._lock:
            self._purge()
            return len(self._slots)

    def get(self, owner: object | None, build: Callable[[], Any], key: Hashable = ()) -> Any:
        """The value for (owner, key), made by `build()` on the first call."""
        with self._lock:
            slot = self._slot(owner, key)
        with slot.lock:
            if not slot.ready:
                try:
                    slot.value, slot.ready = build(), True
                except BaseException:
                    with self._lock:
                        self._slots = {k: s for k, s in self._slots.items() if s is not slot}
                    raise
        return slot.value

    def _slot(self, owner, key) -> _Slot:
        self._purge()
        oid = None if owner is None else id(owner)
        if oid is not None:
            ref = self._owners.get(oid)
            if ref is None or ref() is not owner:   # a new owner (or a reused id)
                self._drop_owner(oid)
                self._owners[oid] = weakref.ref(owner, lambda ref, oid=oid:
                                                self._dead.append((oid, ref)))
        slot = self._slots.get((oid, key))
        if slot is None:
            if self.limit is not None and len(self._slots) >= self.limit:
                self._slots.pop(next(iter(self._slots)))
            slot = self._slots[(oid, key)] = _Slot()
        return slot

    def _purge(self) -> None:
        # A weakref callback may run inside any allocation, even under the lock, so it only
        # appends to _dead; the entries of collected owners go here.
        while self._dead:
            oid, ref = self._dead.pop()
            if self._owners.get(oid) is ref:
                self._drop_owner(oid)

    def _drop_owner(self, oid: int) -> None:
        self._owners.pop(oid, None)
        for k in [k for k in self._slots if k[0] == oid]:
            del self._slots[k]

    def values(self) -> list:
        """The values built so far (e.g. to close shared models at exit)."""
        with self._lock:
            self._purge()
            return [s.value for s in self._slots.values() if s.ready]

    def discard(self, value: object) -> None:
        """Forget every entry holding `value` (a closed model must not be handed out)."""
        with self._lock:
            for k in [k for k, s in self._slots.items() if s.ready and s.value is value]:
                del self._slots[k]

    def clear(self) -> None:
        """Forget every entry (the next `get` builds afresh)."""
        with self._lock:
            self._slots.clear()
            self._owners.clear()
            self._dead.clear()
