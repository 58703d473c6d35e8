"""Availability forecasting: a categorical Naive Bayes model of "is this EV plugged in?".

Why Naive Bayes: the pilot forecast plug-in probability with one (docs/domain/communities.md),
it trains in one pass of counting, and it stays well-behaved with the few
weeks of history a new member has. Written with numpy only.

Target: a time counts as plugged when the EV is plugged in within
``±tolerance_min`` (default ±5 minutes) of it.

Features (categories of the step being predicted and of its day):

- ``slot_daytype``: the ``slot_min``-minute slot of the day (15 min by default),
  separately for weekdays and weekends (2 × 96 categories) — lets weekday
  and weekend routines differ;
- ``warned``: whether the owner warned the aggregator in advance that the
  day will differ (known before the day, so fair to use in a forecast);
- optional: ``weekday`` (7), ``slot`` (96), ``hour`` (24). Adding ``weekday``
  next to ``slot_daytype`` counts the weekend twice, which Naive Bayes
  punishes with overconfidence; it is off by default.

With class ``y`` in {unplugged, plugged}, Laplace smoothing ``alpha``::

    P(x_f = k | y) = (count(f = k, y) + alpha) / (count(y) + alpha × K_f)
    P(y)           = (count(y) + alpha) / (N + 2 alpha)
    P(plugged | x) = softmax over y of log P(y) + Σ_f log P(x_f | y)

Counts come from one sufficient statistic, the number of plugged steps per
(EV, day context, step of day) where the context is weekday + 7 × warned, so
training is a sort, one ``add.reduceat`` and a few matrix products.
A model is fitted per *group*: one per EV by default (per user), or per
behaviour profile, or one for the whole community (``groups``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridcoop.agents.mechanisms.ev.profiles import (
    AnyFloatArray,
    BoolArray,
    EVConfigError,
    FloatArray,
)

MINUTES_PER_DAY = 1440
FEATURES = ("slot_daytype", "warned", "weekday", "slot", "hour")


def tolerant_labels(plugged: BoolArray, step_min: int, tolerance_min: int = 5) -> BoolArray:
    """Plugged within ±``tolerance_min`` minutes: a dilation of each row by whole steps."""
    k = tolerance_min // step_min
    out = np.asarray(plugged, dtype=bool).copy()
    for shift in range(1, k + 1):
        out[:, shift:] |= plugged[:, :-shift]
        out[:, :-shift] |= plugged[:, shift:]
    return out


N_CONTEXTS = 14  # a day's context: weekday (0..6) + 7 × warned (0/1)


def _categories(
    feature: str, steps_per_day: int, step_min: int, slot_min: int
) -> tuple[NDArray[np.int64], int]:
    """Category of every (day context, step of day) for one feature, and how many there are."""
    minute = np.arange(steps_per_day) * step_min
    context = np.arange(N_CONTEXTS)[:, None]
    weekday, warned = context % 7, context // 7
    slots = MINUTES_PER_DAY // slot_min
    shape = (N_CONTEXTS, steps_per_day)
    table: dict[str, tuple[NDArray[np.int64], int]] = {
        "slot_daytype": ((weekday >= 5) * slots + (minute // slot_min)[None, :], 2 * slots),
        "slot": (minute[None, :] // slot_min, slots),
        "hour": (minute[None, :] // 60, 24),
        "weekday": (weekday, 7),
        "warned": (warned, 2),
    }
    if feature not in table:
        raise EVConfigError(f"unknown feature {feature!r}; use some of {', '.join(FEATURES)}")
    cats, k = table[feature]
    return np.broadcast_to(cats, shape).astype(np.int64), k


def _contexts(
    first_day: int, days: int, start_weekday: int, warned: BoolArray | None, n_rows: int
) -> NDArray[np.int64]:
    """Context (weekday + 7 × warned) of every (row, day)."""
    weekday = (start_weekday + first_day + np.arange(days)) % 7
    ctx = np.broadcast_to(weekday, (n_rows, days)).astype(np.int64)
    if warned is not None:
        flags = np.asarray(warned, dtype=bool)
        if flags.shape != (n_rows, days):
            raise EVConfigError(f"warned must be ({n_rows}, {days}), got {flags.shape}")
        ctx = ctx + 7 * flags
    return ctx


class NaiveBayesAvailability:
    """Per-group categorical Naive Bayes over calendar and warning features (module docstring)."""

    def __init__(
        self,
        slot_min: int = 15,
        alpha: float = 1.0,
        tolerance_min: int = 5,
        features: tuple[str, ...] = ("slot_daytype", "warned"),
    ) -> None:
        if slot_min < 1 or MINUTES_PER_DAY % slot_min:
            raise EVConfigError(f"slot_min must divide 1440, got {slot_min}")
        if alpha <= 0:
            raise EVConfigError(f"alpha must be > 0 (Laplace smoothing), got {alpha}")
        if tolerance_min < 0 or not features:
            raise EVConfigError("tolerance_min must be >= 0 and features non-empty")
        for f in features:
            if f not in FEATURES:
                raise EVConfigError(f"unknown feature {f!r}; use some of {', '.join(FEATURES)}")
        self.slot_min, self.alpha, self.tolerance_min = slot_min, alpha, tolerance_min
        self.features = tuple(features)
        self._table: FloatArray | None = None  # (groups, contexts, steps_per_day) P(plugged)
        self._groups: NDArray[np.int64] | None = None
        self.step_min = 0

    def fit(
        self,
        plugged: BoolArray,
        step_min: int,
        start_weekday: int = 0,
        groups: NDArray[np.int64] | None = None,
        warned: BoolArray | None = None,
    ) -> NaiveBayesAvailability:
        """Train on whole days: ``plugged`` is (n_ev, days × steps_per_day).

        ``warned`` (n_ev, days) marks days the owner warned of a change in
        advance (all False when omitted); ``groups`` (n_ev,) pools EVs into
        one model per group (default: one per EV).
        """
        history = np.asarray(plugged, dtype=bool)
        if step_min < 1 or MINUTES_PER_DAY % step_min:
            raise EVConfigError(f"step_min must divide 1440, got {step_min}")
        spd = MINUTES_PER_DAY // step_min
        if history.ndim != 2 or history.shape[1] % spd or history.shape[1] == 0:
            raise EVConfigError(
                f"plugged must be (n_ev, days × {spd}) for whole days, got {history.shape}"
            )
        n, days = history.shape[0], history.shape[1] // spd
        group = np.arange(n) if groups is None else np.asarray(groups, dtype=np.int64)
        if n == 0 or group.shape != (n,) or group.min() < 0:
            raise EVConfigError(f"groups must be {n} ints >= 0, one per EV, and n_ev >= 1")
        n_groups = int(group.max()) + 1
        ctx = _contexts(0, days, start_weekday, warned, n)
        labels = tolerant_labels(history, step_min, self.tolerance_min).reshape(n * days, spd)
        # Sufficient statistics: plugged steps and day counts per (group, context, step).
        key = (group[:, None] * N_CONTEXTS + ctx).ravel()
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        sums = np.add.reduceat(labels[order], starts, axis=0, dtype=np.int64)
        positives = np.zeros((n_groups * N_CONTEXTS, spd))
        positives[sorted_key[starts]] = sums
        day_counts = np.bincount(key, minlength=n_groups * N_CONTEXTS).astype(np.float64)
        self._table = self._posterior(
            positives.reshape(n_groups, N_CONTEXTS, spd),
            day_counts.reshape(n_groups, N_CONTEXTS),
            step_min,
            spd,
        )
        self._groups = group
        self.step_min = step_min
        return self

    def _posterior(
        self, positives: FloatArray, day_counts: FloatArray, step_min: int, spd: int
    ) -> FloatArray:
        a = self.alpha
        n_groups = positives.shape[0]
        totals = np.repeat(day_counts[:, :, None], spd, axis=2).reshape(n_groups, -1)
        flat_pos = positives.reshape(n_groups, -1)
        pos_all = flat_pos.sum(axis=1)
        neg_all = totals.sum(axis=1) - pos_all
        log_odds = np.broadcast_to(
            (np.log(pos_all + a) - np.log(neg_all + a))[:, None, None], (n_groups, N_CONTEXTS, spd)
        ).copy()
        for feature in self.features:
            cats, k = _categories(feature, spd, step_min, self.slot_min)
            onehot = np.zeros((N_CONTEXTS * spd, k))
            onehot[np.arange(N_CONTEXTS * spd), cats.ravel()] = 1.0
            pos_k = flat_pos @ onehot
            neg_k = totals @ onehot - pos_k
            log_like = (
                np.log(pos_k + a)
                - np.log(pos_all[:, None] + a * k)
                - np.log(neg_k + a)
                + np.log(neg_all[:, None] + a * k)
            )
            log_odds += log_like[:, cats]
        return np.asarray(1.0 / (1.0 + np.exp(-log_odds)), dtype=np.float64)

    @property
    def table(self) -> FloatArray:
        """P(plugged) per (group, day context = weekday + 7 × warned, step of day)."""
        if self._table is None:
            raise EVConfigError("the forecaster is not trained; call fit() first")
        return self._table

    def predict_proba(
        self,
        first_day: int,
        days: int,
        start_weekday: int = 0,
        rows: NDArray[np.int64] | None = None,
        warned: BoolArray | None = None,
    ) -> NDArray[np.float32]:
        """P(plugged) of EVs at every step of days ``[first_day, first_day + days)``.

        ``start_weekday`` is the weekday of day 0 of the run; ``rows`` picks EVs
        (default: every EV given to ``fit``); ``warned`` (n_rows, days) the
        warnings received for those days. Returns (n_rows, days × steps_per_day).
        """
        table = self.table
        assert self._groups is not None
        if days < 1 or first_day < 0:
            raise EVConfigError(f"need days >= 1 and first_day >= 0, got {days}, {first_day}")
        group = self._groups if rows is None else self._groups[np.asarray(rows)]
        ctx = _contexts(first_day, days, start_weekday, warned, group.size)
        out = table[group[:, None], ctx, :]
        return out.reshape(group.size, -1).astype(np.float32)


def hourly(step_values: AnyFloatArray, steps_per_hour: int, how: str = "min") -> FloatArray:
    """Per-hour values from per-step ones: ``min`` (default, every instant), ``mean`` or ``max``."""
    values = np.asarray(step_values)
    if values.shape[-1] % steps_per_hour:
        raise EVConfigError(
            f"{values.shape[-1]} steps do not split into hours of {steps_per_hour} steps"
        )
    shaped = values.reshape(*values.shape[:-1], -1, steps_per_hour)
    if how == "min":
        return np.asarray(shaped.min(axis=-1), dtype=np.float64)
    if how == "mean":
        return np.asarray(shaped.mean(axis=-1), dtype=np.float64)
    if how == "max":
        return np.asarray(shaped.max(axis=-1), dtype=np.float64)
    raise EVConfigError(f"unknown aggregation {how!r}; use min, mean or max")


@dataclass(frozen=True)
class ForecastScore:
    """Accuracy on held-out days, of the model and of a constant-rate baseline."""

    brier: float
    brier_baseline: float
    accuracy: float
    accuracy_baseline: float
    log_loss: float
    log_loss_baseline: float
    brier_per_ev: FloatArray
    brier_baseline_per_ev: FloatArray

    @property
    def skill(self) -> float:
        """Brier skill score against the baseline: 1 is perfect, 0 no better, < 0 worse."""
        return 1.0 - self.brier / self.brier_baseline if self.brier_baseline > 0 else 0.0


def _scores(p: AnyFloatArray, y: BoolArray) -> tuple[float, float, float, FloatArray]:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    sq = (p - y) ** 2
    loss = -np.mean(np.where(y, np.log(clipped), np.log(1 - clipped)))
    return float(sq.mean()), float(((p >= 0.5) == y).mean()), float(loss), sq.mean(axis=1)


def evaluate_holdout(
    plugged: BoolArray,
    step_min: int,
    train_days: int,
    start_weekday: int = 0,
    model: NaiveBayesAvailability | None = None,
    groups: NDArray[np.int64] | None = None,
    warned: BoolArray | None = None,
) -> ForecastScore:
    """Train on the first ``train_days`` days, score on the rest.

    The baseline predicts each EV's training rate of being plugged at every
    step (the same tolerant label is the truth for both).
    """
    nb = model or NaiveBayesAvailability()
    spd = MINUTES_PER_DAY // step_min
    days = plugged.shape[1] // spd
    if not 0 < train_days < days:
        raise EVConfigError(f"train_days must be in 1..{days - 1}, got {train_days}")
    cut = train_days * spd
    flags = None if warned is None else np.asarray(warned, dtype=bool)
    nb.fit(
        plugged[:, :cut],
        step_min,
        start_weekday,
        groups,
        None if flags is None else flags[:, :train_days],
    )
    labels = tolerant_labels(plugged, step_min, nb.tolerance_min)
    truth = labels[:, cut:]
    p = nb.predict_proba(
        train_days,
        days - train_days,
        start_weekday,
        warned=None if flags is None else flags[:, train_days:days],
    )
    p = p.astype(np.float64)
    rate = labels[:, :cut].mean(axis=1, keepdims=True) * np.ones_like(p)
    b, acc, loss, per_ev = _scores(p, truth)
    b0, acc0, loss0, per_ev0 = _scores(rate, truth)
    return ForecastScore(b, b0, acc, acc0, loss, loss0, per_ev, per_ev0)
