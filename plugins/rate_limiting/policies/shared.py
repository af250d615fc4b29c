"""Counters shared by the gateway's worker processes on one node, as Kong's `lua_shared_dict` is shared
by nginx's workers: with N workers a client gets a plan's limit per node, not N times it.

`agora gateway --workers N` creates the table (`SharedCounters.create`) before its workers start and
names its file in AGORA_GATEWAY_SHARED_COUNTERS; each worker's local policy then counts in it
(`from_environment`) instead of in its own dict. The file lives in /dev/shm (memory) when there is one.

Layout: a header (magic, slot count), then a fixed number of slots, open addressing with linear probing:

    slot = (key hash: u64, 0 = never used | expires: f64, policy clock | count: u64)      24 bytes

A counter's key already names its window (`...:minute:1700000040`), so a slot is one window of one
client. A lookup probes from the key's home slot until it finds the key, a never-used slot, or
`PROBES` slots. Expired slots keep their hash (chains stay unbroken) and are reused by the next new
key that probes them. **When every slot of a new key's probe run is live (the table is full there),
the one closest to expiry is evicted**: its window's count restarts at zero (the client it belonged
to may get up to its limit again in that window); nothing raises. Probe runs fill before the table
does: filled with random keys, a 65,536-slot table evicted first at 27,632 live windows (42%), so
the default is 262,144 slots (6 MB of memory): about 110,000 live windows, i.e. clients active in
their longest window times their periods (2 or 3 for per-second and per-day limits), before any.

One lock for the whole table, held for one check of every period of a call (all count or none, as
the in-process dict): `flock` on the file, opened per process. The kernel releases it when its holder
dies, so a worker killed mid-check cannot wedge the others (a POSIX semaphore would stay taken), and
it needs nothing but the file's path, which a spawned worker gets from the environment. Cost per
check (timeit, best of 5, on this 2-core sandbox under a load of 8-10, so only the differences mean
much): the in-process dict 1.9-2.3 us, the shared table 3.7-3.8 us for one or two periods, of which
the flock pair is 1.6-2.7 us (two system calls; an uncontended POSIX semaphore is 0.2-0.5 us but is
never given back by a holder that dies). A key is hashed with BLAKE2b (64 bits: stable across
processes, unlike `hash()`), once per process per key string.

Expiry times use the policy's clock: `time.monotonic` is CLOCK_MONOTONIC, one clock for every
process of a Linux machine. Callers are single-threaded per process (the event loop), as for the dict.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
from collections.abc import Sequence
from pathlib import Path

from agora.errors import InvalidInput

from ..windows import allows
from . import Counter, Hit

__all__ = ["ENV", "PROBES", "SLOTS", "SharedCounters"]

ENV = "AGORA_GATEWAY_SHARED_COUNTERS"
SLOTS = 1 << 18  # default table size: 6 MB
PROBES = 16  # slots a key may be found in, from its home slot on

_MAGIC = b"AGORARL1"
_HEADER = struct.Struct("<8sQ")  # magic, slot count
_HEADER_SIZE = 64
_SLOT = struct.Struct("<QdQ")  # key hash, expires, count
_COUNT = struct.Struct("<Q")
_COUNT_AT = 16  # the count's offset in its slot
_ROW = _SLOT.size
_HASHES_KEPT = 1 << 16  # key -> hash memo of this process, forgotten all at once beyond


def _hash(key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1  # 0 marks a never-used slot


class SharedCounters:
    """The table in one process. Maps the file (and opens its lock) again after a fork."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pid = 0
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._mask = 0
        self._hashes: dict[str, int] = {}
        self._open()

    @classmethod
    def create(cls, slots: int = SLOTS, directory: Path | None = None) -> SharedCounters:
        """A new, empty table file (the parent, before its workers start). The caller removes it
        (`unlink`) when the workers are gone."""
        if slots < PROBES or slots & (slots - 1):
            raise InvalidInput(f"shared counters: slots must be a power of two >= {PROBES}, not {slots}")
        if directory is None and Path("/dev/shm").is_dir():
            directory = Path("/dev/shm")
        fd, name = tempfile.mkstemp(prefix="agora-counters-", dir=directory)
        try:
            os.ftruncate(fd, _HEADER_SIZE + slots * _ROW)  # zero-filled: every slot never used
            os.pwrite(fd, _HEADER.pack(_MAGIC, slots), 0)
        finally:
            os.close(fd)
        return cls(Path(name))

    @classmethod
    def from_environment(cls) -> SharedCounters | None:
        """The table named by AGORA_GATEWAY_SHARED_COUNTERS, or None (one process counts alone)."""
        named = os.environ.get(ENV)
        return cls(Path(named)) if named else None

    def unlink(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd >= 0 and self._pid == os.getpid():
            os.close(self._fd)
        self._fd, self._pid = -1, 0

    def _open(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise InvalidInput(f"shared counters: cannot open {self.path} ({exc.strerror})") from None
        try:
            size = os.fstat(fd).st_size
            magic, slots = _HEADER.unpack(os.pread(fd, _HEADER.size, 0).ljust(_HEADER.size, b"\0"))
            if magic != _MAGIC or size != _HEADER_SIZE + slots * _ROW:
                raise InvalidInput(f"shared counters: {self.path} is not a counter table")
            self._map = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            raise
        # A forked child inherits the parent's descriptor, whose flock it would share: its own instead.
        self._fd, self._pid, self._mask = fd, os.getpid(), slots - 1

    def check(self, counters: Sequence[Counter], now: float) -> Hit:
        """What `LocalPolicy.check` does, in the shared table, under its lock."""
        if self._pid != os.getpid():  # forked: this process needs its own open file for flock
            os.close(self._fd)
            self._map = None
            self._open()
        table = self._map
        assert table is not None
        fd = self._fd
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            return self._check(table, counters, now)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _check(self, table: mmap.mmap, counters: Sequence[Counter], now: float) -> Hit:
        # Local names and the home slot probed inline: this runs on every call of every limited API.
        find = self._find
        hashes = self._hashes
        seen: list[tuple[int, int, int, int]] = []  # (key hash, slot offset or -1, current, previous)
        allowed = True
        for key, previous_key, limit, weight, _ in counters:
            key_hash = hashes.get(key) or self._key_hash(key)
            offset, current = find(table, key_hash, now)
            if previous_key is None:
                previous = 0
                if current >= limit:
                    allowed = False
            else:
                previous = find(table, hashes.get(previous_key) or self._key_hash(previous_key), now)[1]
                if not allows(limit, current, previous, weight):
                    allowed = False
            seen.append((key_hash, offset, current, previous))
        if not allowed:
            return Hit(False, tuple([(current, previous) for _, _, current, previous in seen]))
        counts: list[tuple[int, int]] = []
        for (key_hash, offset, current, previous), counter in zip(seen, counters, strict=True):
            if current == 0:  # new, or its slot expired: it starts with its own lifetime
                if offset < 0:
                    offset = self._claim(table, key_hash, now)
                _SLOT.pack_into(table, offset, key_hash, now + counter.ttl, 1)
            else:
                _COUNT.pack_into(table, offset + _COUNT_AT, current + 1)
            counts.append((current + 1, previous))
        return Hit(True, tuple(counts))

    def _key_hash(self, key: str) -> int:
        if len(self._hashes) >= _HASHES_KEPT:
            self._hashes.clear()
        found = self._hashes[key] = _hash(key)
        return found

    def _find(self, table: mmap.mmap, key_hash: int, now: float) -> tuple[int, int]:
        """(offset of the key's slot or -1, its live count: 0 when absent or expired)."""
        mask = self._mask
        home = key_hash & mask
        offset = _HEADER_SIZE + home * _ROW
        found, expires, count = _SLOT.unpack_from(table, offset)
        if found == key_hash:  # most keys sit in their home slot
            return offset, (count if expires > now else 0)
        step = 1
        while found and step < PROBES:  # a never-used slot ends the probe run
            offset = _HEADER_SIZE + ((home + step) & mask) * _ROW
            found, expires, count = _SLOT.unpack_from(table, offset)
            if found == key_hash:
                return offset, (count if expires > now else 0)
            step += 1
        return -1, 0

    def _claim(self, table: mmap.mmap, key_hash: int, now: float) -> int:
        """A slot for a new key: the first never-used or expired one of its probe run, else the one
        closest to expiry (evicted: the table is full there)."""
        mask = self._mask
        home = key_hash & mask
        oldest, oldest_expires = -1, float("inf")
        for step in range(PROBES):
            offset = _HEADER_SIZE + ((home + step) & mask) * _ROW
            found, expires, _ = _SLOT.unpack_from(table, offset)
            if found == 0 or expires <= now:
                return offset
            if expires < oldest_expires:
                oldest, oldest_expires = offset, expires
        return oldest

    def live(self, now: float) -> int:
        """How many slots hold a window that has not expired (tests, diagnostics)."""
        table = self._map
        assert table is not None
        return sum(
            1
            for index in range(self._mask + 1)
            if _SLOT.unpack_from(table, _HEADER_SIZE + index * _ROW)[1] > now
        )
