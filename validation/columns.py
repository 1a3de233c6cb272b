"""Missing schema columns and the file's columns they were probably renamed to.

A release whose header says ``products_sold``, ``Country``, ``daysSinceLastLogin `` (trailing
space) or ``productsSold2`` instead of the schema's name fails the critical ``columns_present``
expectation (Great Expectations reports the missing and unexpected columns); this module only
adds the human part: for each missing column, the unexpected column of the file that is nearly
identical to it, compared case-, underscore-, hyphen-, dot- and space-insensitively with
:class:`difflib.SequenceMatcher` (the ratio behind :func:`difflib.get_close_matches`).
Pure functions, no GX import.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: Characters ignored when comparing names: case is folded too.
_IGNORED = re.compile(r"[\s_\-.]+")


def normalise(name: str) -> str:
    """``name`` lower-cased without spaces, underscores, hyphens or dots: ``Products_Sold`` ->
    ``productssold``."""
    return _IGNORED.sub("", name).casefold()


def similarity(a: str, b: str) -> float:
    """SequenceMatcher ratio (0..1) of the two names after :func:`normalise`."""
    return difflib.SequenceMatcher(None, normalise(a), normalise(b), autojunk=False).ratio()


def suggest_renames(missing: Iterable[str], candidates: Iterable[str], cutoff: float
                    ) -> dict[str, str]:
    """For each missing column, the candidate it most likely became: missing -> candidate.

    ``candidates`` are the file's columns that are not in the schema. Pairs with a similarity
    of at least ``cutoff`` are matched best first (ties: schema order, then file order), and
    each candidate is suggested for at most one missing column. Missing columns without a
    near-identical candidate are absent from the result. Keys keep ``missing``'s order.
    """
    missing, candidates = list(missing), list(candidates)
    pairs = sorted(((similarity(m, c), -i, -j, m, c)
                    for i, m in enumerate(missing) for j, c in enumerate(candidates)),
                   reverse=True)
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for score, _, _, m, c in pairs:
        if score < cutoff:
            break
        if m not in chosen and c not in used:
            chosen[m] = c
            used.add(c)
    return {m: chosen[m] for m in missing if m in chosen}


def missing_messages(missing: Iterable[str], suggestions: dict[str, str]) -> list[str]:
    """One sentence per missing column: ``productsSold is missing — did you mean
    'products_sold'?`` or ``gender is missing``."""
    return [f"{m} is missing — did you mean {suggestions[m]!r}?" if m in suggestions
            else f"{m} is missing" for m in missing]


def extra_messages(extra: Iterable[str], renamed_from: dict[str, str]) -> list[str]:
    """One sentence per column outside the schema (ignored): ``'Country' is not a schema
    column (ignored) — a renamed country?``."""
    return [f"{c!r} is not a schema column (ignored)"
            + (f" — a renamed {renamed_from[c]}?" if c in renamed_from else "")
            for c in extra]
