"""Accuracy of the baseline vs seasonal naive and Holt-Winters on demo and real panels."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.periods import parse_series
from models.backtest import CANDIDATES, backtest
from models.baseline import BaselineModel

ROOT = Path(__file__).resolve().parent.parent
REALDATA = Path("/work/shared/realdata")
ORIGINS = 8
TUNING = 4  # origins before the scored ones that choose the settings (nested)


def _ordinals(frame: pd.DataFrame) -> pd.DataFrame:
    p = parse_series(frame["period"].astype(str))
    frame = frame.assign(period=p["label"], ordinal=p["ordinal"].astype(int))
    return frame


def demo() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Demo new_customers with its six signals."""
    h = pd.read_csv(ROOT / "data" / "demo" / "history.csv")
    h = _ordinals(h[h.metric == "new_customers"])
    s = _ordinals(pd.read_csv(ROOT / "data" / "demo" / "signals.csv"))
    return h, s


def aus_accommodation() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Takings by State; Occupancy as a market signal."""
    d = pd.read_csv(REALDATA / "aus_accommodation.csv")
    d["period"] = d["Date"].str.replace(" ", "")
    h = _ordinals(
        d.rename(columns={"State": "region", "Takings": "value"})[["region", "period", "value"]]
    )
    s = d.rename(columns={"State": "region", "Occupancy": "value"})[["region", "period", "value"]]
    s = _ordinals(s.assign(signal="occupancy", dimension="market"))
    return h, s


def tourism() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Holiday trips by Region; the other purposes' trips as lagged market signals."""
    d = pd.read_csv(REALDATA / "tourism.csv")
    d["period"] = d["Quarter"].str.replace(" ", "")
    d = _ordinals(d.rename(columns={"Region": "region", "Trips": "value"}))
    h = d[d.Purpose == "Holiday"][["region", "period", "ordinal", "value"]]
    s = d[d.Purpose != "Holiday"].assign(
        signal=lambda x: "trips_" + x["Purpose"].str.lower(), dimension="market"
    )[["region", "signal", "period", "ordinal", "dimension", "value"]]
    return h, s


def grunfeld() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grunfeld investment panel (annual): invest by firm; value and capital as signals."""
    from statsmodels.datasets import grunfeld as g

    d = g.load_pandas().data
    d["period"] = d["year"].astype(int).astype(str)
    d = _ordinals(d.rename(columns={"firm": "region"}))
    h = d[["region", "period", "ordinal"]].assign(value=d["invest"])
    s = pd.concat(
        [
            d[["region", "period", "ordinal"]].assign(signal=k, dimension="market", value=d[k])
            for k in ("value", "capital")
        ]
    )
    return h, s


DATASETS: dict[str, Callable[[], tuple[pd.DataFrame, pd.DataFrame]]] = {
    "demo new_customers (6 regions, quarterly)": demo,
    "aus_accommodation Takings (8 states, quarterly)": aus_accommodation,
    "tourism Holiday trips (76 regions, quarterly)": tourism,
    "Grunfeld invest (10 firms, annual)": grunfeld,
}


def evaluate(model: BaselineModel | None = None, holt_winters: bool = True) -> dict[str, dict]:
    """Backtest scores per data set for model, seasonal naive and Holt-Winters."""
    out = {}
    for name, loader in DATASETS.items():
        h, s = loader()
        t0 = time.perf_counter()
        bt = backtest(
            h,
            s,
            origins=ORIGINS,
            model=model,
            holt_winters=holt_winters,
            tuning=TUNING,
            candidates=CANDIDATES,
        )
        out[name] = {
            "scores": bt.scores,
            "origins": bt.origins,
            "roles": bt.roles,
            "tuning": bt.tuning,
            "seconds": time.perf_counter() - t0,
        }
    return out


def _fmt(v: float | None) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.3f}"


def _setting(tried: dict) -> str:
    """A tuning candidate as text: combine=auto, level_gap=True."""
    return ", ".join(f"{k}={v}" for k, v in tried.items() if k not in ("tuning_wape", "chosen"))


def run() -> str:
    """Markdown section with every number, goals marked met or missed."""
    t0 = time.perf_counter()
    model = BaselineModel()
    res = evaluate(model)
    lines = [
        "## Baseline accuracy on demo and real panels (`bench/realdata_eval.py`)",
        "",
        "Command: `python -m bench realdata_eval` (also run by `python -m bench`).",
        f"Machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python "
        f"{platform.python_version()}; date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Model settings: {model.get_params()}. Nested rolling origin, one step ahead: the "
        f"{TUNING} tuning origins choose between {list(CANDIDATES)} (lowest model WAPE); the "
        f"last {ORIGINS} origins are scored with that choice. The 80% interval at every origin "
        "is calibrated on scaled one-step errors of the 8 origins before it "
        "(`models/calibrate.py`). Every method is scored on the same scoring origins.",
        "",
        "| data set | tuning origins | scoring origins | method | WAPE | MAPE | bias | coverage80 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for name, r in res.items():
        sc = r["scores"]
        tune = r["roles"]["tuning"]
        tune_s = f"{tune[0]}–{tune[-1]}" if tune else "–"
        for m in sc:
            s = sc.get(m, {})
            lines.append(
                f"| {name} | {tune_s} | {r['origins'][0]}–{r['origins'][-1]} | {m} "
                f"| {_fmt(s.get('wape'))} | {_fmt(s.get('mape'))} | {_fmt(s.get('bias'))} "
                f"| {_fmt(s.get('coverage80'))} |"
            )
        mw, sw, hw = sc["model"]["wape"], sc["seasonal_naive"]["wape"], sc["holt_winters"]["wape"]
        cov = sc["model"]["coverage80"]
        chosen = [t for t in r["tuning"] if t["chosen"]]
        tried = ", ".join(f"{_setting(t)}: {t['tuning_wape']:.3f}" for t in r["tuning"])
        checks = [
            f"model/seasonal-naive WAPE {mw / sw:.3f} ({'met' if mw <= 0.90 * sw else 'MISSED'}, "
            "goal ≤ 0.90)",
            f"model/Holt-Winters WAPE {mw / hw:.3f} ({'met' if mw <= 0.95 * hw else 'MISSED'}, "
            "goal ≤ 0.95)",
            f"coverage80 {cov:.3f} ({'met' if 0.75 <= cov <= 0.85 else 'MISSED'}, goal 0.75–0.85)",
            f"tuning WAPE {tried}; chosen {_setting(chosen[0]) if chosen else '–'}",
        ]
        verdicts.append(f"- **{name}**: " + "; ".join(checks))
    lines += ["", *verdicts, "", f"Total time {time.perf_counter() - t0:.1f} s.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
