"""The fault detector: one pure state machine per elevator (DOMAIN.md §2-3, docs/PROTOCOL.md "Fault rules").

Message in, ``FaultChange`` list out; the clock is the caller's ``now_ms`` (platform receive time), so the
same input always gives the same output and tests run to the millisecond without sleeping.

How it works, in short:

* **Event time.** A message is timed by its own ``ts`` when that is within ``clock_skew_ms`` of ``now_ms``,
  else by ``now_ms``, and the elevator gets a CLOCK_SKEW fault until its clock is back. The clock error is
  told from the message's age: with ``sent_ts`` (the terminal's clock when it sent the message) the clock is
  judged on ``now_ms - sent_ts`` and an old ``ts`` is a backlog, timed by ``ts``; a message marked
  ``backlog`` without ``sent_ts`` is timed by ``ts`` unless the clock is already known wrong, and judges
  nothing. After a backlog, timers follow the terminal's clock when it sent it (``lead``), not the backlog's.
* **Held conditions** (门区外停梯, 困人, 冲顶 ...) are bits of one integer computed from each status
  message. A bit that turns on starts a timer; the fault is raised when the condition has held for the rule's
  threshold, at ``started + threshold`` (not at the time anybody noticed). A bit that turns off before that
  raises nothing (anti-chatter). An open fault clears once its condition has stayed false for
  ``clear_confirm_ms``; the clear is dated when the condition *ended* (so fault durations are true), and a
  condition that returns inside that window continues the same fault.
* Terminals send status on change, so silence means "unchanged": timers are confirmed by the next message
  of any kind or by ``tick()``, whichever comes first.
* **Controller events** raise or clear at once (the controller already confirmed them).
* **Duplicates and reordering.** A message whose ``seq`` was already seen among the newest
  ``reorder_window`` seqs of the terminal is a duplicate (``(terminal, seq)`` is unique between reboots, as
  ``msg_id`` is) and is ignored. Messages are applied in ``seq`` order: one that comes after a gap is held
  (nothing is confirmed across the gap) until the missing one arrives or ``gap_wait_ms`` of platform time
  passes, then the held ones are applied in order, each timed as when it was received. A message that comes
  after its gap was given up is late: a status older than the newest applied status is stale (it changes no
  held condition); events are facts and count even when late, unless a newer event of the same code is known.
* **Service mode.** Besides faults, the detector notes each change of an elevator's service mode (正常,
  检修 ...) seen in a fresh status, as a ``ModeChange`` kept until the caller takes them
  (``take_mode_changes()``): the record of maintenance visits and the counters at their ends. The mode is
  part of the dumped state, so a restored detector reports only real changes.
* **Restarts and implausible seqs.** A small ``seq`` with a newer time is a reboot: the count starts again. A
  ``seq`` further than ``seq_jump_max`` from the count, or further ahead than ``seq_rate_max`` messages a
  second since the terminal was last heard, is dropped, so one forged message cannot make the real ones
  stale; three such messages in a row are a terminal that really renumbered, and the count follows them.

The hot path (a status in order, nothing held, that changes nothing) is one lookup of the terminal's state,
one call, compares of the message's fields and a few stores.

**Compiled.** `make setup` compiles this file with Cython (setup.py; Cython's pure Python mode): ``Detector``
and ``_State`` become extension types whose numbers are C fields, the held-condition slots C arrays, and the
internal steps C calls; a message's fields are read at their place in the msgspec struct (``_field``) and
a terminal's state is found in a table of the detector's own (``_find``). The ``cython.*`` annotations and
decorators are that typing; run uncompiled (no C compiler at hand) they are no-ops and the same rules run
as plain Python (``_field`` is ``getattr``, ``_find`` the dict). A checkpoint is a msgpack map of
``_Record`` arrays either way, so one moves between the two (tests/unit/telemetry/test_compiled.py).
"""

from __future__ import annotations

import gc
import heapq
import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cython
import msgspec

from liftwatch.telemetry.faults import (
    EVENT_FAULT,
    SEVERITY,
    DetectorSettings,
    FaultChange,
    FaultType,
    Severity,
)
from liftwatch.telemetry.protocol import (
    DoorCommand,
    Event,
    EventCode,
    Heartbeat,
    Message,
    ServiceMode,
    Status,
)

__all__ = ["Detector", "DetectorStats", "ModeChange"]

# Compiled, these are C constants (cython.declare); as plain Python, ints.
_NEVER = cython.declare(cython.longlong, 1 << 62)  # "no timer"
_LONG_AGO = cython.declare(cython.longlong, -(1 << 62))
_NO_FLOOR = cython.declare(cython.longlong, -1000)
_ONE = cython.declare(cython.ulonglong, 1)  # a 64-bit one, to shift by up to 63
# implausibly numbered messages in a row that make a new count
_RENUMBER_AFTER = cython.declare(cython.longlong, 3)
_IDX_BITS = 32  # a timer-heap entry: (due << _IDX_BITS) | the state's index (see Detector._heap)
_IDX_MASK = (1 << _IDX_BITS) - 1

# Phases of a held-condition slot.
_IDLE = cython.declare(cython.longlong, 0)
_PENDING = cython.declare(cython.longlong, 1)
_ACTIVE = cython.declare(cython.longlong, 2)
_CLEARING = cython.declare(cython.longlong, 3)

# The newest controller event of a code: a raise, a clear that closed a fault, a clear of nothing open.
_EV_RAISE, _EV_CLEARED, _EV_ORPHAN = 1, 0, 2

# Who raised an open fault, and so who may clear it.
_RULE, _CONTROLLER, _PLATFORM = 0, 1, 2

# Held-condition slots (bit i of the mask is slot i), plus the alarm auto-clear timer.
_SOZ, _UM, _TOP, _BOTTOM, _OS, _OSS, _POWER, _SC, _DCF, _DOF, _ENT, _FLOOR, _ALARM = range(13)
_NSLOTS = 13
B_SOZ = cython.declare(cython.longlong, 1 << 0)
B_UM = cython.declare(cython.longlong, 1 << 1)
B_TOP = cython.declare(cython.longlong, 1 << 2)
B_BOTTOM = cython.declare(cython.longlong, 1 << 3)
B_OS = cython.declare(cython.longlong, 1 << 4)
B_OSS = cython.declare(cython.longlong, 1 << 5)
B_POWER = cython.declare(cython.longlong, 1 << 6)
B_SC = cython.declare(cython.longlong, 1 << 7)
B_DCF = cython.declare(cython.longlong, 1 << 8)
B_DOF = cython.declare(cython.longlong, 1 << 9)
B_ENT = cython.declare(cython.longlong, 1 << 10)
B_FLOOR = cython.declare(cython.longlong, 1 << 11)
_KENT = cython.declare(cython.longlong, 10)  # the entrapment slot, _ENT as a C constant for the hot path
_BITS = (B_SOZ, B_UM, B_TOP, B_BOTTOM, B_OS, B_OSS, B_POWER, B_SC, B_DCF, B_DOF, B_ENT, B_FLOOR)
assert all(bit == 1 << i for i, bit in enumerate(_BITS)) and _KENT == _ENT

_SLOT_FAULT: tuple[FaultType, ...] = (
    FaultType.STOPPED_OUTSIDE_DOOR_ZONE,
    FaultType.UNINTENDED_MOVEMENT,
    FaultType.OVERRUN_TOP,
    FaultType.OVERRUN_BOTTOM,
    FaultType.OVERSPEED,
    FaultType.OVERSPEED,  # the severe level: raises the open overspeed fault to critical
    FaultType.POWER_CUT,
    FaultType.SAFETY_CIRCUIT,
    FaultType.DOOR_CLOSE_FAILURE,
    FaultType.DOOR_OPEN_FAILURE,
    FaultType.ENTRAPMENT,
    FaultType.FLOOR_POSITION_LOST,
    FaultType.ALARM_BUTTON,
)
_FAULT_SLOT: dict[str, int] = {ft.value: i for i, ft in enumerate(_SLOT_FAULT) if i != _OSS}


# Reading a message's fields. A msgspec struct keeps each field in a fixed slot of the object; compiled, the
# hot path reads the slot at its offset (one load) instead of a Python attribute lookup (about 15 ns each,
# 18 of them a status). The offsets are found at import, on a struct whose every field holds its own marker
# object, and checked: each marker at exactly one offset. As plain Python the "offset" is the field's name
# and ``_field`` is ``getattr``. Only ever given a message of the type whose offsets it is given.
@cython.cfunc
@cython.inline
def _field(msg: object, off: cython.Py_ssize_t) -> Any:
    return cython.cast(
        object,
        cython.cast(
            cython.pointer(cython.p_void), cython.cast(cython.p_char, cython.cast(cython.p_void, msg)) + off
        )[0],
    )


@cython.locals(size=cython.Py_ssize_t, o=cython.Py_ssize_t, base=cython.p_char, want=cython.p_void)
def _slot_offsets(tp: Any) -> dict[str, Any]:
    """Field name -> where ``_field`` finds it in a ``tp`` (compiled: its byte offset; else its name)."""
    names: tuple[str, ...] = tp.__struct_fields__
    if not cython.compiled:
        return {n: n for n in names}
    marked = tp(**{n: object() for n in names})  # msgspec's __init__ does not check types
    size = tp.__basicsize__
    base = cython.cast(cython.p_char, cython.cast(cython.p_void, marked))
    out: dict[str, Any] = {}
    for n in names:
        value = getattr(marked, n)
        want = cython.cast(cython.p_void, value)
        hits = []
        for o in range(0, size, 8):
            if cython.cast(cython.pointer(cython.p_void), base + o)[0] == want:
                hits.append(o)
        if len(hits) != 1:
            raise ImportError(
                f"{tp.__name__}.{n} found at {hits}: msgspec's struct layout is not as expected"
            )
        out[n] = hits[0]
    return out


if not cython.compiled:
    _field = getattr  # type: ignore[assignment]

_SO = _slot_offsets(Status)
_EO = _slot_offsets(Event)
_HO = _slot_offsets(Heartbeat)
# Compiled, C constants (declared, then set: the offsets are known only at import); as plain Python, the
# field names.
cython.declare(
    _S_SEQ=cython.Py_ssize_t,
    _S_TS=cython.Py_ssize_t,
    _S_SENT=cython.Py_ssize_t,
    _S_BACKLOG=cython.Py_ssize_t,
    _S_ID=cython.Py_ssize_t,
    _S_MODE=cython.Py_ssize_t,
    _S_RUNNING=cython.Py_ssize_t,
    _S_DOOR_CLOSED=cython.Py_ssize_t,
    _S_DOOR_ZONE=cython.Py_ssize_t,
    _S_PASSENGER=cython.Py_ssize_t,
    _S_FLOOR=cython.Py_ssize_t,
    _S_SPEED=cython.Py_ssize_t,
    _S_RATED=cython.Py_ssize_t,
    _S_UP=cython.Py_ssize_t,
    _S_DOWN=cython.Py_ssize_t,
    _S_POWER=cython.Py_ssize_t,
    _S_SC=cython.Py_ssize_t,
    _S_DOOR_CMD=cython.Py_ssize_t,
    _S_TRIPS=cython.Py_ssize_t,
    _S_DOOR_CYCLES=cython.Py_ssize_t,
    _E_SEQ=cython.Py_ssize_t,
    _E_TS=cython.Py_ssize_t,
    _E_SENT=cython.Py_ssize_t,
    _E_BACKLOG=cython.Py_ssize_t,
    _E_ID=cython.Py_ssize_t,
    _H_SEQ=cython.Py_ssize_t,
    _H_TS=cython.Py_ssize_t,
    _H_SENT=cython.Py_ssize_t,
    _H_BACKLOG=cython.Py_ssize_t,
    _H_ID=cython.Py_ssize_t,
)
_S_SEQ = _SO["seq"]
_S_TS = _SO["ts"]
_S_SENT = _SO["sent_ts"]
_S_BACKLOG = _SO["backlog"]
_S_ID = _SO["msg_id"]
_S_MODE = _SO["mode"]
_S_RUNNING = _SO["running"]
_S_DOOR_CLOSED = _SO["door_closed"]
_S_DOOR_ZONE = _SO["door_zone"]
_S_PASSENGER = _SO["passenger"]
_S_FLOOR = _SO["floor"]
_S_SPEED = _SO["speed"]
_S_RATED = _SO["rated_speed"]
_S_UP = _SO["up_limit"]
_S_DOWN = _SO["down_limit"]
_S_POWER = _SO["power"]
_S_SC = _SO["safety_circuit"]
_S_DOOR_CMD = _SO["door_command"]
_S_TRIPS = _SO["trips"]
_S_DOOR_CYCLES = _SO["door_cycles"]
_E_SEQ = _EO["seq"]
_E_TS = _EO["ts"]
_E_SENT = _EO["sent_ts"]
_E_BACKLOG = _EO["backlog"]
_E_ID = _EO["msg_id"]
_H_SEQ = _HO["seq"]
_H_TS = _HO["ts"]
_H_SENT = _HO["sent_ts"]
_H_BACKLOG = _HO["backlog"]
_H_ID = _HO["msg_id"]

_NORMAL = ServiceMode.NORMAL
_INSPECTION = ServiceMode.INSPECTION
_CLOSE = DoorCommand.CLOSE
_OPEN = DoorCommand.OPEN
_MODE_CHANGE = EventCode.MODE_CHANGE
_ALARM_CODE = EventCode.ALARM_BUTTON


class _Open(msgspec.Struct, array_like=True, gc=False):
    """An open fault: the raise-change as last emitted, and who raised it."""

    change: FaultChange
    source: int


class _Record(msgspec.Struct, array_like=True, gc=False):
    """An elevator's ``_State`` as stored by dump(): a msgpack array of these fields in this order (a dump
    from before a field was added lacks it, and msgspec fills in its default)."""

    seq: int = -1  # newest seq applied (all message types)
    miss: int = 0  # bit k (k >= 1): seq (seq - k) has not been seen yet (a gap in the duplicate window)
    sseq: int = -1  # newest status seq applied
    t: int = 0  # event time of the newest message
    last_seen: int = 0  # platform time of the last accepted message (offline rule)
    last_id: str = ""  # its msg_id
    skewed: bool = False
    offline: bool = False
    next_due: int = _NEVER  # no timer is due before this (event time; a lower bound)
    mask: int = 0  # held conditions true in the newest status
    last_run: int = _LONG_AGO  # event time of the last status with running=True
    stop_floor: int = _NO_FLOOR  # floor of the newest status, if the car was stopped
    stop_id: str = ""  # msg_id of the newest status that reported stop_floor
    warn: float = math.inf  # overspeed thresholds, m/s (derived from rated and the settings)
    severe: float = math.inf
    rated: float = 0.0  # m/s, 0 = unknown
    ent_zone: bool = False  # the held entrapment started inside the door zone
    # Per held-condition slot i, at 4i .. 4i+3: phase, since (event time), due (event time), first msg_id.
    slots: list[Any] = msgspec.field(default_factory=lambda: [_IDLE, 0, _NEVER, ""] * _NSLOTS)
    # per event code: (seq, kind, event time, msg_id) of the newest controller event; kind: _EV_*
    events: dict[str, tuple[int, int, int, str]] = msgspec.field(default_factory=dict)
    open: dict[str, _Open] = msgspec.field(default_factory=dict)  # fault type value -> open fault
    ran: bool = False  # the newest applied status said running (its successor may be a late stop)
    # Added with issue 8 (a dump from before lacks them: msgspec fills in these defaults).
    lead: int = 0  # the terminal's clock when it sent the newest message, less its event time t
    # messages received after a gap in seq, waiting for it to fill: (seq, platform receive time, message)
    held: list[tuple[int, int, Message]] | None = None
    alt: int = -1  # the newest seq that was implausibly far from the count
    alt_n: int = 0  # how many such messages in a row
    # Added with issue 13: the service mode of the newest applied status (None: none seen yet)
    mode: ServiceMode | None = None


_IDLES: list[int] = [_IDLE] * _NSLOTS  # a new state's slots (copied: C arrays, or plain lists)
_ZEROS: list[int] = [0] * _NSLOTS
_NEVERS: list[int] = [_NEVER] * _NSLOTS
_IDLE_SLOTS: list[Any] = [_IDLE, 0, _NEVER, ""] * _NSLOTS  # as _Record.slots of a new state


@cython.no_gc  # holds no reference back to itself or the detector: nothing for the cycle collector
@cython.cclass
class _State:
    """Everything the detector knows about one elevator (see ``_Record`` for each field's meaning).

    A Cython extension type when the module is compiled: the fields every message touches are C integers,
    read and written without a Python object (docs/PERFORMANCE.md, "A compiled detector")."""

    # Declared in this order, the fields a status message reads lie together at the front of the object,
    # its first 280 bytes (docs/PERFORMANCE.md, "The message before, the topic"); the rest follows.
    # First the registration code's characters, when it has 1 to 36 and each is Latin-1 (clen; else
    # clen is 0): compiled, Detector._find settles a shared hash on them, on the line it reads next
    # anyway, not on the code's string object (a cache miss more per message among 50,000 states).
    clen: cython.int
    ccode = cython.declare(cython.uchar[36])
    seq: cython.longlong
    sseq: cython.longlong
    t: cython.longlong
    last_seen: cython.longlong
    lead: cython.longlong
    next_due: cython.longlong
    mask: cython.longlong
    last_run: cython.longlong
    stop_floor: cython.longlong
    miss: cython.ulonglong  # the duplicate window: at most 64 bits
    held: list[tuple[int, int, Message]] | None
    # The newest message's msg_id and the stop's: compiled, their characters (lid_n, sid_n of them) when an
    # id has at most 40 and each is Latin-1, else -1 and the string objects below hold them; read through
    # _kept_id. Characters, because replacing a kept string object releases the one before,
    # a cache miss on an object the message before made (the most costly line of feed, once).
    lid_n: cython.int
    sid_n: cython.int
    lid = cython.declare(cython.uchar[40])
    sid = cython.declare(cython.uchar[40])
    last_id: str
    stop_id: str
    mode: ServiceMode | None
    skewed: cython.bint
    offline: cython.bint
    ran: cython.bint
    ent_zone: cython.bint
    sched: cython.longlong  # platform time of this state's live timer-heap entry (_NEVER: none)
    idx: cython.longlong  # its place in Detector._by_idx, named by its timer-heap entries
    warn: cython.double
    severe: cython.double
    rated: cython.double
    # Per held-condition slot i (see _Record.slots): C arrays when compiled, lists as plain Python.
    phase = cython.declare(cython.slonglong[13])
    since = cython.declare(cython.slonglong[13])
    due = cython.declare(cython.slonglong[13])
    # slot -> msg_id that started its condition (a missing slot: ""). A dict of strings, which the cycle
    # collector never tracks: as a list, every state's was walked by each full collection.
    first: dict[int, str]
    events: dict[str, tuple[int, int, int, str]]
    open: dict[str, _Open]
    alt: cython.longlong
    alt_n: cython.longlong
    code: str  # the registration code (not stored: the key of the dump)

    @cython.locals(i=cython.Py_ssize_t)
    def __init__(self, code: str, r: _Record | None = None) -> None:
        self.code = code
        if cython.compiled:
            self.clen = max(_copy_chars(self.ccode, code, _CODE_CHARS), 0)
        self.sched = _NEVER
        self.last_id = self.stop_id = ""
        self.lid_n = self.sid_n = 0
        if r is None:  # a new terminal: the defaults, without reading a record (one in ten messages)
            self.seq = self.sseq = self.alt = -1
            self.miss = 0
            self.t = self.last_seen = self.mask = self.lead = self.alt_n = 0
            self.skewed = self.offline = self.ent_zone = self.ran = False
            self.next_due = _NEVER
            self.last_run = _LONG_AGO
            self.stop_floor = _NO_FLOOR
            self.warn = self.severe = math.inf
            self.rated = 0.0
            if cython.compiled:  # C arrays, filled in place
                for i in range(_NSLOTS):
                    self.phase[i] = _IDLE
                    self.since[i] = 0
                    self.due[i] = _NEVER
            else:  # each state its own lists
                self.phase = _IDLES[:]
                self.since = _ZEROS[:]
                self.due = _NEVERS[:]
            self.first = _NO_FIRST
            self.events = _NO_EVENTS
            self.open = _NO_OPEN
            self.held = None
            self.mode = None
            return
        self.seq = r.seq
        self.miss = r.miss
        self.sseq = r.sseq
        self.t = r.t
        self.last_seen = r.last_seen
        _keep_id(self, r.last_id, False)
        _keep_id(self, r.stop_id, True)
        self.skewed = r.skewed
        self.offline = r.offline
        self.next_due = r.next_due
        self.mask = r.mask
        self.last_run = r.last_run
        self.stop_floor = r.stop_floor
        self.warn = r.warn
        self.severe = r.severe
        self.rated = r.rated
        self.ent_zone = r.ent_zone
        sl = r.slots
        self.phase = sl[0::4]
        self.since = sl[1::4]
        self.due = sl[2::4]
        first = {i: v for i, v in enumerate(sl[3::4]) if v}
        self.first = first if first else _NO_FIRST
        self.events = r.events if r.events else _NO_EVENTS  # the record's own, decoded for this state
        self.open = r.open if r.open else _NO_OPEN
        self.ran = r.ran
        self.lead = r.lead
        self.held = r.held
        self.alt = r.alt
        self.alt_n = r.alt_n
        self.mode = r.mode

    @cython.locals(i=cython.Py_ssize_t)
    def record(self) -> list[Any]:
        """The state as ``_Record``'s fields in order: msgpack encodes this list exactly as the record (an
        array), without building one."""
        slots: list[Any] = _IDLE_SLOTS[:]  # most slots are idle: their values are shared objects
        for i in range(_NSLOTS):
            if self.phase[i] != _IDLE or self.since[i] != 0 or self.due[i] != _NEVER:
                slots[4 * i] = self.phase[i]
                slots[4 * i + 1] = self.since[i]
                slots[4 * i + 2] = self.due[i]
            slots[4 * i + 3] = self.first.get(i, "")
        return [
            self.seq,
            self.miss,
            self.sseq,
            self.t,
            self.last_seen,
            _kept_id(self, False),
            self.skewed,
            self.offline,
            self.next_due,
            self.mask,
            self.last_run,
            self.stop_floor,
            _kept_id(self, True),
            self.warn,
            self.severe,
            self.rated,
            self.ent_zone,
            slots,
            self.events,
            self.open,
            self.ran,
            self.lead,
            self.held,
            self.alt,
            self.alt_n,
            self.mode,
        ]


# A new state's dictionaries, shared until it writes to one (through _firsts, _raise, _event), so never
# written to: a dict is an object the cycle collector counts, and three per state were most of what a
# growing fleet allocated (each count of 700 a collection; docs/PERFORMANCE.md, "The message before, the
# topic"), and 200 bytes a state.
_NO_FIRST: dict[int, str] = {}
_NO_EVENTS: dict[str, tuple[int, int, int, str]] = {}
_NO_OPEN: dict[str, _Open] = {}


@cython.cfunc
@cython.inline
def _firsts(st: _State) -> dict[int, str]:
    """``st.first``, to write to: its own."""
    if st.first is _NO_FIRST:
        st.first = {}
    return st.first


# Kept as characters in a state (_State.ccode, lid, sid): a code of at most this many, a msg_id of at most
_CODE_CHARS = cython.declare(cython.int, 36)
_ID_CHARS = cython.declare(cython.int, 40)


@cython.cfunc
@cython.inline
@cython.locals(n=cython.int, ch=cython.Py_UCS4)
def _copy_chars(buf: cython.p_uchar, text: str, most: cython.int) -> cython.int:
    """Copy ``text`` into ``buf`` (``most`` bytes): how many characters, or -1 if it does not fit (too
    long, or a character beyond Latin-1)."""
    n = 0
    for ch in text:
        if n == most or ord(ch) > 255:
            return -1
        buf[n] = ord(ch)
        n += 1
    return n


@cython.cfunc
@cython.locals(n=cython.int)
def _keep_id(st: _State, mid: str, stop: cython.bint) -> None:
    """st.last_id = mid, or st.stop_id (``stop``); compiled, as characters when they fit (_State.lid_n)."""
    if not cython.compiled:
        if stop:
            st.stop_id = mid
        else:
            st.last_id = mid
        return
    if stop:
        n = _copy_chars(st.sid, mid, _ID_CHARS)
        if n < 0 or st.sid_n < 0:  # a long id is kept as its object; a short one frees the long one before
            st.stop_id = mid if n < 0 else ""
        st.sid_n = n
    else:
        n = _copy_chars(st.lid, mid, _ID_CHARS)
        if n < 0 or st.lid_n < 0:
            st.last_id = mid if n < 0 else ""
        st.lid_n = n


@cython.cfunc
def _kept_id(st: _State, stop: cython.bint) -> str:
    """st.last_id, or st.stop_id (``stop``), wherever it is kept."""
    text: str
    if stop:
        text = st.sid[: st.sid_n].decode("latin-1") if cython.compiled and st.sid_n >= 0 else st.stop_id
    else:
        text = st.lid[: st.lid_n].decode("latin-1") if cython.compiled and st.lid_n >= 0 else st.last_id
    return text


class ModeChange(msgspec.Struct, frozen=True, gc=False):
    """An elevator's service mode changed (``previous`` None: the first status seen), at event time
    ``at_ms``, with the counters the status carried (None: not in that message). A msgspec struct: built
    in C, so the first status of each elevator (a change from None) costs the hot path next to nothing."""

    registration_code: str
    at_ms: int
    mode: ServiceMode
    previous: ServiceMode | None
    trips: int | None
    door_cycles: int | None


@dataclass(slots=True)
class DetectorStats:
    """Counters since the detector was built (not persisted by dump())."""

    messages: int = 0
    duplicates: int = 0
    stale: int = 0
    restarts: int = 0
    raised: dict[FaultType, int] = field(default_factory=dict)
    cleared: dict[FaultType, int] = field(default_factory=dict)
    implausible: int = 0  # messages dropped for a seq too far from the count


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Record).decode
_decode_all = msgspec.msgpack.Decoder(dict[str, _Record]).decode
_decode_blobs = msgspec.msgpack.Decoder(dict[str, bytes]).decode
_OFFLINE_SCAN_MS = 10_000  # tick() looks for silent terminals at most this often (raise times stay exact)


def _at_code(ch: FaultChange) -> tuple[int, str]:
    return ch.at_ms, ch.registration_code


def _first(held: tuple[int, int, Message]) -> int:
    return held[0]


@cython.final
@cython.cclass
class Detector:
    """Fault detection for many elevators, keyed by registration code. Not thread-safe: one per shard."""

    # Compiled, these are C fields of the extension type (numbers as C integers and doubles).
    _settings: DetectorSettings
    _rated: dict[str, float]
    _states: dict[str, _State]
    # Compiled only: the states again, as an open-addressing table of (hash of the code, the state) pairs
    # in one buffer (see _find); the dict owns the states, the table only points at them. So a state enters
    # or replaces another only through _new_state or _restore (which call _put), and none is ever removed.
    _tabbuf: bytearray
    _tab: cython.p_longlong
    _cap: cython.Py_ssize_t
    # Timers (see __init__): compiled, a binary heap of (due, state index) pairs in one buffer; as plain
    # Python, heapq on ints.
    _hbuf: bytearray
    _hp: cython.p_longlong
    _hn: cython.Py_ssize_t
    _heap: list[int]
    _by_idx: list[_State]
    _next_scan: cython.longlong
    _out_of_service: set[str]
    _skew: cython.longlong
    _window: cython.longlong
    _wmask: cython.ulonglong
    _restart_max: cython.longlong
    _gap_wait: cython.longlong
    _jump_max: cython.longlong
    _rate: cython.longlong
    _move: cython.double
    _sc_after: cython.longlong
    _grace: cython.longlong
    _offline_after: cython.longlong
    _alarm_ms: cython.longlong
    _ent_in: cython.longlong
    _ent_out: cython.longlong
    _warn_ratio: cython.double
    _severe_ratio: cython.double
    _hold: tuple[int, ...]
    _clear_hold: tuple[int, ...]
    _messages: cython.longlong
    _duplicates: cython.longlong
    _stale: cython.longlong
    _restarts: cython.longlong
    _implausible: cython.longlong
    _raised: dict[FaultType, int]
    _cleared: dict[FaultType, int]
    _modes: list[ModeChange]

    def __init__(
        self, settings: DetectorSettings | None = None, rated_speed: Mapping[str, float] | None = None
    ) -> None:
        s = settings if settings is not None else DetectorSettings()
        self._settings = s
        self._rated = dict(rated_speed or {})
        self._states = {}
        if cython.compiled:
            self._tabbuf = bytearray()
            self._cap = 0
            self._grow()
        # Timers: a heap of (platform time due, the state's index in _by_idx), least first; a state's
        # ``sched`` is its live entry (older ones are skipped when popped), so tick() costs what is due,
        # not what is pending. Compiled, pairs of C integers (_push, _pop); as plain Python, ints
        # due * 2**32 + index. Never a tuple with the state: three objects a push (every ride pushes one),
        # compared through Python, counted by the cycle collector.
        self._hn = 0
        if cython.compiled:
            self._hbuf = bytearray(16 * 1024)
            self._hp = cython.cast(cython.p_longlong, cython.cast(cython.p_char, self._hbuf))
        self._heap = []
        self._by_idx = []
        self._next_scan = _LONG_AGO
        # elevators out of service in the registry (suspended, scrapped): their terminals may fall
        # silent with the lift switched off, which is no terminal_offline fault
        self._out_of_service = set()
        self._skew = s.clock_skew_ms
        window = min(s.reorder_window, 64)
        self._window = window
        self._wmask = (1 << window) - 1
        self._restart_max = s.restart_seq_max
        self._gap_wait = s.gap_wait_ms
        self._jump_max = s.seq_jump_max
        self._rate = s.seq_rate_max
        self._move = s.unintended_movement_speed
        self._sc_after = s.safety_circuit_after_run_ms
        self._grace = s.tick_grace_ms
        self._offline_after = s.offline_after_ms
        self._alarm_ms = s.alarm_auto_clear_ms
        self._ent_in = s.entrapment_in_zone_ms
        self._ent_out = s.entrapment_outside_zone_ms
        self._warn_ratio = s.overspeed_warning_ratio
        self._severe_ratio = s.overspeed_severe_ratio
        c = s.confirm_ms
        o = s.overspeed_confirm_ms
        # threshold per slot (entrapment: chosen by door zone when the condition starts)
        self._hold = (c, s.unintended_movement_confirm_ms, c, c, o, o, c, c)
        self._hold += (s.door_close_timeout_ms, s.door_open_timeout_ms, s.entrapment_outside_zone_ms, 0, 0)
        cc = s.clear_confirm_ms
        self._clear_hold = (cc,) * _FLOOR + (0, 0)  # a lost position clears on the next run
        self._messages = 0
        self._duplicates = 0
        self._stale = 0
        self._restarts = 0
        self._implausible = 0
        self._raised = {}
        self._cleared = {}
        self._modes = []

    # ------------------------------------------------------------------ public API

    @property
    def settings(self) -> DetectorSettings:
        return self._settings

    @property
    def stats(self) -> DetectorStats:
        return DetectorStats(
            self._messages,
            self._duplicates,
            self._stale,
            self._restarts,
            dict(self._raised),
            dict(self._cleared),
            self._implausible,
        )

    @cython.locals(seq=cython.longlong)
    def feed(self, code: str, msg: Message, now_ms: int) -> list[FaultChange]:
        """Apply one message of elevator ``code`` received at ``now_ms``: the faults it raised or cleared
        (a message that fills a gap in ``seq`` also applies the messages held behind it)."""
        tp = type(msg)
        if tp is Status:
            seq = _field(msg, _S_SEQ)
        elif tp is Event:
            seq = _field(msg, _E_SEQ)
        elif tp is Heartbeat:
            seq = _field(msg, _H_SEQ)
        else:  # the compiled detector reads these three types' fields by their place in the object
            raise TypeError(f"not a status, event or heartbeat: {tp.__name__}")
        self._messages += 1
        out: list[FaultChange] = []
        st: _State | None = self._find(code)
        if st is None:
            st = self._new_state(code)
        if seq - 1 != st.seq or st.held is not None:
            self._order(code, st, msg, seq, now_ms, out)
            return out
        # in order, nothing waiting: the hot path
        if st.miss:
            st.miss = (st.miss << 1) & self._wmask  # _advance(st, 1)
        st.seq = seq
        self._take(code, st, msg, now_ms, True, True, out)
        return out

    @cython.cfunc
    def _order(
        self, code: str, st: _State, msg: Message, seq: int, now_ms: int, out: list[FaultChange]
    ) -> None:
        """A message out of the plain order: the first of a terminal, one after a gap (held until the gap
        fills or ``gap_wait_ms`` passes), the one that fills a gap, a late one, a duplicate, a restart, or a
        seq too far from the count to be trusted."""
        if st.held is not None and now_ms >= self._gap_due(st.held):
            self._release(code, st, now_ms, out)  # waited long enough for the missing ones
        top = st.seq
        if top < 0 and not st.last_seen:  # the first message of this terminal sets the count
            self._advance(st, seq - top)
            st.seq = seq
            self._take(code, st, msg, now_ms, True, seq == 0, out)
            return
        if seq > top:
            jump = seq - top
            if jump == 1:  # fills the gap in front of the held messages
                if st.miss:
                    self._advance(st, 1)
                st.seq = seq
                self._take(code, st, msg, now_ms, True, True, out)
                self._drain(code, st, out, False)
                return
            if jump > self._window and (
                jump > self._jump_max
                or jump > self._window + self._rate * max(0, now_ms - st.last_seen) // 1000
            ):
                self._renumber(code, st, msg, now_ms, out)
                return
            if self._gap_wait:
                self._hold_back(code, st, msg, now_ms, out)
                return
            self._advance(st, jump)
            st.seq = seq
            self._take(code, st, msg, now_ms, True, False, out)
            return
        if top - seq > self._jump_max:
            self._renumber(code, st, msg, now_ms, out)
            return
        if seq < self._restart_max and seq < top:
            t, judge, _, _ = self._time(st, msg, now_ms)
            trusted = judge is not False and t == msg.ts
            if t > st.t and (trusted or top - seq >= self._window):  # an untrusted clock: only a far drop
                # A small seq with a newer time: the terminal rebooted and counts from 0 again.
                self._restart(code, st, now_ms, out)
                self._order(code, st, msg, seq, now_ms, out)
                return
        back = top - seq
        if back < self._window:
            if not (st.miss >> back) & 1:
                self._duplicates += 1
                return
            st.miss &= ~(1 << back)  # a late arrival filling a gap
        self._take(code, st, msg, now_ms, False, False, out)

    @cython.cfunc
    def _hold_back(self, code: str, st: _State, msg: Message, now_ms: int, out: list[FaultChange]) -> None:
        """Keep a message that came after a gap in seq until the gap fills or gap_wait_ms passes: a message
        that overtook another must not let the detector confirm a condition the other one ended."""
        held = st.held
        if held is None:
            held = st.held = []
        seq = msg.seq
        i = bisect_left(held, seq, key=_first)
        if i < len(held) and held[i][0] == seq:
            self._duplicates += 1
            return
        held.insert(i, (seq, now_ms, msg))
        if now_ms >= st.last_seen:
            st.last_seen = now_ms  # alive, whatever its order
        if st.offline:
            self._back_online(st, msg.msg_id, now_ms, out)
        if len(held) > self._window:  # bounded: the oldest gap is given up
            self._drain(code, st, out, True)
        self._schedule(code, st)

    @cython.cfunc
    def _drain(self, code: str, st: _State, out: list[FaultChange], give_up: bool) -> None:
        """Apply the held messages that now follow the count (with ``give_up``, first the lowest one, the
        seqs before it being lost), in seq order, each timed as when it was received."""
        held = st.held
        if held is None:
            return
        seen = st.last_seen
        while held and (give_up or held[0][0] == st.seq + 1):
            seq, at, msg = held.pop(0)
            contiguous = seq == st.seq + 1
            if not contiguous or st.miss:
                self._advance(st, seq - st.seq)
            st.seq = seq
            self._take(code, st, msg, at, True, contiguous, out)
            give_up = False
            if at < seen:  # later messages came while it waited: the terminal's clock when the latest came
                st.last_seen = seen
                st.lead += seen - at
        if not held:
            st.held = None
        if st.held is not None or st.next_due < _NEVER:
            self._schedule(code, st)

    @cython.cfunc
    def _release(
        self, code: str, st: _State, now_ms: int, out: list[FaultChange], every: bool = False
    ) -> None:
        """Stop waiting for the missing messages whose gap_wait_ms passed by ``now_ms`` (``every``: all)."""
        while st.held is not None and (every or now_ms >= self._gap_due(st.held)):
            self._drain(code, st, out, True)

    @cython.cfunc
    def _gap_due(self, held: list[tuple[int, int, Message]]) -> int:
        """Platform time when waiting for the gap in front of the held messages ends: gap_wait_ms after it
        became known, i.e. after the first of them arrived."""
        return min((h[1] for h in held), default=_NEVER) + self._gap_wait

    @cython.cfunc
    def _restart(self, code: str, st: _State, now_ms: int, out: list[FaultChange]) -> None:
        """The terminal counts from a new base: what was held of the old count is applied, then the count
        starts again (the next message is the first of it)."""
        self._release(code, st, now_ms, out, every=True)
        self._restarts += 1
        st.seq = -1
        st.miss = 0
        st.sseq = -1
        st.events.clear()
        st.stop_floor = _NO_FLOOR

    @cython.cfunc
    def _renumber(self, code: str, st: _State, msg: Message, now_ms: int, out: list[FaultChange]) -> None:
        """A seq implausibly far from the count (more than seq_jump_max, or further ahead than the terminal
        could have published since it was last heard): not trusted, so one forged or corrupt message cannot
        make the terminal's real messages stale. Three such messages numbered in a row are a terminal that
        really counts from elsewhere now (replaced, or a new base): the third starts the new count."""
        seq = msg.seq
        if st.alt_n and 0 < seq - st.alt <= self._window:
            st.alt_n += 1
        else:
            st.alt_n = 1
        st.alt = seq
        if st.alt_n < _RENUMBER_AFTER:
            self._implausible += 1
            return
        st.alt_n = 0
        st.alt = -1
        self._restart(code, st, now_ms, out)
        self._advance(st, self._window)  # the seqs before it, if they come, are late, not duplicates
        st.seq = seq
        self._take(code, st, msg, now_ms, True, False, out)

    @cython.cfunc
    def _time(self, st: _State, msg: Message, now_ms: int) -> tuple[int, bool | None, int, int]:
        """The event time of a message, the judgement of the terminal's clock it allows (True sound, False
        wrong, None cannot tell), its lead (the terminal's clock when it sent the message less the event
        time: a backlog's age) and the clock offset a clock_skew fault reports."""
        ts = msg.ts
        skew = self._skew
        sent = msg.sent_ts
        if sent is not None:  # the clock error is measured on sent_ts; ts - sent_ts is the message's age
            err = sent - now_ms
            if -skew <= err <= skew:
                if ts - sent <= skew:
                    return ts, True, sent - ts, err
                return now_ms, False, 0, ts - now_ms  # observed after it was sent: the stamps are wrong
            return now_ms, False, 0, err
        off = ts - now_ms
        if -skew <= off <= skew:
            return ts, True, 0, off
        if msg.backlog and off < 0:  # old because it waited in the terminal's backlog: age, not clock error
            if st.skewed:
                return now_ms, None, 0, off  # the clock is known wrong: timed by arrival, as before
            clk = now_ms + (st.t + st.lead - st.last_seen if st.last_seen else 0)  # its clock, as last known
            return ts, None, clk - ts, off
        return now_ms, False, 0, off

    @cython.cfunc
    @cython.locals(
        status=cython.bint,
        o_ts=cython.Py_ssize_t,
        o_sent=cython.Py_ssize_t,
        o_backlog=cython.Py_ssize_t,
        o_id=cython.Py_ssize_t,
        ts=cython.longlong,
        off=cython.longlong,
        skew=cython.longlong,
        t=cython.longlong,
        m=cython.longlong,
        running=cython.bint,
        was_running=cython.bint,
        dc=cython.bint,
        d=cython.longlong,
        floor=cython.longlong,
        speed=cython.double,
        rated=cython.double,
    )
    def _take(
        self,
        code: str,
        st: _State,
        msg: Message,
        now_ms: cython.longlong,
        fresh: cython.bint,
        contiguous: cython.bint,
        out: list[FaultChange],
    ) -> None:
        """Apply one message in seq order: feed()'s body, also for a held or late message the ordering code
        applies. ``fresh``: newer than every message applied (else late: a status is stale, an event still
        counts); ``contiguous``: right after the newest, no seq missing between."""
        tp = type(msg)
        status = tp is Status
        if status:
            o_ts, o_sent, o_backlog, o_id = _S_TS, _S_SENT, _S_BACKLOG, _S_ID
        elif tp is Event:
            o_ts, o_sent, o_backlog, o_id = _E_TS, _E_SENT, _E_BACKLOG, _E_ID
        else:
            o_ts, o_sent, o_backlog, o_id = _H_TS, _H_SENT, _H_BACKLOG, _H_ID
        ts = _field(msg, o_ts)
        off = ts - now_ms
        skew = self._skew
        if _field(msg, o_sent) is None and (-skew <= off <= skew or not _field(msg, o_backlog)):
            if -skew <= off <= skew:
                t = ts
                judge: bool | None = True
            else:
                t = now_ms
                judge = False
            lead = 0
        else:  # a backlog, or a terminal that says when it sent the message
            t, judge, lead, off = self._time(st, msg, now_ms)
        st.last_seen = now_ms
        mid: str = _field(msg, o_id)
        if st.offline:
            self._back_online(st, mid, now_ms, out)
        if fresh:
            if st.skewed is judge:
                self._skew_change(code, st, mid, off, now_ms, out)
            st.t = t
            if lead or st.lead:
                st.lead = lead
        if t >= st.next_due:
            self._expire(code, st, t, out)  # the condition held until this message at least
        _keep_id(st, mid, False)

        if type(msg) is Status:  # (status, as mypy can narrow it)
            seq = _field(msg, _S_SEQ)
            if not fresh and seq <= st.sseq:
                self._stale += 1
                return
            st.sseq = seq
            mode = _field(msg, _S_MODE)
            if mode is not st.mode:  # rare: out of line
                self._mode_change(code, st, msg, t)
            running = _field(msg, _S_RUNNING)
            was_running = st.ran
            st.ran = running
            dc = _field(msg, _S_DOOR_CLOSED)
            m = 0
            if running:
                st.last_run = t
                st.stop_floor = _NO_FLOOR
                if not dc:
                    m = B_UM
            else:
                if mode is _NORMAL:
                    if not _field(msg, _S_DOOR_ZONE):
                        m = B_SOZ
                    if dc and _field(msg, _S_PASSENGER):
                        m |= B_ENT
                elif dc and _field(msg, _S_PASSENGER) and mode is not _INSPECTION:
                    m = B_ENT
                f = _field(msg, _S_FLOOR)
                if f is not None:
                    floor = f
                    if floor != st.stop_floor:
                        if contiguous and st.stop_floor != _NO_FLOOR:
                            m |= B_FLOOR  # stopped at one floor, then at another, no run reported between
                            _firsts(st)[_FLOOR] = _kept_id(st, True)
                        st.stop_floor = floor
                    _keep_id(st, mid, True)
                if st.mask & B_FLOOR:
                    m |= B_FLOOR  # latched until the car runs again
            sp = _field(msg, _S_SPEED)
            if sp is not None:
                speed = sp
                rs = _field(msg, _S_RATED)
                if rs is not None:
                    rated = rs
                    if speed > rated * self._warn_ratio:
                        if rated != st.rated:
                            self._set_rated(st, rated)
                        m |= B_OS | B_OSS if speed > st.severe else B_OS
                elif speed > st.warn:
                    m |= B_OS | B_OSS if speed > st.severe else B_OS
                if speed > self._move and not dc:
                    m |= B_UM
            if _field(msg, _S_UP):
                m |= B_TOP
            if _field(msg, _S_DOWN):
                m |= B_BOTTOM
            if not _field(msg, _S_POWER):
                m |= B_POWER
            # Open while running, or right after: within the window, or the status before this one said
            # running (the car may run for seconds between reports, and the report that caught the opening
            # may have been overtaken by this one and dropped as stale).
            if not _field(msg, _S_SC) and (
                running or was_running or t - st.last_run <= self._sc_after or st.mask & B_SC
            ):
                m |= B_SC
            cmd = _field(msg, _S_DOOR_CMD)
            if cmd is not None:
                if cmd is _CLOSE:
                    if not dc:
                        m |= B_DCF
                elif cmd is _OPEN and dc and _field(msg, _S_DOOR_ZONE) and not running:
                    m |= B_DOF
            if m != st.mask:
                if m ^ st.mask == B_ENT:
                    # Doors shut with someone inside, or the car moves off: every ride does this twice,
                    # so the entrapment timer's start and cancel are done here, without _apply.
                    ph = st.phase[_KENT]
                    if m & B_ENT:
                        if ph == _IDLE:
                            st.mask = m
                            st.phase[_KENT] = _PENDING
                            st.since[_KENT] = t
                            _firsts(st)[_KENT] = mid
                            st.ent_zone = dz = _field(msg, _S_DOOR_ZONE)
                            d = t + (self._ent_in if dz else self._ent_out)
                            st.due[_KENT] = d
                            if d < st.next_due:
                                st.next_due = d
                            self._schedule(code, st)
                            if d <= t:
                                self._expire(code, st, t, out)
                            return
                    elif ph == _PENDING:
                        st.mask = m
                        st.phase[_KENT] = _IDLE
                        st.due[_KENT] = _NEVER
                        return
                self._apply(code, st, m, t, msg, out)
            return

        if type(msg) is Event:
            self._event(code, st, msg, t, out)

    @cython.locals(due=cython.longlong)
    def tick(self, now_ms: int) -> list[FaultChange]:
        """Confirm timers that are due (held conditions, alarm auto-clear) and find silent terminals.

        Call it about once a second with the platform time; it may be late, the changes are dated when
        their thresholds were crossed. Timers are checked on the terminal's clock less ``tick_grace_ms``,
        so a message already on its way can still cancel a condition."""
        out: list[FaultChange] = []
        states = self._states
        grace = self._grace
        st: _State
        while True:
            due = self._next()
            if due > now_ms or due == _NEVER:  # (_NEVER: the heap is empty, whatever now_ms says)
                break
            st = self._by_idx[self._pop()]
            if st.sched != due:
                continue  # superseded by an earlier entry for this state, or the state was replaced
            st.sched = _NEVER
            code = st.code
            if (
                st.held is not None
            ):  # a gap in seq: nothing is confirmed across it until it fills or is given up
                if now_ms >= self._gap_due(st.held):
                    self._release(code, st, now_ms, out)
                if st.held is not None:
                    self._schedule(code, st)
                    continue
            if st.next_due < _NEVER:
                # The terminal's clock, less the grace: its time when the newest message came, plus the time
                # since. After a backlog that is when the terminal sent it (its lead), once the grace has
                # passed without the next backlog message.
                e = now_ms - st.last_seen
                until = st.t + e - grace
                if st.lead and (e >= grace or st.lead < 0):
                    until += st.lead
                if st.next_due <= until:
                    self._expire(code, st, until, out)
                if st.next_due < _NEVER:
                    self._schedule(code, st)

        if now_ms >= self._next_scan:
            self._next_scan = now_ms + _OFFLINE_SCAN_MS
            after = self._offline_after
            limit = now_ms - after
            ft = FaultType.TERMINAL_OFFLINE
            quiet = self._out_of_service
            for code, st in states.items():
                if st.last_seen <= limit and not st.offline and code not in quiet:
                    st.offline = True
                    lid = _kept_id(st, False)
                    evidence = (lid,) if lid else ()
                    at = st.last_seen + after
                    ch = FaultChange(
                        code, ft, True, at, st.last_seen, SEVERITY[ft], evidence, {"silent_ms": after}
                    )
                    self._raise(st, ch, _PLATFORM, out)
        if len(out) > 1:
            out.sort(key=_at_code)
        return out

    @property
    def mode_changes(self) -> list[ModeChange]:
        """The service-mode changes not yet taken: always the same list object, so a caller's loop can test
        it after each feed() (one truth test) and take them while its own view of the message is current."""
        return self._modes

    def take_mode_changes(self) -> list[ModeChange]:
        """The service-mode changes since the last call, in the order the messages were applied; a separate
        output from the fault changes so feed()'s callers and its hot path stay as they are."""
        if not self._modes:
            return []
        modes = self._modes[:]
        self._modes.clear()
        return modes

    def open_faults(self, code: str) -> list[FaultChange]:
        """The raise-changes of the faults open now on ``code`` (for overspeed, the latest severity)."""
        st: _State | None = self._states.get(code)
        if st is None:
            return []
        return sorted((o.change for o in st.open.values()), key=lambda c: (c.started_ms, c.fault_type))

    def dump(self, codes: Iterable[str] | None = None) -> dict[str, bytes]:
        """Per-elevator state as msgpack, to be stored and given back to load() after a restart."""
        states = self._states
        keys = states.keys() if codes is None else codes
        return {c: _encode(states[c].record()) for c in keys if c in states}

    def set_rated_speed(self, code: str, rated: float | None) -> None:
        """The registry's rated speed of ``code`` was set or changed (None: removed); the overspeed rule
        uses it from the next message on. A rated speed the terminal reports still takes precedence."""
        if rated:
            self._rated[code] = rated
        else:
            self._rated.pop(code, None)
        st = self._states.get(code)
        if st is not None:
            self._set_rated(st, rated or 0.0)

    def set_in_service(self, code: str, in_service: bool) -> None:
        """The registry's status of ``code``: out of service (suspended, scrapped), its terminal's silence
        raises no ``terminal_offline``; back in use, the silence watch resumes."""
        if in_service:
            self._out_of_service.discard(code)
        else:
            self._out_of_service.add(code)

    def rated_speed(self, code: str) -> float | None:
        """The registry's rated speed of ``code`` as the detector knows it (None: not known)."""
        return self._rated.get(code)

    def in_service(self, code: str) -> bool:
        """False when the registry said ``code`` is out of service (its silence raises nothing)."""
        return code not in self._out_of_service

    def load(self, states: Mapping[str, bytes]) -> None:
        """Restore dumped states (replacing those of the same codes); timers and silence watch resume."""
        for code, blob in states.items():
            self._restore(code, _State(code, _decode(blob)))

    def dump_all(self) -> bytes:
        """Every elevator's state as one msgpack map (code -> state), for a checkpoint: encoded in one
        pass, half the time of ``dump()``'s bytes per elevator copied again into one blob. The cycle
        collector waits meanwhile: the lists built per elevator form no cycle, and freed at once they would
        only make it walk every state again and again (two thirds of the time)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return _encode({c: st.record() for c, st in self._states.items()})
        finally:
            if paused:
                gc.enable()

    def load_all(self, blob: bytes) -> None:
        """Restore a ``dump_all()`` blob, or a map of ``dump()``'s per-elevator bytes (checkpoints saved
        before ``dump_all`` existed)."""
        paused = gc.isenabled()
        gc.disable()  # as in dump_all: a state holds no cycle
        try:
            try:
                states = _decode_all(blob)
            except msgspec.ValidationError:
                self.load(_decode_blobs(blob))
                return
            for code, r in states.items():
                self._restore(code, _State(code, r))
        finally:
            if paused:
                gc.enable()

    @cython.cfunc
    def _restore(self, code: str, st: _State) -> None:
        self._set_rated(st, st.rated)
        old: _State | None = self._states.get(code)
        if old is None:
            st.idx = len(self._by_idx)
            self._by_idx.append(st)
        else:  # in the old state's place: the old one's heap entries now name st, and its ``sched``
            # skips them (one due at the very time st is due does st's own entry's work)
            st.idx = old.idx
            self._by_idx[st.idx] = st
        self._states[code] = st
        self._put(st)
        if st.next_due < _NEVER or st.held is not None:
            self._schedule(code, st)

    # ------------------------------------------------------------------ internals

    @cython.cfunc
    def _new_state(self, code: str) -> _State:
        st = _State(code)
        rated: float | None = self._rated.get(code)
        if rated:
            self._set_rated(st, rated)
        st.idx = len(self._by_idx)
        self._by_idx.append(st)
        self._states[code] = st
        self._put(st)
        return st

    @cython.cfunc
    @cython.locals(
        h=cython.Py_hash_t,
        i=cython.Py_ssize_t,
        mask=cython.Py_ssize_t,
        p=cython.longlong,
        n=cython.Py_ssize_t,
        j=cython.Py_ssize_t,
    )
    def _find(self, code: str) -> _State | None:
        """The state of ``code``, or None. Compiled, looked up in the table: a probe reads one 16-byte slot
        (the hash, the state's address), where the dict reads its index, its entry and its key object, each a
        cache miss among 50,000 states; the code's characters kept in the state settle a shared hash."""
        if not cython.compiled:
            return self._states.get(code)
        h = hash(code)
        mask = self._cap - 1
        i = h & mask
        n = len(code)
        while True:
            p = self._tab[2 * i + 1]
            if p == 0:
                return None
            if self._tab[2 * i] == h:
                st: _State = cython.cast(_State, cython.cast(cython.p_void, p))
                if st.clen == 0:
                    if st.code == code:
                        return st
                elif st.clen == n:
                    j = 0
                    while j < n and code[j] == st.ccode[j]:
                        j += 1
                    if j == n:
                        return st
            i = (i + 1) & mask

    @cython.cfunc
    @cython.locals(h=cython.Py_hash_t, i=cython.Py_ssize_t, mask=cython.Py_ssize_t, p=cython.longlong)
    def _put(self, st: _State) -> None:
        """Point the table at ``st``, just stored in the dict under its code (replacing the state before)."""
        if not cython.compiled:
            return
        if 2 * len(self._states) > self._cap:
            self._grow()  # (reads every state from the dict, this one too)
            return
        code = st.code
        h = hash(code)
        mask = self._cap - 1
        i = h & mask
        while True:
            p = self._tab[2 * i + 1]
            if p == 0 or (
                self._tab[2 * i] == h and cython.cast(_State, cython.cast(cython.p_void, p)).code == code
            ):
                break
            i = (i + 1) & mask
        self._tab[2 * i] = h
        self._tab[2 * i + 1] = cython.cast(cython.longlong, cython.cast(cython.p_void, st))

    @cython.cfunc
    @cython.locals(h=cython.Py_hash_t, i=cython.Py_ssize_t, mask=cython.Py_ssize_t, cap=cython.Py_ssize_t)
    def _grow(self) -> None:
        """The table rebuilt from the dict, four times the states or more: it stays between a quarter and a
        half full until the next rebuild, so probes stay short."""
        cap = max(self._cap, 1024)
        while cap < 4 * len(self._states):
            cap *= 2
        self._tabbuf = bytearray(16 * cap)  # zeros: every slot empty
        self._tab = cython.cast(cython.p_longlong, cython.cast(cython.p_char, self._tabbuf))
        self._cap = cap
        mask = cap - 1
        st: _State
        for st in self._states.values():
            h = hash(st.code)
            i = h & mask
            while self._tab[2 * i + 1] != 0:
                i = (i + 1) & mask
            self._tab[2 * i] = h
            self._tab[2 * i + 1] = cython.cast(cython.longlong, cython.cast(cython.p_void, st))

    @cython.cfunc
    @cython.locals(due=cython.longlong)
    def _schedule(self, code: str, st: _State) -> None:
        """Make sure tick() looks at ``code`` when its next timer is due, or its wait for a gap in seq ends
        (in platform time)."""
        grace = self._grace
        if st.held is not None:
            due = self._gap_due(st.held)
        else:
            due = st.next_due - (st.t + st.lead - st.last_seen) + grace
            if st.lead and due < st.last_seen + grace:
                due = st.last_seen + grace
        if due < st.sched:
            st.sched = due
            self._push(due, st.idx)

    @cython.cfunc
    @cython.locals(i=cython.Py_ssize_t, up=cython.Py_ssize_t, hp=cython.p_longlong)
    def _push(self, due: cython.longlong, idx: cython.longlong) -> None:
        """A timer entry: state ``idx`` is due at ``due``."""
        if not cython.compiled:
            key: Any = due
            heapq.heappush(self._heap, (key << _IDX_BITS) | idx)
            return
        if 16 * (self._hn + 1) > len(self._hbuf):
            self._hbuf += bytes(len(self._hbuf))  # twice the room; the buffer may move
            self._hp = cython.cast(cython.p_longlong, cython.cast(cython.p_char, self._hbuf))
        hp = self._hp
        i = self._hn
        self._hn += 1
        while i > 0:  # up from the new leaf, past every parent that comes later
            up = (i - 1) >> 1
            if hp[2 * up] < due or (hp[2 * up] == due and hp[2 * up + 1] < idx):
                break
            hp[2 * i] = hp[2 * up]
            hp[2 * i + 1] = hp[2 * up + 1]
            i = up
        hp[2 * i] = due
        hp[2 * i + 1] = idx

    @cython.cfunc
    def _next(self) -> cython.longlong:
        """When the first timer entry is due (_NEVER: none)."""
        if not cython.compiled:
            return self._heap[0] >> _IDX_BITS if self._heap else _NEVER
        return self._hp[0] if self._hn else _NEVER

    @cython.cfunc
    @cython.locals(
        i=cython.Py_ssize_t,
        c=cython.Py_ssize_t,
        n=cython.Py_ssize_t,
        hp=cython.p_longlong,
        due=cython.longlong,
        last=cython.longlong,
    )
    def _pop(self) -> cython.longlong:
        """Take the first timer entry (there is one): its state's index."""
        if not cython.compiled:
            return heapq.heappop(self._heap) & _IDX_MASK
        hp = self._hp
        idx: cython.longlong = hp[1]
        self._hn -= 1
        n = self._hn
        due = hp[2 * n]  # the last entry, sifted down from the root
        last = hp[2 * n + 1]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and (
                hp[2 * c + 2] < hp[2 * c] or (hp[2 * c + 2] == hp[2 * c] and hp[2 * c + 3] < hp[2 * c + 1])
            ):
                c += 1  # the lesser child
            if due < hp[2 * c] or (due == hp[2 * c] and last < hp[2 * c + 1]):
                break
            hp[2 * i] = hp[2 * c]
            hp[2 * i + 1] = hp[2 * c + 1]
            i = c
        hp[2 * i] = due
        hp[2 * i + 1] = last
        return idx

    @cython.cfunc
    def _advance(self, st: _State, gap: cython.longlong) -> None:
        """The newest seq moves ``gap`` ahead: the seqs skipped over are gaps a late message may fill."""
        if gap < 0:  # (never: the count only moves ahead) a C shift by a negative count is undefined
            raise ValueError(f"the newest seq cannot move back by {-gap}")
        if gap >= self._window:
            st.miss = self._wmask ^ 1
        else:  # 0 <= gap < window <= 64: the shifts stay inside 64 bits
            st.miss = ((st.miss << gap) | ((_ONE << gap) - 2)) & self._wmask

    @cython.cfunc
    def _set_rated(self, st: _State, rated: float) -> None:
        st.rated = rated
        if rated > 0:
            st.warn = rated * self._warn_ratio
            st.severe = rated * self._severe_ratio
        else:
            st.warn = st.severe = math.inf

    @cython.cfunc
    def _raise(self, st: _State, ch: FaultChange, source: int, out: list[FaultChange]) -> None:
        if st.open is _NO_OPEN:
            st.open = {}
        st.open[ch.fault_type.value] = _Open(ch, source)
        self._raised[ch.fault_type] = self._raised.get(ch.fault_type, 0) + 1
        out.append(ch)

    def _clear(
        self,
        st: _State,
        o: _Open,
        at_ms: int,
        evidence: tuple[str, ...],
        out: list[FaultChange],
        **detail: object,
    ) -> None:
        r = o.change
        del st.open[r.fault_type.value]
        self._cleared[r.fault_type] = self._cleared.get(r.fault_type, 0) + 1
        out.append(
            FaultChange(
                r.registration_code, r.fault_type, False, at_ms, r.started_ms, r.severity, evidence, detail
            )
        )

    @cython.cfunc
    def _mode_change(self, code: str, st: _State, msg: Status, t: int) -> None:
        mode = _field(msg, _S_MODE)
        trips = _field(msg, _S_TRIPS)
        self._modes.append(ModeChange(code, t, mode, st.mode, trips, _field(msg, _S_DOOR_CYCLES)))
        st.mode = mode

    @cython.cfunc
    def _back_online(self, st: _State, msg_id: str, now_ms: int, out: list[FaultChange]) -> None:
        st.offline = False
        o = st.open.get(FaultType.TERMINAL_OFFLINE.value)
        if o is not None:
            self._clear(st, o, now_ms, (msg_id,), out)

    @cython.cfunc
    def _skew_change(
        self, code: str, st: _State, msg_id: str, offset_ms: int, now_ms: int, out: list[FaultChange]
    ) -> None:
        if st.skewed:  # the clock is back within limits
            st.skewed = False
            o = st.open.get(FaultType.CLOCK_SKEW.value)
            if o is not None:
                self._clear(st, o, now_ms, (msg_id,), out)
            return
        st.skewed = True
        ft = FaultType.CLOCK_SKEW
        ch = FaultChange(code, ft, True, now_ms, now_ms, SEVERITY[ft], (msg_id,), {"offset_ms": offset_ms})
        self._raise(st, ch, _PLATFORM, out)

    @cython.cfunc
    @cython.locals(changed=cython.longlong, i=cython.Py_ssize_t, ph=cython.longlong, d=cython.longlong)
    def _apply(
        self,
        code: str,
        st: _State,
        m: cython.longlong,
        t: cython.longlong,
        msg: Status,
        out: list[FaultChange],
    ) -> None:
        """Held conditions changed: start, cancel or continue their timers."""
        changed = m ^ st.mask
        st.mask = m
        timers = False
        for i in range(_NSLOTS):
            if not (changed >> i) & 1:
                continue
            ph = st.phase[i]
            if (m >> i) & 1:  # became true
                if ph == _IDLE:
                    st.phase[i] = _PENDING
                    st.since[i] = t
                    if i == _ENT:
                        _firsts(st)[i] = _field(msg, _S_ID)
                        st.ent_zone = dz = _field(msg, _S_DOOR_ZONE)
                        d = t + (self._ent_in if dz else self._hold[i])
                    else:
                        if i != _FLOOR:  # (the floor rule's first evidence is the earlier stop, set by feed)
                            _firsts(st)[i] = _field(msg, _S_ID)
                        d = t + self._hold[i]
                    st.due[i] = d
                    if d < st.next_due:
                        st.next_due = d
                    timers = True
                elif ph == _CLEARING:  # back inside the clear window: the same fault goes on
                    st.phase[i] = _ACTIVE
                    st.due[i] = _NEVER
            elif ph == _PENDING:  # became false before it held long enough: chatter, nothing raised
                st.phase[i] = _IDLE
                st.due[i] = _NEVER  # (next_due may now be early: it is a lower bound, _expire refreshes it)
            elif ph == _ACTIVE:  # became false
                o = st.open.get(_SLOT_FAULT[i].value)
                if i != _OSS and o is not None and o.source == _RULE:
                    st.phase[i] = _CLEARING
                    st.since[i] = t
                    _firsts(st)[i] = _field(msg, _S_ID)
                    d = t + self._clear_hold[i]
                    st.due[i] = d
                    if d < st.next_due:
                        st.next_due = d
                    timers = True
                else:
                    st.phase[i] = _IDLE
        if timers:
            self._schedule(code, st)
            if st.next_due <= t:
                self._expire(code, st, t, out)

    @cython.cfunc
    @cython.locals(d=cython.longlong, i=cython.Py_ssize_t, j=cython.Py_ssize_t, ph=cython.longlong)
    def _expire(self, code: str, st: _State, until: cython.longlong, out: list[FaultChange]) -> None:
        """Fire every timer due at or before ``until`` (event time), earliest first."""
        while True:
            d = _NEVER
            i = 0
            for j in range(_NSLOTS):
                if st.due[j] < d:
                    d = st.due[j]
                    i = j
            if d > until:
                st.next_due = d
                return
            st.due[i] = _NEVER
            ph = st.phase[i]
            ft = _SLOT_FAULT[i]
            o = st.open.get(ft.value)
            if i == _ALARM:  # auto-clear of an alarm nobody cleared
                if o is not None:
                    self._clear(st, o, d, (), out, auto_cleared=True)
                continue
            if ph == _PENDING:
                st.phase[i] = _ACTIVE
                ev0 = st.first.get(i, "")
                lid = _kept_id(st, False)  # the newest message while the condition held: it confirmed it
                evidence = (ev0,) if ev0 == lid or not lid else (ev0, lid)
                if i == _OSS:  # severe overspeed confirmed: the open overspeed fault becomes critical
                    if o is not None and o.change.severity is not Severity.CRITICAL:
                        r = o.change
                        ch = FaultChange(
                            code, ft, True, d, r.started_ms, Severity.CRITICAL, evidence, r.detail
                        )
                        o.change = ch
                        out.append(ch)
                    continue
                if o is not None:
                    continue  # already open (a controller event said so first)
                severity = SEVERITY[ft]
                detail: dict[str, object] = {}
                if i == _OS:
                    detail = {"rated_speed": st.rated}
                    if st.phase[_OSS] == _ACTIVE or (st.phase[_OSS] == _PENDING and st.due[_OSS] <= d):
                        severity = Severity.CRITICAL
                        st.phase[_OSS] = _ACTIVE
                        st.due[_OSS] = _NEVER
                elif i == _ENT:
                    detail = {"in_door_zone": st.ent_zone}
                ch = FaultChange(code, ft, True, d, st.since[i], severity, evidence, detail)
                self._raise(st, ch, _RULE, out)
            elif ph == _CLEARING:
                st.phase[i] = _IDLE
                if o is not None and o.source == _RULE:
                    self._clear(st, o, st.since[i], (st.first.get(i, ""),), out)

    @cython.cfunc
    def _event(self, code: str, st: _State, msg: Event, t: int, out: list[FaultChange]) -> None:
        """A controller event raises or clears at once; a late one counts unless its code has a newer one."""
        ec = msg.code
        if ec is _MODE_CHANGE:
            return
        key = ec.value
        ft = EVENT_FAULT[ec]
        o = st.open.get(ft.value)
        last = st.events.get(key)
        if last is not None and msg.seq <= last[0]:
            if msg.seq == last[0]:
                self._duplicates += 1
                return
            self._stale += 1
            # Older than what we know: only the missing raise of a clear that found nothing open matters.
            if msg.active and last[1] == _EV_ORPHAN and o is None:
                ch = FaultChange(code, ft, True, t, t, SEVERITY[ft], (msg.msg_id,), self._event_detail(msg))
                self._raise(st, ch, _CONTROLLER, out)
                self._clear(st, st.open[ft.value], max(t, last[2]), (last[3],), out)
                st.events[key] = (last[0], _EV_CLEARED, last[2], last[3])
            return
        kind = _EV_RAISE if msg.active else _EV_CLEARED if o is not None else _EV_ORPHAN
        if st.events is _NO_EVENTS:
            st.events = {}
        st.events[key] = (msg.seq, kind, t, msg.msg_id)
        slot = _FAULT_SLOT.get(ft.value)
        if msg.active:
            if ec is _ALARM_CODE:  # auto-clear timer, pushed back by every press
                d = t + self._alarm_ms
                if o is not None and d < st.due[_ALARM] < _NEVER:
                    d = st.due[_ALARM]
                st.due[_ALARM] = d
                if d < st.next_due:
                    st.next_due = d
                self._schedule(code, st)
            if o is None:
                ch = FaultChange(code, ft, True, t, t, SEVERITY[ft], (msg.msg_id,), self._event_detail(msg))
                self._raise(st, ch, _CONTROLLER, out)
            return
        if o is not None:
            self._clear(st, o, t, (msg.msg_id,), out)
        if slot is not None:
            if slot == _ALARM:
                st.due[slot] = _NEVER
            elif st.phase[slot] == _CLEARING:  # the controller has cleared it: nothing left to clear
                st.phase[slot] = _IDLE
                st.due[slot] = _NEVER

    @staticmethod
    def _event_detail(msg: Event) -> dict[str, object]:
        d: dict[str, object] = {"event_code": msg.code.value}
        if msg.detail:
            d["detail"] = msg.detail
        return d
