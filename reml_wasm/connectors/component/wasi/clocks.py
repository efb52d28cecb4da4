"""wasi:clocks — monotonic-clock and wall-clock from the host's clocks (granted with WASI:
reading the time reaches nothing outside the guest)."""

from __future__ import annotations

import time

from ....values import Record
from .host import WasiHost
from .io import Pollable


def _monotonic_now(host: WasiHost) -> int:
    return time.monotonic_ns()


def _monotonic_resolution(host: WasiHost) -> int:
    return max(1, int(time.get_clock_info("monotonic").resolution * 1e9))


def _subscribe_instant(host: WasiHost, when: int) -> Pollable:
    return Pollable(when)


def _subscribe_duration(host: WasiHost, ns: int) -> Pollable:
    return Pollable(time.monotonic_ns() + ns)


MONOTONIC_CLOCK = {"now": _monotonic_now, "resolution": _monotonic_resolution,
                   "subscribe-instant": _subscribe_instant, "subscribe-duration": _subscribe_duration}


def datetime(ns: int) -> Record:
    """wasi:clocks `datetime` of nanoseconds since the epoch."""
    return Record(seconds=ns // 1_000_000_000, nanoseconds=ns % 1_000_000_000)


def _wall_now(host: WasiHost) -> Record:
    return datetime(time.time_ns())


def _wall_resolution(host: WasiHost) -> Record:
    return datetime(max(1, int(time.get_clock_info("time").resolution * 1e9)))


WALL_CLOCK = {"now": _wall_now, "resolution": _wall_resolution}
