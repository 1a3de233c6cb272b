"""The words every stage, page and scorer shares: tier names, algorithm names, solution keys.

Defined once here; the pipeline writes them into ``model.json`` and ``findings.json`` so that the
site's pages, its CSS and the browser scorer read them instead of retyping them. Colours come
from the configuration (``[tiers.colors]``).
"""

from __future__ import annotations

#: The brief's three tiers, least to most active.
TIERS: tuple[str, ...] = ("inactive", "moderate", "active")

#: Base-36 digits: the label table of model.json and the Explore page store one cluster per
#: solution as one character, so k is at most len(CLUSTER_DIGITS) = 36 (the config enforces it).
CLUSTER_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

#: Algorithm id -> the name readers see.
ALGORITHM_NAMES: dict[str, str] = {"kmeans": "K-Means", "ward": "Ward"}


def solution_key(algorithm: str, k: int) -> str:
    """Column / key name of one solution, e.g. ``kmeans_k4``."""
    return f"{algorithm}_k{int(k)}"


def solution_name(algorithm: str, k: int) -> str:
    """The reader's name of one solution, e.g. ``K-Means, k = 4``."""
    return f"{ALGORITHM_NAMES.get(algorithm, algorithm)}, k = {int(k)}"


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and the noun in the right number, e.g. ``1 expectation``, ``7 features``.

    ``plural`` defaults to ``word + "s"``; pages never write "(s)".
    """
    n = int(n)
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"
