"""The budget of a progressive run: only the B heaviest candidate pairs seen so far are kept.

>>> import numpy as np
>>> heaviest = HeaviestPairs(2)
>>> heaviest.offer(np.array([0, 1, 2]), np.array([0, 0, 0]), [np.array([0.1, 0.9, 0.5])])
>>> heaviest.offer(np.array([3]), np.array([1]), [np.array([0.7])])
>>> [p.tolist() for p in heaviest.in_order()[:2]]
[[1, 3], [0, 1]]
"""

from __future__ import annotations

import numpy as np

from kg.interlink.weighting import heaviest_first


class HeaviestPairs:
    """Candidate pairs with their weights; at most ``budget`` of them (None: all) in memory."""

    def __init__(self, budget: int | None):
        self.budget = budget
        self.s = np.empty(0, dtype=np.int64)
        self.t = np.empty(0, dtype=np.int64)
        self.weights: list[np.ndarray] | None = None
        self._parts: list[tuple] = []

    def offer(self, s: np.ndarray, t: np.ndarray, weights: list[np.ndarray]) -> None:
        """Add pairs (a chunk's candidates), then keep only the heaviest ``budget`` of all."""
        self._parts.append((s, t, weights))
        if self.budget is not None:
            self._merge()

    def in_order(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """The kept pairs, heaviest first: (s, t, weights)."""
        self._merge()
        if self.weights is None:
            return self.s, self.t, []
        order = heaviest_first(self.weights, self.s, self.t)
        return self.s[order], self.t[order], [w[order] for w in self.weights]

    def _merge(self) -> None:
        parts = ([(self.s, self.t, self.weights)] if self.weights is not None else []) + self._parts
        self._parts = []
        if not parts:
            return
        self.s = np.concatenate([p[0] for p in parts]).astype(np.int64)
        self.t = np.concatenate([p[1] for p in parts]).astype(np.int64)
        self.weights = [np.concatenate([p[2][level] for p in parts]) for level in range(len(parts[0][2]))]
        if self.budget is not None and len(self.s) > self.budget:
            keep = heaviest_first(self.weights, self.s, self.t)[: self.budget]
            self.s, self.t, self.weights = self.s[keep], self.t[keep], [w[keep] for w in self.weights]
