"""wit/wasi-real/real.wit implemented in Python, built into a component by componentize-py."""

import os

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import api


class Api(exports.Api):
    def widen8(self, x: int) -> int:
        if not -128 <= x <= 127:
            raise AssertionError("s8 out of range")
        return x

    def widen16(self, x: int) -> int:
        if not -32768 <= x <= 32767:
            raise AssertionError("s16 out of range")
        return x

    def sum(self, xs: list[int]) -> int:
        return sum(xs)

    def greet(self, name: str) -> str:
        return f"Hello, {name}!"

    def bump(self, s: api.Stats) -> api.Stats:
        return api.Stats(fields=(s.fields + 1) & 0xFFFFFFFF, total=s.total, label=s.label + "!")

    def flip(self, p: api.Perms) -> api.Perms:
        return ~p & (api.Perms.READ | api.Perms.WRITE | api.Perms.EXEC)

    def measure(self, s: api.Shape) -> int:
        if isinstance(s, api.Shape_Circle):
            return 1 if s.value >= 1.0 else 0
        if isinstance(s, api.Shape_Square):
            return s.value
        return 0

    def env_var(self, key: str) -> str | None:
        return os.environ.get(key)

    def read_file(self, path: str) -> str:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except OSError:
            raise Err("cannot open")
