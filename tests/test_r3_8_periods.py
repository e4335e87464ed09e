"""R3.8 / pitfall 20: day and month periods are calendar periods with real time-zone rules.

A period starts at the earliest instant whose local date is its first day — not at 00:00 with
today's UTC offset — so a DST change or a clock going back never lets spend in one local period
exceed its allowance. Each case runs with an explicit ``zoneinfo.ZoneInfo`` and with the process
zone (``TZ`` + ``time.tzset()``, the device's rules via the platform's ``localtime``/``mktime``).
"""

from __future__ import annotations

import functools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from byom.core.errors import BudgetExceeded
from byom.core.ledger import Allowance, Ledger, Period, period_start
from byom.core.money import to_pico
from byom.core.store import MemoryStore

needs_tzset = pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset() is POSIX-only")
ALL_STATES = frozenset({"reserved", "committed", "released", "unreconciled", "cleared"})
DOLLAR = Decimal("1.00")


# -- helpers ----------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def local_date(ts: float, zone: tzinfo) -> date:
    return datetime.fromtimestamp(ts, zone).date()


def reference_start(zone: tzinfo, day: date) -> float:
    """The earliest instant whose local date is ``day`` or later, by brute force (minute scan,
    then bisection over whole seconds) — independent of the code under test."""
    t = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() - 36 * 3600
    assert local_date(t, zone) < day
    while local_date(t, zone) < day:
        t += 60
    lo, hi = t - 60, t
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if local_date(mid, zone) >= day:
            hi = mid
        else:
            lo = mid
    return hi


def next_period(day: date, period: Period) -> date:
    if period == "day":
        return day + timedelta(days=1)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def make_ledger(clock: Clock, tz: tzinfo | None, allowance: Allowance) -> Ledger:
    # The process zone is the default: build that ledger exactly as app.py does (no ``tz``).
    kwargs: dict[str, Any] = {} if tz is None else {"tz": tz}
    ledger = Ledger(MemoryStore(), "app", clock=clock, **kwargs)
    ledger.set_allowance(allowance)
    return ledger


def start_of(period: Period, now: float, tz: tzinfo | None) -> float | None:
    # The process zone is the default: call it exactly as app.py does (no ``tz``).
    return period_start(period, now) if tz is None else period_start(period, now, tz)


def spend(ledger: Ledger, clock: Clock, at: float, amount: Decimal = DOLLAR) -> None:
    clock.now = at
    row = ledger.reserve(
        amount, reservation_id=uuid.uuid4().hex, feature="f", model="m", provider="p"
    )
    ledger.commit(row.id, amount)


ZoneFactory = Callable[[str], tuple[tzinfo, tzinfo | None]]


@pytest.fixture(params=["zoneinfo", pytest.param("process", marks=needs_tzset)])
def use_zone(request: pytest.FixtureRequest) -> Iterator[ZoneFactory]:
    """``use_zone(name)`` → (the zone for expectations, the ``tz`` to give the ledger)."""
    saved = os.environ.get("TZ")

    def use(name: str) -> tuple[tzinfo, tzinfo | None]:
        zone = ZoneInfo(name)
        if request.param == "zoneinfo":
            return zone, zone
        os.environ["TZ"] = name
        time.tzset()
        probe = datetime(2024, 7, 1, tzinfo=UTC).timestamp()
        expected = datetime.fromtimestamp(probe, zone).utcoffset()
        assert expected is not None and time.localtime(probe).tm_gmtoff == expected.total_seconds()
        return zone, None

    yield use
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    if hasattr(time, "tzset"):
        time.tzset()


# -- the regression and its relatives ---------------------------------------------------------


def test_r3_8_amsterdam_first_hour_after_midnight_counts(use_zone: ZoneFactory) -> None:
    """27 Oct 2024, Europe/Amsterdam: UTC+2 until 03:00 local, then UTC+1. $1.00 spent at 00:30
    local leaves nothing for the rest of that local day (midnight with today's offset, 23:00 UTC,
    would drop that first hour and let $2.00 be spent in one day)."""
    zone, tz = use_zone("Europe/Amsterdam")
    clock = Clock()
    ledger = make_ledger(clock, tz, Allowance(DOLLAR, "day", strict=True))
    first_hour = datetime(2024, 10, 26, 22, 30, tzinfo=UTC).timestamp()  # 00:30 CEST
    assert datetime.fromtimestamp(first_hour, zone).strftime("%d %H:%M") == "27 00:30"
    spend(ledger, clock, first_hour)
    later = datetime(2024, 10, 27, 11, 0, tzinfo=UTC).timestamp()  # 12:00 CET, same local day
    with pytest.raises(BudgetExceeded):
        spend(ledger, clock, later)
    assert start_of("day", later, tz) == datetime(2024, 10, 26, 22, tzinfo=UTC).timestamp()
    assert ledger.spent("day") == DOLLAR
    spend(ledger, clock, datetime(2024, 10, 27, 23, 0, 1, tzinfo=UTC).timestamp())  # 28 Oct


# Days with a clock change in them: fall back (the day has 25 hours) and spring forward (23), at
# 02:00/03:00 (Europe, US) and at midnight (Santiago, Havana: midnight missing or twice).
DAY_CASES = [
    ("Europe/Amsterdam", date(2024, 10, 27)),  # fall back 03:00 → 02:00
    ("Europe/Amsterdam", date(2024, 3, 31)),  # spring forward 02:00 → 03:00
    ("Europe/Amsterdam", date(2025, 10, 26)),
    ("America/New_York", date(2024, 11, 3)),  # fall back 02:00 → 01:00
    ("America/New_York", date(2024, 3, 10)),  # spring forward 02:00 → 03:00
    ("America/Santiago", date(2024, 9, 8)),  # midnight does not exist: 00:00 → 01:00
    ("America/Santiago", date(2024, 4, 6)),  # 25-hour day: 24:00 → 23:00 at its end
    ("America/Havana", date(2024, 3, 10)),  # midnight does not exist: 00:00 → 01:00
    ("America/Havana", date(2024, 11, 3)),  # midnight twice: 01:00 → 00:00
    ("America/Goose_Bay", date(2009, 11, 1)),  # 00:01 → 23:01 the day before: date goes back
]
MONTH_CASES = [
    ("Europe/Amsterdam", date(2024, 10, 1)),  # month ends after the clocks went back
    ("Europe/Amsterdam", date(2024, 3, 1)),  # month ends after the clocks went forward
    ("America/New_York", date(2024, 11, 1)),
    ("America/New_York", date(2025, 3, 1)),
    ("America/Santiago", date(2024, 4, 1)),
    ("America/Santiago", date(2024, 9, 1)),
    ("America/Havana", date(2024, 11, 1)),
    ("America/Goose_Bay", date(2009, 11, 1)),  # the month's first minute, then back to October
]


def check_period(use_zone: ZoneFactory, name: str, first: date, period: Period) -> None:
    zone, tz = use_zone(name)
    start = reference_start(zone, first)
    end = reference_start(zone, next_period(first, period))  # the next period's first instant
    last_minute = end - 60
    assert local_date(start, zone) == first and local_date(start - 1, zone) < first

    # Spend in the period's first seconds counts until its very end…
    clock = Clock()
    ledger = make_ledger(clock, tz, Allowance(DOLLAR, period, strict=True))
    spend(ledger, clock, start + 30)
    with pytest.raises(BudgetExceeded):
        spend(ledger, clock, last_minute, Decimal("0.01"))
    spend(ledger, clock, end + 30)  # …and no longer in the next period.

    # Spend just before the period does not count in it.
    clock = Clock()
    ledger = make_ledger(clock, tz, Allowance(DOLLAR, period, strict=True))
    spend(ledger, clock, start - 30)
    spend(ledger, clock, last_minute)
    with pytest.raises(BudgetExceeded):
        spend(ledger, clock, last_minute + 1, Decimal("0.01"))

    assert start_of(period, last_minute, tz) == start
    assert start_of(period, start, tz) == start
    assert start_of(period, end, tz) == end


@pytest.mark.parametrize(("name", "day"), DAY_CASES, ids=[f"{n}-{d}" for n, d in DAY_CASES])
def test_r3_8_day_is_the_local_calendar_day(use_zone: ZoneFactory, name: str, day: date) -> None:
    check_period(use_zone, name, day, "day")


@pytest.mark.parametrize(
    ("name", "first"), MONTH_CASES, ids=[f"{n}-{d:%Y-%m}" for n, d in MONTH_CASES]
)
def test_r3_8_month_is_the_local_calendar_month(
    use_zone: ZoneFactory, name: str, first: date
) -> None:
    check_period(use_zone, name, first, "month")


def test_r3_8_midnight_that_does_not_exist_or_occurs_twice(use_zone: ZoneFactory) -> None:
    zone, tz = use_zone("America/Santiago")
    # 8 Sep 2024: 00:00 -04 becomes 01:00 -03; the day starts at the jump, 04:00 UTC.
    jump = datetime(2024, 9, 8, 4, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(jump, zone).strftime("%H:%M") == "01:00"
    assert start_of("day", jump + 5 * 3600, tz) == jump
    assert start_of("day", jump - 1, tz) == reference_start(zone, date(2024, 9, 7))

    zone, tz = use_zone("America/Havana")
    # 3 Nov 2024: 01:00 CDT becomes 00:00 CST; the day starts at the *first* midnight.
    first_midnight = datetime(2024, 11, 3, 4, tzinfo=UTC).timestamp()
    second_midnight = first_midnight + 3600
    assert datetime.fromtimestamp(second_midnight, zone).strftime("%d %H:%M") == "03 00:00"
    for now in (first_midnight, second_midnight, second_midnight + 20 * 3600):
        assert start_of("day", now, tz) == first_midnight
    assert start_of("month", second_midnight, tz) == reference_start(zone, date(2024, 11, 1))


def test_r3_8_clock_going_back_never_lets_a_day_overspend(use_zone: ZoneFactory) -> None:
    zone, tz = use_zone("Europe/Amsterdam")
    clock = Clock()
    ledger = make_ledger(clock, tz, Allowance(DOLLAR, "day", strict=True))
    noon = datetime(2024, 10, 27, 11, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(noon, zone).strftime("%d %H:%M %Z") == "27 12:00 CET"
    spend(ledger, clock, noon, Decimal("0.60"))
    # The clock is set back to the day's first hour: the noon row is "in the future", still counts.
    first_hour = datetime(2024, 10, 26, 22, 30, tzinfo=UTC).timestamp()
    with pytest.raises(BudgetExceeded):
        spend(ledger, clock, first_hour, Decimal("0.60"))
    # Back into the repeated hour (02:30 CEST, then 02:30 CET): still the same local day.
    for repeated in (datetime(2024, 10, 27, h, 30, tzinfo=UTC).timestamp() for h in (0, 1)):
        with pytest.raises(BudgetExceeded):
            spend(ledger, clock, repeated, Decimal("0.60"))
    spend(ledger, clock, datetime(2024, 10, 27, 1, 30, tzinfo=UTC).timestamp(), Decimal("0.40"))
    assert ledger.spent("day") == DOLLAR
    # Set back into the day before: today's rows over-count there (fail closed), never under.
    clock.now = datetime(2024, 10, 26, 21, tzinfo=UTC).timestamp()  # 26 Oct 23:00 CEST
    assert ledger.spent("day") == DOLLAR
    with pytest.raises(BudgetExceeded):
        spend(ledger, clock, clock.now, Decimal("0.01"))
    spend(ledger, clock, datetime(2024, 10, 28, 8, tzinfo=UTC).timestamp())  # 28 Oct: new day


def test_r3_8_ledger_default_zone_is_the_process_zone() -> None:
    ledger = Ledger(MemoryStore(), "app", clock=time.time)
    assert ledger.tz is None
    assert period_start("day", 1_730_000_000.0) == period_start("day", 1_730_000_000.0, None)


@pytest.mark.parametrize(
    ("name", "day"),
    [*DAY_CASES, ("Africa/Abidjan", date(1912, 1, 1)), ("Pacific/Apia", date(2011, 12, 31))],
)
def test_r3_8_search_fallback_finds_the_same_start(name: str, day: date) -> None:
    """The scan-and-bisect used when the wall-clock conversion gives no verified start."""
    from byom.core.ledger import _search

    zone = ZoneInfo(name)
    start = reference_start(zone, day)
    for now in (start, start + 0.5, start + 1.75, start + 3 * 3600 + 0.25, start + 20 * 3600):
        assert _search(day, now, zone) == start


# -- properties -------------------------------------------------------------------------------


def _loadable(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


ZONE_NAMES = sorted(available_timezones())
WINDOW = (
    datetime(1990, 1, 1, tzinfo=UTC).timestamp(),
    datetime(2036, 1, 1, tzinfo=UTC).timestamp(),
)


@functools.cache
def transitions(name: str) -> tuple[float, ...]:
    """Instants where the zone's UTC offset changes within WINDOW (day scan, then bisection)."""
    zone = ZoneInfo(name)
    found: list[float] = []

    def offset(ts: float) -> timedelta | None:
        return datetime.fromtimestamp(ts, zone).utcoffset()

    lo, end = WINDOW
    prev = offset(lo)
    while lo < end:
        hi = lo + 86_400
        now = offset(hi)
        if now != prev:
            a, b = lo, hi
            while b - a > 1:
                mid = (a + b) // 2
                a, b = (mid, b) if offset(mid) == prev else (a, mid)
            found.append(b)
        prev, lo = now, hi
    return tuple(found)


@st.composite
def zone_and_anchor(draw: st.DrawFn) -> tuple[str, tzinfo, float]:
    """A zone and an instant near one of its transitions or near a local month end."""
    name = draw(st.sampled_from(ZONE_NAMES))
    zone = _loadable(name)
    assume(zone is not None)
    assert zone is not None
    changes = transitions(name)
    if changes and draw(st.booleans()):
        anchor = draw(st.sampled_from(changes))
    else:
        year, month = draw(st.integers(1991, 2035)), draw(st.integers(1, 12))
        anchor = datetime(year, month, 1, tzinfo=zone).timestamp()
    return name, zone, anchor


near = st.one_of(
    st.integers(-3 * 3600, 3 * 3600),  # around the anchor: clock changes, local midnight
    st.integers(-40 * 86_400, 40 * 86_400),  # elsewhere in the month (or the next one)
).map(lambda s: float(s))
fraction = st.sampled_from([0.0, 0.0, 0.25, 0.999])


def _with_zone(name: str, zone: tzinfo, process: bool) -> Iterator[tzinfo | None]:
    if not process:
        yield zone
        return
    saved = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield None
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    where=zone_and_anchor(),
    period=st.sampled_from(["day", "month"]),
    process=st.booleans() if hasattr(time, "tzset") else st.just(False),
    steps=st.lists(
        st.tuples(
            near,
            fraction,
            st.integers(1, 70),  # estimate, cents
            st.sampled_from(["commit", "commit_less", "release", "open"]),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_r3_8_property_no_local_period_exceeds_its_allowance(
    where: tuple[str, tzinfo, float],
    period: Period,
    process: bool,
    steps: list[tuple[float, float, int, str]],
) -> None:
    """Random zone, instants around its clock changes and month ends, a clock that jumps back and
    forth: grouping what counts by the local date (month) of each row, no group exceeds $1.00."""
    name, zone, anchor = where
    ceiling = to_pico(DOLLAR)
    for tz in _with_zone(name, zone, process):
        clock = Clock()
        ledger = make_ledger(clock, tz, Allowance(DOLLAR, period, strict=True))
        for offset, frac, cents, outcome in steps:
            estimate = Decimal(cents) / 100
            clock.now = anchor + offset + frac
            try:
                row = ledger.reserve(
                    estimate, reservation_id=uuid.uuid4().hex, feature="f", model="m", provider="p"
                )
            except BudgetExceeded:
                continue
            if outcome == "commit":
                ledger.commit(row.id, estimate)
            elif outcome == "commit_less":
                ledger.commit(row.id, estimate / 3)
            elif outcome == "release":
                ledger.release(row.id)
        groups: dict[object, int] = {}
        for row in ledger.store.ledger_rows("app", ALL_STATES):
            day = local_date(row.created_at, zone)
            key = day if period == "day" else (day.year, day.month)
            groups[key] = groups.get(key, 0) + row.counted_pico
        assert all(total <= ceiling for total in groups.values()), groups


@settings(max_examples=300, deadline=None)
@given(
    where=zone_and_anchor(),
    offset=near,
    frac=fraction,
    period=st.sampled_from(["day", "month"]),
)
def test_r3_8_property_period_start_is_the_first_local_instant(
    where: tuple[str, tzinfo, float], offset: float, frac: float, period: Period
) -> None:
    _, zone, anchor = where
    now = anchor + offset + frac
    today = local_date(now, zone)
    first = today if period == "day" else today.replace(day=1)
    start = period_start(period, now, zone)
    assert start is not None and start <= now
    assert local_date(start, zone) == first or (
        local_date(start, zone) > first  # the first itself was skipped (a date-line jump)
        and all(local_date(start - k, zone) < first for k in (1, 3600))
    )
    assert local_date(start - 1, zone) < first
    # Nothing in the 26 hours before it is already in the period (sampled every 10 minutes).
    assert all(local_date(start - k, zone) < first for k in range(1, 93_601, 600))
