"""Sign-in throttling: failed attempts per account and per client address, and a cap on concurrent
password checks.

Each argon2 check takes 64 MB for a moment, so unthrottled guessing costs memory as well as risking the
accounts: 16 parallel guesses took a process to 1.4 GB. After too many failures in the window an account
(or an address) is refused with 429 and a time to retry, before any password is checked; at most
``concurrency`` checks run at once, the others wait. In-process and thread-safe (the sign-in routes run in
the thread pool); memory is bounded by keeping only the most recently used keys.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from liftwatch.core.config import Settings

T = TypeVar("T")

WINDOW = timedelta(minutes=1)
MAX_KEYS = 10_000
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Throttled:
    """Why sign-in is refused and for how long (whole seconds, at least 1)."""

    scope: str  # "account" | "address" | "busy"
    retry_after: int
    until: datetime


class _Failures:
    """Recent failure times per key, for the most recently used ``max_keys`` keys (LRU)."""

    def __init__(self, limit: int, window: timedelta, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._times: OrderedDict[str, deque[datetime]] = OrderedDict()

    def blocked_until(self, key: str, now: datetime) -> datetime | None:
        """When the key may try again, if it has ``limit`` failures within the window before ``now``."""
        times = self._times.get(key)
        if times is None or len(times) < self.limit:
            return None
        until = times[0] + self.window
        return until if until > now else None

    def add(self, key: str, now: datetime) -> None:
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque(maxlen=self.limit)
            while len(self._times) > self.max_keys:
                self._times.popitem(last=False)
        else:
            self._times.move_to_end(key)
        times.append(now)

    def clear(self, key: str) -> None:
        self._times.pop(key, None)


class LoginThrottle:
    """Failed sign-ins per username (``per_account``) and per client address (``per_address``) in a
    sliding window; ``verifying()`` bounds the concurrent password checks."""

    def __init__(
        self,
        per_account: int = 10,
        per_address: int = 30,
        window: timedelta = WINDOW,
        concurrency: int = 2,
        max_keys: int = MAX_KEYS,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self._lock = threading.Lock()
        self._accounts = _Failures(per_account, window, max_keys)
        self._addresses = _Failures(per_address, window, max_keys)
        self._checks = threading.BoundedSemaphore(concurrency)
        self._wait = wait_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(
            per_account=settings.login_max_failures_account,
            per_address=settings.login_max_failures_address,
            concurrency=settings.login_concurrency,
        )

    def check(self, username: str, address: str, now: datetime) -> Throttled | None:
        """None when this attempt may go on to the password check."""
        with self._lock:
            for scope, table, key in (
                ("account", self._accounts, _account_key(username)),
                ("address", self._addresses, address),
            ):
                until = table.blocked_until(key, now)
                if until is not None:
                    seconds = max(1, math.ceil((until - now).total_seconds()))
                    return Throttled(scope, seconds, until)
        return None

    def failed(self, username: str, address: str, now: datetime) -> None:
        with self._lock:
            self._accounts.add(_account_key(username), now)
            self._addresses.add(address, now)

    def succeeded(self, username: str) -> None:
        """A right password clears the account's failures (the address keeps its own)."""
        with self._lock:
            self._accounts.clear(_account_key(username))

    def attempt(
        self, username: str, address: str, now: datetime, verify: Callable[[], T | None]
    ) -> T | Throttled | None:
        """Run ``verify`` (the password check: a user, or None when wrong) unless the account or address
        is throttled, within a check slot, and count its outcome."""
        refusal = self.check(username, address, now)
        if refusal is not None:
            return refusal
        with self.verifying(now) as busy:
            if busy is not None:
                return busy
            result = verify()
        if result is None:
            self.failed(username, address, now)
        else:
            self.succeeded(username)
        return result

    @contextmanager
    def verifying(self, now: datetime) -> Iterator[Throttled | None]:
        """Hold one of the password-check slots; yields a ``busy`` refusal instead when none frees up
        within ``wait_seconds``."""
        if not self._checks.acquire(timeout=self._wait):
            yield Throttled("busy", 1, now + timedelta(seconds=1))
            return
        try:
            yield None
        finally:
            self._checks.release()


def _account_key(username: str) -> str:
    return username.strip().casefold()


def throttle_message(refusal: Throttled) -> str:
    """The English text of a refusal, naming when to retry (the API's ``detail``)."""
    when = refusal.until.strftime("%H:%M:%S UTC")
    if refusal.scope == "busy":
        return f"too many sign-ins at once; retry in {refusal.retry_after} s"
    what = "this account" if refusal.scope == "account" else "this address"
    return f"too many failed sign-ins for {what}; retry in {refusal.retry_after} s (after {when})"
