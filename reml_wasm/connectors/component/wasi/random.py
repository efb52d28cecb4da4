"""wasi:random — random (the OS's cryptographic source), insecure and insecure-seed."""

from __future__ import annotations

import os
import random as _random

from .host import WasiHost

MAX_BYTES = 1 << 24


def _length(n: int) -> int:
    if n > MAX_BYTES:
        from .... import cabi
        raise cabi.Trap(f"wasi:random: {n} random bytes asked for (at most {MAX_BYTES})")
    return n


def _get_random_bytes(host: WasiHost, n: int) -> bytes:
    return os.urandom(_length(n))


def _get_random_u64(host: WasiHost) -> int:
    return int.from_bytes(os.urandom(8), "little")


RANDOM = {"get-random-bytes": _get_random_bytes, "get-random-u64": _get_random_u64}

_insecure = _random.Random()


def _get_insecure_random_bytes(host: WasiHost, n: int) -> bytes:
    return _insecure.randbytes(_length(n))


def _get_insecure_random_u64(host: WasiHost) -> int:
    return _insecure.getrandbits(64)


INSECURE = {"get-insecure-random-bytes": _get_insecure_random_bytes,
            "get-insecure-random-u64": _get_insecure_random_u64}


def _insecure_seed(host: WasiHost) -> tuple[int, int]:
    return (_insecure.getrandbits(64), _insecure.getrandbits(64))


INSECURE_SEED = {"insecure-seed": _insecure_seed}
