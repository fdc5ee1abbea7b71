"""`genredact sweep`: run one redaction over a small grid of method options and plot the trade-off
between residual rate and FID, marking the points that meet a residual bound and a quality budget.

The base configuration is a run folder's `config.json` (or any JSON file with the same keys: model,
target, method, config, seed, n_eval). Each grid point is a full run folder under OUT/ (so every point
can be reported and audited), and OUT/sweep.json + OUT/sweep.png summarise them. Like a run folder, OUT
is built under a temporary name and appears complete or not at all.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from genredact.checkpoint import staging_dir
from genredact.errors import GenredactError


def parse_params(specs: list[str]) -> dict[str, list[str]]:
    """['method.lam=0.3,0.5', 'steps=100,300'] -> {'lam': ['0.3', '0.5'], 'steps': ['100', '300']}."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        key, sep, values = spec.partition("=")
        key = key.strip().removeprefix("method.")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key or not vals:
            raise GenredactError(f"--param {spec!r} must look like name=v1,v2,... e.g. --param method.lam=0.3,0.5,0.7")
        grid[key] = vals
    if not grid:
        raise GenredactError("give at least one --param name=v1,v2,... to sweep")
    return grid


def load_base(config_path: str | Path) -> dict[str, Any]:
    path = Path(config_path)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise GenredactError(f"{config_path} is neither a run folder nor a run config.json")
    try:
        base = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise GenredactError(f"{path} is not valid JSON; give a run folder's config.json") from None
    missing = [k for k in ("model", "target") if k not in base]
    if missing:
        raise GenredactError(f"{path} lacks {', '.join(missing)}; a sweep config needs at least model and target")
    return base


def sweep(
    config_path: str | Path,
    params: list[str],
    *,
    out: str | Path,
    max_residual: float | None = None,
    max_fid: float | None = None,
    n_eval: int | None = None,
    device: str = "cpu",
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the grid and write OUT/point-*/ (run folders), OUT/sweep.json and OUT/sweep.png."""
    from genredact.run import run_redaction

    base = load_base(config_path)
    grid = parse_params(params)
    out = Path(out)
    if out.exists():
        raise GenredactError(f"{out} already exists; choose another --out or remove it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_dir(out.parent, out.name)
    points = []
    try:
        combos = list(itertools.product(*grid.values()))
        for i, values in enumerate(combos):
            options = dict(zip(grid, values))
            echo(f"sweep point {i + 1}/{len(combos)}: {options}")
            res = run_redaction(
                base["model"], base["target"], out=tmp / f"point-{i:02d}", method=base.get("method"), config={**base.get("config", {}), **options},
                seed=int(base.get("seed", 0)), n_eval=int(n_eval or base.get("n_eval", 10000)), eval_seed=int(base.get("eval_seed", 1234)),
                device=device, progress=progress, classifier=base.get("classifier"), data=base.get("data"), echo=lambda _: None,
            )
            summary = res["summary"]
            ok = (max_residual is None or summary["residual_upper95"] <= max_residual) and (max_fid is None or summary["fid"] <= max_fid)
            points.append({"point": f"point-{i:02d}", "options": options, "meets": ok, "before_residual_rate": res["before"]["residual_rate"], "before_fid": res["before"]["fid"],
                           **{k: summary[k] for k in ("residual_rate", "residual_upper95", "fid", "precision", "recall", "wall_s", "steps")}})
        record = {"base": base, "grid": grid, "max_residual": max_residual, "max_fid": max_fid, "points": points}
        (tmp / "sweep.json").write_text(json.dumps(record, indent=2) + "\n")
        plot_tradeoff(points, tmp / "sweep.png", max_residual=max_residual, max_fid=max_fid)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record


def plot_tradeoff(points: list[dict[str, Any]], path: Path, *, max_residual: float | None, max_fid: float | None) -> Path:
    """Residual rate (with its upper bound) against FID, one labelled point per grid point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=110)
    for p in points:
        color = "#1a7f37" if p["meets"] else "#b42318"
        ax.errorbar(p["fid"], p["residual_rate"], yerr=[[0], [p["residual_upper95"] - p["residual_rate"]]], fmt="o", color=color, capsize=3)
        ax.annotate(", ".join(f"{k}={v}" for k, v in p["options"].items()), (p["fid"], p["residual_rate"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
    if points:
        ax.plot([points[0]["before_fid"]], [points[0]["before_residual_rate"]], "s", color="#888", label="pre-trained")
    if max_residual is not None:
        ax.axhline(max_residual, color="k", ls="--", lw=0.8, label=f"residual bound {max_residual:g}")
    if max_fid is not None:
        ax.axvline(max_fid, color="k", ls=":", lw=0.8, label=f"FID budget {max_fid:g}")
    ax.set_xlabel("FID (judge features)")
    ax.set_ylabel("residual rate (bar: 95% upper bound)")
    ax.set_title("trade-off: green points meet both limits", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
