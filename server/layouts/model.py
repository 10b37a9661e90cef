"""The parsed shape of an auditorium: plain frozen dataclasses, no I/O and no framework imports."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class SeatType(StrEnum):
    REGULAR = "regular"
    PREMIUM = "premium"
    RECLINER = "recliner"
    COUPLE = "couple"
    WHEELCHAIR = "wheelchair"
    COMPANION = "companion"


@dataclass(frozen=True, slots=True)
class SeatSpec:
    """One sellable position: a seat, a couple-seat half or a wheelchair space.

    `label` is unique within a layout: the section prefix (often empty), the row label and the
    seat number, e.g. "A12" in the stalls or "BA3" for balcony row A seat 3 when the balcony
    has `prefix=B`.  `x`/`y` place the seat on the drawn grid: `x` counts columns including
    gaps and aisles, `y` counts lines with 0 nearest the screen.
    """

    label: str
    row: str
    number: int
    seat_type: SeatType
    x: int
    y: int
    accessible: bool
    section: str
    # Couple seats: the partner's label.  Companion seats: the wheelchair space they sit beside.
    pair: str | None


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    screen_side: str  # "top" or "bottom": where the screen is drawn
    width: int
    height: int
    seats: tuple[SeatSpec, ...]
    sections: tuple[str, ...]
    # Built once so `seat()` is a dict lookup; not part of equality or the constructor.
    _by_label: dict[str, SeatSpec] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._by_label.update((s.label, s) for s in self.seats)

    def seat(self, label: str) -> SeatSpec:
        """The seat with this label; KeyError if the layout has none."""
        return self._by_label[label]

    def counts_by_type(self) -> dict[SeatType, int]:
        """How many seats of each type, in SeatType order, omitting types that do not occur."""
        counts = Counter(s.seat_type for s in self.seats)
        return {t: counts[t] for t in SeatType if counts[t]}
