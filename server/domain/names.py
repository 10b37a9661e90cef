"""Names people type into lists (languages, genres, facilities): how the product keeps each
once. The catalog and schedules match them without regard to case, so "English" and
"english" are one name."""

from __future__ import annotations

from collections.abc import Iterable


def distinct_names(names: Iterable[str]) -> list[str]:
    """Trimmed, without blanks, each once whatever its case (the first spelling wins), in the
    order given."""
    seen: dict[str, str] = {}
    for name in (n.strip() for n in names):
        if name:
            seen.setdefault(name.lower(), name)
    return list(seen.values())
