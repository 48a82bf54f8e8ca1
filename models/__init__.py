"""The baseline model: features, weighted regression, backtest, explanation (no Streamlit).

Public API:
    BaselineModel(half_life=8, pooling=12, weights=None, robust=True, momentum=True,
                  reversion=True, level=0.8, freq=None)
        .fit(history, signals=None, target_period=None) -> self
        .predict(weights=None) / .suggest(weights=None) -> DataFrame
        .signal_table(weights=None) -> DataFrame
    backtest(history, signals, origins=8, model=None, methods=METHODS, holt_winters=False)
        -> BacktestResult
    optimise_weights(history, signals, origins=8, model=None, grid=..., passes=2)
        -> (weights, wape)
"""

from models.backtest import METHODS, BacktestResult, backtest, optimise_weights
from models.baseline import COMPONENTS, BaselineModel

__all__ = [
    "COMPONENTS",
    "METHODS",
    "BacktestResult",
    "BaselineModel",
    "backtest",
    "optimise_weights",
]
