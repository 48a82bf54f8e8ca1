"""The baseline model: features, weighted regression, backtest, explanation (no Streamlit).

Public API:
    BaselineModel(half_life=8, pooling=12, scales=None, robust=True, momentum=True,
                  reversion=True, level=0.8, freq=None, combine="auto")
        .fit(history, signals=None, target_period=None, panel=None) -> self
        .predict(scales=None) / .suggest(scales=None) -> DataFrame (numbers only)
        .explain(scales=None) -> (DataFrame, ReasonInputs)  (words: calibration.modeling.reasons)
        .signal_table(scales=None) -> DataFrame
        .pooling_at(panel, target) -> float
    backtest(history, signals, origins=8, model=None, methods=METHODS, holt_winters=False,
             tuning=0, candidates=None) -> BacktestResult   (.roles: tuning/scoring origins)
    optimise_nested(panel, model, origins=8, tuning=4) -> dict
    optimise_scales(history, signals, origins=8, model=None, grid=..., passes=2)
        -> (scales, wape)   (optimise_weights: its former name)
Dimension scales multiply a dimension's fitted effect; they are not regression weights.
Interval columns are named by their level: lower80/upper80.
"""

from models.backtest import (
    CANDIDATES,
    METHODS,
    BacktestResult,
    backtest,
    optimise_nested,
    optimise_scales,
    optimise_weights,
)
from models.baseline import COMPONENTS, BaselineModel

__all__ = [
    "CANDIDATES",
    "COMPONENTS",
    "METHODS",
    "BacktestResult",
    "BaselineModel",
    "backtest",
    "optimise_nested",
    "optimise_scales",
    "optimise_weights",
]
