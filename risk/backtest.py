"""Backtest: what would a new policy do to the existing portfolio?

DOMAIN.md §7: compliance teams backtest a draft on past cases before publishing it. The answer
is two transition matrices (baseline -> new) of outcomes and of tiers, plus counts of what
changed. The chart is optional and draws with matplotlib's Agg backend, imported only when a
chart is asked for, so the engine and ``batch`` never pay matplotlib's import time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from risk.engine import engine_for
from risk.model import TIERS, AssessmentInput
from risk.policy import Policy

OUTCOMES: Final = ("approve", "refer", "hold", "decline")


@dataclass(slots=True)
class Backtest:
    baseline: Policy
    policy: Policy
    outcomes: dict[str, dict[str, int]] = field(default_factory=lambda: _matrix(OUTCOMES))
    tiers: dict[str, dict[str, int]] = field(default_factory=lambda: _matrix(TIERS))
    cases: int = 0
    errors: int = 0

    def add(self, x: AssessmentInput) -> None:
        old = engine_for(self.baseline).assess(x)
        new = engine_for(self.policy).assess(x)
        self.outcomes[old.outcome][new.outcome] += 1
        self.tiers[old.tier][new.tier] += 1
        self.cases += 1

    def changed(self, matrix: dict[str, dict[str, int]]) -> int:
        return sum(n for a, row in matrix.items() for b, n in row.items() if a != b)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": _ref(self.baseline),
            "policy": _ref(self.policy),
            "cases": self.cases,
            "errors": self.errors,
            "outcomes": self.outcomes,
            "tiers": self.tiers,
            "changed": {"outcome": self.changed(self.outcomes), "tier": self.changed(self.tiers)},
            "tier_moves": {
                "up": sum(n for a, row in self.tiers.items() for b, n in row.items()
                          if TIERS.index(b) > TIERS.index(a)),
                "down": sum(n for a, row in self.tiers.items() for b, n in row.items()
                            if TIERS.index(b) < TIERS.index(a)),
            },
        }

    def to_text(self) -> str:
        lines = [f"Backtest of {self.policy.ref} ({self.policy.content_hash[:19]}) against "
                 f"{self.baseline.ref} ({self.baseline.content_hash[:19]}): {self.cases} cases"
                 + (f", {self.errors} unreadable" if self.errors else "")]
        for title, labels, m in (("Outcome", OUTCOMES, self.outcomes),
                                 ("Tier", TIERS, self.tiers)):
            lines.append("")
            lines.append(f"{title}: rows = baseline, columns = new policy "
                         f"({self.changed(m)} changed)")
            w = max(9, *(len(str(n)) + 2 for row in m.values() for n in row.values()))
            lines.append(" " * 10 + "".join(f"{b:>{w}}" for b in labels))
            for a in labels:
                lines.append(f"{a:<10}" + "".join(f"{m[a][b]:>{w}}" for b in labels))
        return "\n".join(lines)

    def chart(self, path: str | Path) -> None:
        """Write both matrices as heatmaps; the format follows the suffix (.png or .svg)."""
        import matplotlib

        matplotlib.use("Agg")  # no display on servers; must precede pyplot's import
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), constrained_layout=True)
        for ax, (title, labels, m) in zip(axes, (("Outcome", OUTCOMES, self.outcomes),
                                                 ("Tier", TIERS, self.tiers)), strict=True):
            grid = [[m[a][b] for b in labels] for a in labels]
            ax.imshow(grid, cmap="Blues")
            ax.set_xticks(range(len(labels)), labels)
            ax.set_yticks(range(len(labels)), labels)
            ax.set_xlabel(f"{self.policy.ref} (new)")
            ax.set_ylabel(f"{self.baseline.ref} (baseline)")
            ax.set_title(f"{title} transitions, {self.changed(m)} of {self.cases} changed")
            top = max((n for row in grid for n in row), default=0)
            for yi, row in enumerate(grid):
                for xi, n in enumerate(row):
                    ax.text(xi, yi, str(n), ha="center", va="center",
                            color="white" if top and n > top / 2 else "black")
        fig.savefig(str(path))
        plt.close(fig)


def _matrix(labels: Iterable[str]) -> dict[str, dict[str, int]]:
    labels = tuple(labels)
    return {a: dict.fromkeys(labels, 0) for a in labels}


def _ref(p: Policy) -> dict[str, Any]:
    return {"id": p.id, "version": p.version, "hash": p.content_hash, "status": p.status}


def backtest(cases: Iterable[AssessmentInput], policy: Policy, baseline: Policy) -> Backtest:
    """Assess every case under both policies and count the transitions."""
    bt = Backtest(baseline, policy)
    for x in cases:
        bt.add(x)
    return bt
