"""What the training-run tests share: the population's dates and the design."""

from __future__ import annotations

import datetime as dt

from riskstrat.model import CohortSettings, ModelDesign, TemporalDesign

START, END = dt.date(2019, 4, 1), dt.date(2024, 4, 1)
T0, T1, T2 = dt.date(2021, 4, 1), dt.date(2022, 4, 1), dt.date(2023, 4, 1)


def design(seed: int = 0, snapshots=(T0,)) -> ModelDesign:
    """Adults, trained on ``snapshots``, tested on the year from ``T1``."""
    return ModelDesign(
        cohort=CohortSettings(min_age=18),
        temporal=TemporalDesign(train_as_of=snapshots, test_as_of=T1),
        random_state=seed,
    )
