"""wasi:clocks — monotonic-clock and wall-clock from the host's clocks (granted with WASI:
reading the time reaches nothing outside the guest)."""

from __future__ import annotations

import time

from ....values import Record
from .host import WasiHost
from .io import Pollable


def monotonic_now(host: WasiHost) -> int:
    return time.monotonic_ns()


def monotonic_resolution(host: WasiHost) -> int:
    return max(1, int(time.get_clock_info("monotonic").resolution * 1e9))


def subscribe_instant(host: WasiHost, when: int) -> Pollable:
    return Pollable(when)


def subscribe_duration(host: WasiHost, ns: int) -> Pollable:
    return Pollable(time.monotonic_ns() + ns)


MONOTONIC_CLOCK = {"now": monotonic_now, "resolution": monotonic_resolution,
                   "subscribe-instant": subscribe_instant, "subscribe-duration": subscribe_duration}


def datetime(ns: int) -> Record:
    return Record(seconds=ns // 1_000_000_000, nanoseconds=ns % 1_000_000_000)


def wall_now(host: WasiHost) -> Record:
    return datetime(time.time_ns())


def wall_resolution(host: WasiHost) -> Record:
    return datetime(max(1, int(time.get_clock_info("time").resolution * 1e9)))


WALL_CLOCK = {"now": wall_now, "resolution": wall_resolution}
