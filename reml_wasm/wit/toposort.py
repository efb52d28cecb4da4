"""Stable topological sort: among the nodes whose dependencies are done, the one
written first goes next (so an already ordered input keeps its order)."""

from __future__ import annotations

import heapq
from typing import Sequence

from .diagnostics import Span, fail


def toposort(kind: str, names: Sequence[str], deps: Sequence[Sequence[tuple[str, Span]]],
             code: str, decl_spans: Sequence[Span] | None = None) -> list[int]:
    """Indices of `names` in dependency order.  `deps[i]` lists (name, span) of the
    nodes node i depends on; every name must be in `names`.  A cycle raises `code`, at
    the reference, or at the declaration of the node depended on when `decl_spans` is given
    (where wit-parser reports interface and world cycles)."""
    index = {n: i for i, n in enumerate(names)}
    remaining = [len(d) for d in deps]
    reverse: list[list[int]] = [[] for _ in names]
    for i, edges in enumerate(deps):
        for name, _ in edges:
            reverse[index[name]].append(i)
    heap = [i for i, r in enumerate(remaining) if r == 0]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        i = heapq.heappop(heap)
        order.append(i)
        for j in reverse[i]:
            remaining[j] -= 1
            if remaining[j] == 0:
                heapq.heappush(heap, j)
    if len(order) == len(names):
        return order
    for i, r in enumerate(remaining):
        if r == 0:
            continue
        for name, span in deps[i]:
            if remaining[index[name]]:
                at = span if decl_spans is None else decl_spans[index[name]]
                raise fail(code, f"{kind} `{name}` depends on itself", at)
    raise AssertionError("unreachable")  # pragma: no cover
