"""Who gets the action and who is held out: channels, control groups and what a split can show.

* **Channel**, from app ownership and recency: an in-app message only for app owners seen
  within the recent cut (they open the app), an app push for the other app owners, an e-mail
  for everyone without the app.
* **Control group**: a user is held out when ``u(id) < control_share``, where ``u`` is the first
  8 bytes of ``blake2b(id, key=salt)`` read as a fraction of 2^64. The draw depends only on the
  id and the salt, so a user stays in the same group in every release (whatever its segment),
  and within each segment the control share is a binomial draw around ``control_share``.
* **Smallest detectable uplift** of a target/control split: the two-sided two-proportion test at
  significance ``alpha`` with ``power``, for a conversion base rate ``p``:
  ``(z[1 - alpha/2] + z[power]) * sqrt(p (1 - p) (1/n_target + 1/n_control))``.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.stats import norm

CHANNELS = ("in-app", "app push", "e-mail")
GROUPS = ("target", "control")


def channels(has_app: np.ndarray, recent: np.ndarray) -> np.ndarray:
    """Channel per user (object[n]) from app ownership and "seen within the recent cut"."""
    has_app = np.asarray(has_app, dtype=bool)
    out = np.full(len(has_app), "e-mail", dtype=object)
    out[has_app] = "app push"
    out[has_app & np.asarray(recent, dtype=bool)] = "in-app"
    return out


def unit_draws(ids: np.ndarray, salt: str) -> np.ndarray:
    """Each id's deterministic draw in [0, 1): float64[n] (keyed BLAKE2b of the id's text)."""
    key = salt.encode("utf-8")[:64]
    out = np.empty(len(ids), dtype=np.float64)
    for i, value in enumerate(np.asarray(ids, dtype=np.int64).tolist()):
        digest = hashlib.blake2b(str(value).encode("ascii"), digest_size=8, key=key).digest()
        out[i] = int.from_bytes(digest, "big") / 2.0 ** 64
    return out


def control_groups(ids: np.ndarray, salt: str, control_share: float) -> np.ndarray:
    """"control" or "target" per user (object[n])."""
    control = unit_draws(ids, salt) < control_share
    return np.where(control, "control", "target").astype(object)


def detectable_uplift(n_target: int, n_control: int, base_rate: float, alpha: float,
                      power: float) -> float | None:
    """The smallest uplift (a difference of proportions, 0..1) the split detects; None when a
    group is empty."""
    if n_target <= 0 or n_control <= 0:
        return None
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return float(z * np.sqrt(base_rate * (1 - base_rate) * (1 / n_target + 1 / n_control)))
