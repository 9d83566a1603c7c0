"""Metrics as the handlers emit them: one call for one count, or for a report's whole mapping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics


def count(metrics: Metrics, name: str, value: float = 1) -> None:
    """A count; a flag (True/False) counts as 1 or 0, so the metric has a data point either way."""
    emit(metrics, {name: value})


def emit(metrics: Metrics, values: Mapping[str, float], *, seconds: Iterable[str] = ()) -> None:
    """Each value as a metric of its name: a count, or a duration for the names in `seconds`."""
    from aws_lambda_powertools.metrics import MetricUnit

    durations = set(seconds)
    for name, value in values.items():
        unit = MetricUnit.Seconds if name in durations else MetricUnit.Count
        metrics.add_metric(name=name, unit=unit, value=float(value))
