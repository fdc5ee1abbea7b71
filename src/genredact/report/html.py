"""`genredact report RUN`: one self-contained HTML page (and report.md) built from a run folder alone.

Nothing is recomputed: every figure comes from the run's files (config.json, metrics.jsonl, log.json,
provenance.json, model/redaction.json, audit/*.json) and every picture is a PNG already in the folder or a
matplotlib plot of those recorded numbers. Images are embedded as data URIs, so the page can be mailed.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
from pathlib import Path
from typing import Any

from genredact.errors import GenredactError
from genredact.report.markdown import METRICS, _fmt, read_metrics, write_report

COLUMNS = (("before", "pre-trained"), ("after", "redacted"), ("retrain", "retrain"))
AUDIT_KEYS = ("success_rate", "success_upper95", "confident_rate", "relearn_steps", "start_rate", "final_rate", "target_pixel_mse", "retain_pixel_mse",
              "target_judge_acc", "retain_judge_acc", "target_gap", "mean_confidence", "auc", "retain_auc", "forget_bpd", "unseen_bpd",
              "max_forget_acc", "worst_mask", "mean_forget_acc", "mean_retain_acc", "wall_s")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0} td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
.good{color:#1a7f37} .bad{color:#b42318} .warn{background:#fff4e5;border:1px solid #f0a020;padding:.5em}
figure{display:inline-block;margin:.4em 1em .4em 0;vertical-align:top} figcaption{font-size:.85em;color:#555}
.prov td{text-align:left} img{image-rendering:pixelated;max-width:100%} code,pre{background:#f6f8fa;padding:.1em .3em} pre{padding:.6em;overflow:auto}
"""


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _figure(data: bytes, caption: str) -> str:
    return f"<figure>{_img(data, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _delta(key: str, a: Any, b: Any) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return "-"
    d = a - b
    higher = METRICS[key][1]
    cls = "" if d == 0 else ("good" if (d > 0) == higher else "bad")
    return f'<span class="{cls}">{d:+.4g}</span>'


def metric_table_html(metrics: dict[str, dict[str, Any]]) -> str:
    cols = [(k, label) for k, label in COLUMNS if metrics.get(k)]
    head = "".join(f"<th>{label}</th>" for _, label in cols)
    extra = "<th>Δ vs pre-trained</th>" + ("<th>Δ vs retrain</th>" if metrics.get("retrain") else "")
    rows = []
    for key, (label, higher, _) in METRICS.items():
        values = [metrics[k].get(key) for k, _ in cols]
        if all(v is None for v in values):
            continue
        after = metrics.get("after", {}).get(key)
        cells = "".join(f"<td>{_fmt(key, v)}</td>" for v in values)
        cells += f"<td>{_delta(key, after, metrics.get('before', {}).get(key))}</td>"
        if metrics.get("retrain"):
            cells += f"<td>{_delta(key, after, metrics['retrain'].get(key))}</td>"
        rows.append(f"<tr><td>{html.escape(label)} {'↑' if higher else '↓'}</td>{cells}</tr>")
    return f"<table><tr><th>metric (better)</th>{head}{extra}</tr>{''.join(rows)}</table>"


def _plot_residual(metrics: dict[str, dict[str, Any]]) -> bytes | None:
    """Residual rate with its one-sided 95% upper bound, per model (recorded numbers only)."""
    cols = [(k, label) for k, label in COLUMNS if metrics.get(k, {}).get("residual_rate") is not None]
    if not cols:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = [metrics[k]["residual_rate"] for k, _ in cols]
    uppers = [metrics[k].get("residual_upper95", r) for (k, _), r in zip(cols, rates)]
    fig, ax = plt.subplots(figsize=(4.2, 2.6), dpi=110)
    ax.bar([label for _, label in cols], rates, color=["#888", "#2a6fdb", "#3a9d5d"][: len(cols)])
    ax.errorbar(range(len(cols)), rates, yerr=[[0] * len(cols), [u - r for u, r in zip(uppers, rates)]], fmt="none", ecolor="k", capsize=4)
    ax.set_ylabel("residual rate (judge)")
    ax.set_title("residual rate, bar to 95% upper bound", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _plot_relearn(record: dict[str, Any]) -> bytes | None:
    curves = {m: f["curve"] for m, f in record.get("models", {}).items() if f.get("curve")}
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 2.8), dpi=110)
    for m, curve in curves.items():
        ax.plot([s for s, _ in curve], [r for _, r in curve], marker=".", label=m)
    thr = record.get("config", {}).get("threshold")
    if thr is not None:
        ax.axhline(thr, color="k", ls="--", lw=0.8, label="threshold")
    ax.set_xlabel("relearn steps")
    ax.set_ylabel("residual rate")
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _audit_html(run: Path) -> str:
    folder = run / "audit"
    records = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not records:
        return "<p>No audit yet: run <code>genredact audit RUN</code>.</p>"
    parts = []
    for path in records:
        rec = json.loads(path.read_text())
        models = rec.get("models", {})
        keys = [k for k in AUDIT_KEYS if any(k in f for f in models.values())]
        head = "".join(f"<th>{html.escape(m)}</th>" for m in models)
        rows = "".join(
            f"<tr><td>{k}</td>" + "".join(f"<td>{_fmt_any(f.get(k))}</td>" for f in models.values()) + "</tr>" for k in keys
        )
        parts.append(f"<h3>{html.escape(rec.get('attack', path.stem))}</h3><p>config: <code>{html.escape(json.dumps(rec.get('config', {})))}</code></p>")
        parts.append(f"<table><tr><th>figure</th>{head}</tr>{rows}</table>")
        figs = [_figure((folder / f["grid_png"]).read_bytes(), f"{rec.get('attack')}: {m}") for m, f in models.items() if f.get("grid_png") and (folder / f["grid_png"]).is_file()]
        plot = _plot_relearn(rec)
        if plot:
            figs.append(_figure(plot, "residual rate while relearning"))
        parts.append("".join(figs))
    return "".join(parts)


def _fmt_any(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _pictures(run: Path) -> str:
    """Every PNG of the run outside audit/, grouped by folder (sample grids, histograms, input/output grids)."""
    order = ("input", "before", "original", "after", "unlearned")  # read left to right: what went in, then before, then after

    def key(p: Path) -> tuple[str, int, str]:
        rank = next((i for i, word in enumerate(order) if word in p.stem), len(order))
        return (str(p.parent.relative_to(run)), rank, p.name)

    pngs = sorted((p for p in run.rglob("*.png") if "audit" not in p.relative_to(run).parts and not p.name.startswith(".")), key=key)
    return "".join(_figure(p.read_bytes(), str(p.relative_to(run))) for p in pngs) or "<p>No pictures in this run folder.</p>"


def _provenance_html(run: Path, config: dict[str, Any], redaction: dict[str, Any]) -> str:
    prov = _read_json(run / "provenance.json") or {}
    rows = [(k, prov.get(k)) for k in ("genredact", "python", "torch", "numpy", "platform", "device", "command", "seed", "eval_seed", "dataset", "data")]
    rows = [(k, v if v is not None else config.get(k)) for k, v in rows]
    body = "".join(f"<tr><td>{k}</td><td>{_fmt_any(v)}</td></tr>" for k, v in rows)
    cks = prov.get("checkpoints") or {"parent": {"ref": config.get("model"), "sha256": redaction.get("parent_sha256")}}
    body += "".join(f"<tr><td>sha256 {html.escape(k)}</td><td><code>{_fmt_any(v.get('ref'))}</code> {_fmt_any(v.get('sha256'))}</td></tr>" for k, v in cks.items() if v.get("ref"))
    return f'<table class="prov">{body}</table>'


def write_html_report(run: str | Path, *, max_mb: float = 5.0) -> Path:
    """Write `RUN/report.html` (and refresh `RUN/report.md`) from the run folder's files."""
    run = Path(run)
    config = _read_json(run / "config.json")
    if config is None:
        raise GenredactError(f"{run} is not a genredact run folder (no config.json); give the folder `genredact redact` wrote")
    redaction = _read_json(run / "model" / "redaction.json") or {}
    log = _read_json(run / "log.json") or {}
    metrics = read_metrics(run)
    independent = config.get("judge_independent", True)
    judge_note = ("" if independent else '<p class="warn">WARNING: the judge is a classifier the method used for redaction; these figures are not an independent measurement.</p>')
    cost = metrics.get("after", {})
    stages = "".join(
        f"<li>{name}: {int(log[name].get('steps', 0))} steps, {log[name].get('wall_s', 0):.1f} s</li>" for name in ("stage1", "stage2") if isinstance(log.get(name), dict)
    )
    residual_plot = _plot_residual(metrics)
    sections = [
        f"<h1>Redaction report: {html.escape(str(config.get('method')))} on {html.escape(str(config.get('model')))}</h1>",
        "<h2>What was done</h2><ul>"
        f"<li>target: <code>{html.escape(json.dumps(redaction.get('target', config.get('target'))))}</code></li>"
        f"<li>method: <code>{html.escape(str(config.get('method')))}</code></li>"
        f"<li>seed {config.get('seed')}; evaluation on {metrics.get('before', {}).get('n', '-')} samples (latent seed {config.get('eval_seed')}) "
        f"under the judge <code>{html.escape(str(config.get('judge')))}</code>{'' if independent else ' (NOT independent)'}</li></ul>"
        f"<details><summary>configuration</summary><pre>{html.escape(json.dumps(redaction.get('config', config.get('config', {})), indent=2))}</pre></details>",
        "<h2>Metrics</h2>" + judge_note + (metric_table_html(metrics) if metrics else "<p>This run was not evaluated (--no-eval).</p>")
        + (_figure(residual_plot, "residual rate per model") if residual_plot else ""),
        "<h2>Pictures</h2><p>Sample grids use the same latents before and after.</p>" + _pictures(run),
        "<h2>Cost</h2><ul>"
        f"<li>wall time {cost.get('wall_s', log.get('wall_s', 0)) or 0:.1f} s, {int(cost.get('steps', log.get('steps', 0)) or 0)} steps, "
        f"peak memory {cost.get('peak_mem_mb', log.get('peak_mem_mb', 0)) or 0:.0f} MB</li>{stages}</ul>",
        "<h2>Audit</h2>" + _audit_html(run),
        "<h2>Provenance</h2>" + _provenance_html(run, config, redaction),
    ]
    page = f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>genredact report</title><style>{CSS}</style></head><body>{"".join(sections)}</body></html>\n'
    size_mb = len(page.encode()) / 2**20
    if size_mb > max_mb:
        raise GenredactError(f"the report would be {size_mb:.1f} MB, over the {max_mb} MB limit; remove large PNGs from the run folder")
    write_report(run)
    path = run / "report.html"
    tmp = run / ".report.html.tmp"
    tmp.write_text(page)
    os.replace(tmp, path)
    return path
