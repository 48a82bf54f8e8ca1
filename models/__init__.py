"""The baseline model: features, weighted regression, backtest, explanation (no Streamlit).

Public API:
    BaselineModel(half_life=8, pooling=12, weights=None, robust=True, momentum=True,
                  reversion=True, level=0.8, freq=None, combine="auto")
        .fit(history, signals=None, target_period=None) -> self
        .predict(weights=None) / .suggest(weights=None) -> DataFrame
        .signal_table(weights=None) -> DataFrame
    backtest(history, signals, origins=8, model=None, methods=METHODS, holt_winters=False,
             tuning=0, candidates=None) -> BacktestResult   (.roles: tuning/scoring origins)
    optimise_nested(panel, model, origins=8, tuning=4) -> dict
    optimise_weights(history, signals, origins=8, model=None, grid=..., passes=2)
        -> (weights, wape)
"""

from models.backtest import (
    CANDIDATES,
    METHODS,
    BacktestResult,
    backtest,
    optimise_nested,
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
    "optimise_weights",
]
