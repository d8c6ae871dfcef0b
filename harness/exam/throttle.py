"""Slowing down guessing: trainer sign-in and code entry answer wrong tries with a wait that
doubles with every failure, per client address and for everyone together.

Written here rather than taken from `limits` or `slowapi`: those count requests in windows,
while a guess must be slowed by its *failures* (a right code must not feed an attacker's budget,
and a right guess inside a wait must be refused like a wrong one), with a wait that grows. The
state is one process's memory, which is what `deesc serve` is (no Redis here); a restart forgets
it, which costs an attacker a restart they cannot cause."""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("deesc.exam")


@dataclass(frozen=True)
class Backoff:
    """`free` wrong tries within `window_s` pass at once; from the `free`-th on, each makes the
    next try wait `base_s * 2 ** (failures - free)` seconds, at most `max_s`. Failures are
    forgotten `window_s` after they happened.

    With the defaults a guesser gets 5 tries at once, then waits 2, 4, 8, 16, 32 ... s: at most
    9 tries in any minute, and about one a minute once the window is full."""

    free: int = 5
    base_s: float = 2.0
    max_s: float = 300.0
    window_s: float = 600.0

    def wait_after(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** (failures - self.free))


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    until: float = 0.0  # no try is looked at before this time
    refused: int = 0  # tries refused unchecked since the last failure was logged


class Throttle:
    """Failures of one kind of guess (`what`), per client address and over all addresses."""

    def __init__(
        self,
        what: str,
        per_address: Backoff = Backoff(),
        overall: Backoff = Backoff(free=50, base_s=1.0, max_s=60.0),
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 100_000,
    ) -> None:
        self.what = what
        self.per_address = per_address
        self.overall = overall
        self.clock = clock
        self.max_addresses = max_addresses  # a flood of spoofed addresses cannot fill memory
        self._addresses: dict[str, _Record] = {}
        self._all = _Record()

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may try again (0: now). A try made before then must be
        refused without being checked."""
        now = self.clock()
        own = self._addresses.get(address)
        return max([0.0, *(r.until - now for r in (own, self._all) if r is not None)])

    def failed(self, address: str) -> float:
        """Record a wrong try; the wait it causes for this address (the larger of its own and
        everyone's)."""
        now = self.clock()
        if address not in self._addresses and len(self._addresses) >= self.max_addresses:
            self._forget_quiet(now)
        own = self._addresses.setdefault(address, _Record())
        waits = [0.0]
        rules = ((own, self.per_address, address), (self._all, self.overall, "all addresses"))
        for record, rule, who in rules:
            _prune(record, now - rule.window_s)
            record.failures.append(now)
            wait = rule.wait_after(len(record.failures))
            if wait:
                record.until = max(record.until, now + wait)
                log.warning(
                    "%s: %d wrong tries from %s in the last %s (%d more refused unchecked); "
                    "next try in %s", self.what, len(record.failures), who,
                    _duration(rule.window_s), record.refused, _duration(wait),
                )  # fmt: skip
                record.refused = 0
            waits.append(record.until - now)
        return max(waits)

    def refused(self, address: str) -> None:
        """Count a try that came during a wait (it is logged with the next failure, so that a
        flood of refused tries does not flood the log)."""
        for record in (self._addresses.get(address), self._all):
            if record is not None:
                record.refused += 1

    def _forget_quiet(self, now: float) -> None:
        cutoff = now - self.per_address.window_s
        for key in [k for k, r in self._addresses.items() if _prune(r, cutoff) == 0]:
            if self._addresses[key].until <= now:
                del self._addresses[key]
        while len(self._addresses) >= self.max_addresses:  # all busy: drop the oldest
            del self._addresses[next(iter(self._addresses))]


def _prune(record: _Record, cutoff: float) -> int:
    while record.failures and record.failures[0] <= cutoff:
        record.failures.popleft()
    return len(record.failures)


def _duration(seconds: float) -> str:
    seconds = math.ceil(seconds)
    return f"{seconds} s" if seconds < 120 else f"{round(seconds / 60)} min"
