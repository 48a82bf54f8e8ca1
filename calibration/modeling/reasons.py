"""Plain-language reasons for a suggestion, in English and Simplified Chinese.

The model returns numbers (models.baseline.ReasonInputs); the words live here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibration import numbers
from calibration.i18n import DEFAULT_LANG, catalog, t
from models.baseline import ReasonInputs

MINUS = numbers.MINUS


def fmt_signed(value: float, decimals: int = 0) -> str:
    """A number with an explicit sign and a true minus sign: +12, −18 (numbers.delta; small
    signal changes keep the decimals asked for)."""
    if decimals == 0:
        return numbers.delta(value)
    text = f"{abs(value):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return "0"
    return ("+" if value > 0 else MINUS) + text


def fmt_pct(change: float) -> str:
    """A log change as a signed percentage with at most one decimal: −12.3% (numbers.delta)."""
    return numbers.delta(100 * float(np.expm1(change)), "%")


def fmt_change(change: float, unit: float) -> str:
    """A signal's year-over-year change: a percentage for log changes (unit NaN), else the
    difference in the signal's own units (change x unit), e.g. +8 or −0.4."""
    if not math.isfinite(unit):
        return fmt_pct(change)
    diff = float(change) * unit
    text = fmt_signed(diff, 0 if abs(diff) >= 10 else (1 if abs(diff) >= 1 else 2))
    # +4.0 reads as +4; trailing zeros of a decimal part carry no information.
    return text.rstrip("0").rstrip(".") if "." in text else text


def signal_label(signal: str, lang: str) -> str:
    """Display name of a signal; unknown signals show their id with spaces."""
    key = f"model.signal.{signal}"
    return t(key, lang) if key in catalog() else signal.replace("_", " ")


def _template(key: str, lang: str) -> str:
    # The same text t() would format; looked up once per call instead of once per region.
    texts = catalog().get(key)
    if texts is None:
        return key
    return texts.get(lang) or texts.get(DEFAULT_LANG) or key


def reasons(
    suggestion: np.ndarray,
    history: np.ndarray,
    signals: list[str],
    change: np.ndarray,
    contrib: np.ndarray,
    unit: np.ndarray | None = None,
    top: int = 3,
    gap: np.ndarray | None = None,
    gap_contrib: np.ndarray | None = None,
) -> tuple[list[str], list[str]]:
    """English and Chinese reason per region: own history, then the top signal effects.

    suggestion, history: (R,); change, contrib: (R, K) per signal; unit: (K,) NaN for a
    log change, else the unit of a level change (see models.features.level_scale).
    gap, gap_contrib: (R, K) with level gaps (models.baseline.level_gaps): how far the
    series stands against each signal compared with usual (log), and the part of contrib
    that comes from it; the change and the gap are then told as two effects.
    """
    k_sig = len(signals)
    units = [float("nan")] * k_sig if unit is None else [float(u) for u in unit]
    langs = ("en", "zh")
    labels = {lang: [signal_label(n, lang) for n in signals] for lang in langs}
    sep = {lang: t("model.reason.sep", lang) for lang in langs}
    hist_t = {lang: _template("model.reason.history", lang) for lang in langs}
    sig_t = {lang: _template("model.reason.signal", lang) for lang in langs}
    gap_t = {lang: _template("model.reason.gap", lang) for lang in langs}
    if gap is not None and gap_contrib is not None:
        # Effects 0..K-1: each signal's change; K..2K-1: each signal's level gap.
        contrib = np.concatenate([contrib - gap_contrib, gap_contrib], axis=1)
    order = np.argsort(-np.abs(contrib), axis=1)[:, :top].tolist() if contrib.size else None
    # Python floats: per-element numpy scalar access dominates a loop over 2,000 regions.
    sugg, hist = suggestion.tolist(), history.tolist()
    contrib_l = contrib.tolist()
    en_out: list[str] = []
    zh_out: list[str] = []
    for r in range(len(sugg)):
        if not math.isfinite(sugg[r]):
            en_out.append("")
            zh_out.append("")
            continue
        dec = 0 if abs(sugg[r]) >= 100 else 1
        value = f"{hist[r]:,.{dec}f}"
        en = [hist_t["en"].format(value=value)]
        zh = [hist_t["zh"].format(value=value)]
        for k in order[r] if order is not None else ():
            c = contrib_l[r][k]
            if round(abs(c), dec) == 0:
                continue
            val = fmt_signed(c, dec)
            if k >= k_sig:  # a level gap: the series against the signal, vs usual
                j, pct = k - k_sig, fmt_pct(gap[r, k - k_sig])
                en.append(gap_t["en"].format(signal=labels["en"][j], gap=pct, value=val))
                zh.append(gap_t["zh"].format(signal=labels["zh"][j], gap=pct, value=val))
                continue
            # Numbers are formatted once and shared by both languages.
            pct = fmt_change(change[r, k], units[k])
            en.append(sig_t["en"].format(signal=labels["en"][k], change=pct, value=val))
            zh.append(sig_t["zh"].format(signal=labels["zh"][k], change=pct, value=val))
        en_out.append(sep["en"].join(en))
        zh_out.append(sep["zh"].join(zh))
    return en_out, zh_out


def with_reasons(
    table: pd.DataFrame, parts: ReasonInputs, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """The model's table with reason_en and reason_zh columns added (in place, returned).

    rows: positions of the rows that get a reason (the others get ""), when only some are
    shown: at store scale the words of 10,000 reasons cost more than the fits.
    """
    idx = np.arange(len(table)) if rows is None else np.asarray(rows, dtype=int)
    en, zh = reasons(
        parts.suggestion[idx],
        parts.history[idx],
        parts.signals,
        parts.change[idx],
        parts.contrib[idx],
        parts.unit,
        gap=None if parts.gap is None else parts.gap[idx],
        gap_contrib=None if parts.gap_contrib is None else parts.gap_contrib[idx],
    )
    if rows is None:
        table["reason_en"], table["reason_zh"] = en, zh
        return table
    table["reason_en"] = ""
    table["reason_zh"] = ""
    table.iloc[idx, table.columns.get_loc("reason_en")] = en
    table.iloc[idx, table.columns.get_loc("reason_zh")] = zh
    return table
