"""CLI subcommands for the baseline: backtest, suggest, save-run, runs."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

PRED_COLUMNS = ["region", "period", "method", "forecast", "lower80", "upper80", "actual"]


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=None, help="database file (default: $CALIBRATE_DB)")


def _pooling(text: str) -> float | str:
    return "auto" if text == "auto" else float(text)


def _model_args(p: argparse.ArgumentParser) -> None:
    # Defaults filled in by _params: the model is not imported to build the parser.
    p.add_argument("--metric", required=True)
    p.add_argument("--half-life", type=float, default=None, help="default 8 quarters")
    p.add_argument(
        "--pooling",
        type=_pooling,
        default=None,
        help="prior strength toward the all-region fit, or 'auto' (default 12)",
    )
    # --weights is the flag's former name, kept so existing scripts still run.
    p.add_argument(
        "--scales",
        "--weights",
        dest="scales",
        default=None,
        help="dimension scales 0..2, e.g. market=1,pipeline=0.5,capacity=1",
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def _params(args: argparse.Namespace) -> dict:
    from calibration.modeling import service as baseline

    return {
        "half_life": baseline.DEFAULTS["half_life"] if args.half_life is None else args.half_life,
        "pooling": baseline.DEFAULTS["pooling"] if args.pooling is None else args.pooling,
        "scales": baseline.parse_scales(args.scales),
    }


def _num(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def cmd_backtest(args: argparse.Namespace) -> int:
    """Print backtest scores of the model and the naive methods."""
    from calibration import exports, settings
    from calibration.modeling import service as baseline
    from calibration.store import connect

    cur = connect(args.db or settings.db_path()).cursor()
    out = baseline.run_backtest(
        cur,
        args.metric,
        origins=args.origins,
        holt_winters=args.holt_winters,
        tuning=args.tuning,
        **_params(args),
    )
    pred = out.pop("predictions")
    if args.predictions:
        # Region names come from imported files: formula cells are neutralised for spreadsheets.
        Path(args.predictions).write_bytes(exports.csv_bytes(pred.loc[:, PRED_COLUMNS]))
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2, default=float))
    else:
        print(f"{args.metric}: origins {out['origins'][0]}..{out['origins'][-1]}")
        for m, s in out["methods"].items():
            cov = f"  coverage80 {s['coverage80']:.2f}" if s.get("coverage80") is not None else ""
            print(
                f"  {m:<22} WAPE {s['wape']:.3f}  MAPE {s['mape']:.3f}  bias {s['bias']:+.3f}{cov}"
            )
        print(f"  {out['seconds']:.2f} s")
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    """Print the per-region suggestion with interval, contributions and reason."""
    from calibration import settings
    from calibration.modeling import service as baseline
    from calibration.store import connect

    cur = connect(args.db or settings.db_path()).cursor()
    df = baseline.suggest(cur, args.metric, args.period, **_params(args))
    rows = [
        {
            "region": r.region,
            "period": r.period,
            "suggestion": _num(float(r.suggestion)),
            "lower80": _num(float(r.lower80)),
            "upper80": _num(float(r.upper80)),
            "contributions": {
                c: _num(float(getattr(r, c))) for c in ("history", "market", "pipeline", "capacity")
            },
            "reason": r.reason_en,
            "reason_zh": r.reason_zh,
        }
        for r in df.itertuples(index=False)
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(
                f"{r['region']:<14} {r['suggestion']:>10.1f}  [{r['lower80']:.1f}, "
                f"{r['upper80']:.1f}]  {r['reason']}"
            )
    return 0


def cmd_save_run(args: argparse.Namespace) -> int:
    """Fit, backtest and store a model run as the system user."""
    from calibration import settings
    from calibration.accounts import auth
    from calibration.modeling import service as baseline
    from calibration.store import connect

    cur = connect(args.db or settings.db_path()).cursor()
    run_id = baseline.save_run(
        cur, auth.SYSTEM, args.metric, args.period, _params(args), origins=args.origins
    )
    print(json.dumps({"run_id": run_id}) if args.json else f"saved model run {run_id}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    """List saved model runs."""
    from calibration import settings
    from calibration.modeling import service as baseline
    from calibration.store import connect

    cur = connect(args.db or settings.db_path()).cursor()
    df = baseline.list_runs(cur, args.metric)
    rows = [
        {
            "run_id": int(r.run_id),
            "metric": r.metric,
            "period": r.period,
            "created_by": r.created_by,
            "created_at": str(r.created_at),
            "params": json.loads(r.params),
        }
        for r in df.itertuples(index=False)
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(
                f"{r['run_id']:>5} {r['metric']:<16} {r['period']:<8} {r['created_by']:<12} {r['created_at']}"
            )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the model subcommands to the main CLI."""
    p = sub.add_parser("backtest", help="backtest the baseline against naive methods")
    _model_args(p)
    p.add_argument("--origins", type=int, default=8)
    p.add_argument(
        "--tuning",
        type=int,
        default=0,
        help="origins before the scored ones that choose the settings (nested); 0 = none",
    )
    p.add_argument("--holt-winters", action="store_true", help="also run Holt-Winters (slow)")
    p.add_argument("--predictions", default=None, help="write every forecast to this CSV")
    _db(p)
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("suggest", help="per-region suggestion for a period")
    _model_args(p)
    p.add_argument("--period", required=True)
    _db(p)
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("save-run", help="fit, backtest and store a model run")
    _model_args(p)
    p.add_argument("--period", required=True)
    p.add_argument("--origins", type=int, default=8)
    _db(p)
    p.set_defaults(func=cmd_save_run)

    p = sub.add_parser("runs", help="list saved model runs")
    p.add_argument("--metric", default=None)
    p.add_argument("--json", action="store_true")
    _db(p)
    p.set_defaults(func=cmd_runs)
