"""Plain-language reasons for a suggestion, in English and Simplified Chinese."""

from __future__ import annotations

import numpy as np

from calibration.i18n import catalog, t

MINUS = "\u2212"


def fmt_signed(value: float, decimals: int = 0) -> str:
    """A number with an explicit sign and a true minus sign: +12, −18."""
    text = f"{abs(value):,.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        return text
    return ("+" if value > 0 else MINUS) + text


def fmt_pct(change: float) -> str:
    """A log change as a signed whole percentage: −12%."""
    return fmt_signed(100 * float(np.expm1(change))) + "%"


def signal_label(signal: str, lang: str) -> str:
    """Display name of a signal; unknown signals show their id with spaces."""
    key = f"model.signal.{signal}"
    return t(key, lang) if key in catalog() else signal.replace("_", " ")


def reasons(
    suggestion: np.ndarray,
    history: np.ndarray,
    signals: list[str],
    change: np.ndarray,
    contrib: np.ndarray,
    top: int = 3,
) -> tuple[list[str], list[str]]:
    """English and Chinese reason per region: own history, then the top signal effects.

    suggestion, history: (R,); change, contrib: (R, K) per signal.
    """
    labels = {lang: [signal_label(n, lang) for n in signals] for lang in ("en", "zh")}
    sep = {lang: t("model.reason.sep", lang) for lang in ("en", "zh")}
    order = np.argsort(-np.abs(contrib), axis=1)[:, :top] if contrib.size else None
    en_out: list[str] = []
    zh_out: list[str] = []
    for r in range(len(suggestion)):
        if not np.isfinite(suggestion[r]):
            en_out.append("")
            zh_out.append("")
            continue
        dec = 0 if abs(suggestion[r]) >= 100 else 1
        parts = {
            lang: [t("model.reason.history", lang, value=f"{history[r]:,.{dec}f}")]
            for lang in ("en", "zh")
        }
        for k in order[r] if order is not None else ():
            c = float(contrib[r, k])
            if round(abs(c), dec) == 0:
                continue
            for lang in ("en", "zh"):
                parts[lang].append(
                    t(
                        "model.reason.signal",
                        lang,
                        signal=labels[lang][k],
                        change=fmt_pct(change[r, k]),
                        value=fmt_signed(c, dec),
                    )
                )
        en_out.append(sep["en"].join(parts["en"]))
        zh_out.append(sep["zh"].join(parts["zh"]))
    return en_out, zh_out
