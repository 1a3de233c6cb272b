"""Plain-words readings of the statistics a stakeholder sees (one line each).

Bands are the usual ones: silhouette after Kaufman & Rousseeuw (over 0.7 strong, 0.5-0.7
reasonable, 0.25-0.5 weak), Cohen's kappa after Landis & Koch, bootstrap Jaccard after Hennig
(a cluster keeping at least the configured minimum on average is stable).
"""

from __future__ import annotations

from analysis.report import formats as f

KAPPA_BANDS = ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"),
               (0.8, "substantial"), (1.01, "almost perfect"))


def kappa_band(kappa: float) -> str:
    """Landis & Koch's word for a Cohen's kappa."""
    return next(word for top, word in KAPPA_BANDS if kappa < top) if kappa >= 0 else "poor"


def kappa(raw: float, value: float, what: str) -> str:
    """Raw agreement beside kappa, and what the gap between them means."""
    return (f"{what} agree for {f.share(raw)} of users, but much of that is the crowd both put "
            f"in the same big group; corrected for chance (Cohen's kappa {f.index(value)}) the "
            f"agreement is {kappa_band(value)}.")


def stability(jaccard: float, minimum: float) -> str:
    """A mean bootstrap Jaccard as 'how often the same users end up together'."""
    verdict = "stable" if jaccard >= minimum else "not stable"
    return (f"when the users are resampled, on average {f.share(jaccard)} of a group's users "
            f"end up together again ({verdict}; the bar is {f.share(minimum)}).")


#: Silhouette bands (lowest value of each) and their words for analysts and for marketers.
SILHOUETTE_WORDS = ((0.7, "clearly apart on average", "clearly different from each other on "
                     "average"),
                    (0.5, "reasonably apart, with real overlap",
                     "different on average, with real overlap"),
                    (-1.0, "only weakly apart", "only a little different from each other"))


def _silhouette_words(value: float, plain: bool) -> str:
    band = next(b for b in SILHOUETTE_WORDS if value >= b[0])
    return band[2] if plain else band[1]


def silhouette(value: float, weakest: float) -> str:
    """The chosen solution's silhouette and its weakest cluster, in words."""
    line = (f"Groups are {_silhouette_words(value, plain=False)} (silhouette "
            f"{f.index(value)}, from -1 to 1)")
    if weakest < 0:
        return (line + f", partly because most users share one dormant profile; the weakest "
                f"group's users sit nearer another group than their own on average "
                f"({f.minus(f.index(weakest))}): it is a band of a continuum, not an island.")
    return line + "."


def plain_silhouette(value: float, weakest: float) -> str:
    """The silhouette in a marketer's words (no statistic: the number is on Comparison)."""
    line = f"The groups of users are {_silhouette_words(value, plain=True)}"
    if weakest < 0:
        return (line + ", mostly because most users share the same profile of no activity; the "
                "least distinct group blends into its neighbours, so read it as a band, not "
                "as a separate kind of user.")
    return line + "."


def plain_agreement(raw: float, value: float, what: str) -> str:
    """Agreement with a rule in a marketer's words (kappa stays on Comparison)."""
    return (f"{what} agree for {f.share(raw)} of users, {kappa_band(value)} agreement once the "
            "agreement that chance alone would give is taken out.")


def plain_stability(jaccard: float, minimum: float) -> str:
    """Bootstrap stability of the weakest group in a marketer's words."""
    verdict = "dependable" if jaccard >= minimum else "not dependable"
    return (f"If the users were drawn again at random and grouped again, even the least "
            f"steady group would keep {f.share(jaccard)} of its users together: the groups are "
            f"{verdict}.")
