"""Markdown tables and the run report, built only from a run folder's files."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# metric -> (label, higher is better, format)
METRICS = {
    "residual_rate": ("residual rate", False, "{:.4f}"),
    "residual_upper95": ("residual 95% upper bound", False, "{:.4f}"),
    "fid": ("FID (judge features)", False, "{:.3f}"),
    "kid": ("KID (judge features)", False, "{:.4f}"),
    "precision": ("precision", True, "{:.3f}"),
    "recall": ("recall", True, "{:.3f}"),
    "wall_s": ("wall time (s)", False, "{:.1f}"),
    "steps": ("steps", False, "{:d}"),
}


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "-"
    fmt = METRICS[key][2]
    try:
        return fmt.format(int(value) if fmt == "{:d}" else value)
    except (TypeError, ValueError):
        return str(value)


def metrics_table(before: dict[str, Any], after: dict[str, Any], *, after_name: str = "after", retrain: dict[str, Any] | None = None) -> str:
    """A Markdown table with one row per metric: before, after (and retrain), deltas and the better direction."""
    rt = retrain or {}
    head = f"| metric | better | before | {after_name} |" + (" retrain |" if rt else "") + " delta |" + (" delta vs retrain |" if rt else "")
    lines = [head, "|---|:---:|---:|---:|" + ("---:|" if rt else "") + "---:|" + ("---:|" if rt else "")]
    for key, (label, higher, _) in METRICS.items():
        b, a = before.get(key), after.get(key)
        if b is None and a is None:
            continue
        row = f"| {label} | {'↑' if higher else '↓'} | {_fmt(key, b)} | {_fmt(key, a)} |" + (f" {_fmt(key, rt.get(key))} |" if rt else "")
        row += f" {_num_delta(a, b)} |" + (f" {_num_delta(a, rt.get(key))} |" if rt else "")
        lines.append(row)
    return "\n".join(lines)


def _num_delta(a: Any, b: Any) -> str:
    return "-" if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) else f"{a - b:+.4g}"


def read_metrics(run: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    path = run / "metrics.jsonl"
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                out.setdefault(rec["model"], {})[rec["name"]] = rec["value"]
    return out


def write_report(run: str | Path) -> Path:
    """Write `report.md` for a run folder from config.json, metrics.jsonl and the model's redaction.json."""
    run = Path(run)
    config = json.loads((run / "config.json").read_text())
    redaction = json.loads((run / "model" / "redaction.json").read_text()) if (run / "model" / "redaction.json").is_file() else {}
    metrics = read_metrics(run)
    before, after = metrics.get("before", {}), metrics.get("after", {})
    lines = [
        f"# Redaction report: {config.get('method')} on {config.get('model')}",
        "",
        f"- target: `{json.dumps(redaction.get('target', config.get('target')))}`",
        f"- method: `{config.get('method')}` with `{json.dumps(redaction.get('config', config.get('config', {})))}`",
        f"- seed: {config.get('seed')}; parent checkpoint sha256: `{redaction.get('parent_sha256', '-')}`",
        f"- evaluation: {before.get('n', after.get('n', '-'))} samples under the independent judge `{config.get('judge', '-')}`"
        + ("" if config.get("judge_independent", True) else " (WARNING: the same classifier the method used; not independent)"),
        "",
        "## Metrics",
        "",
        metrics_table(before, after, retrain=metrics.get("retrain")),
        "",
        "## Samples (same latents before and after)",
        "",
        "| before | after |",
        "|---|---|",
        "| ![before](samples/before.png) | ![after](samples/after.png) |",
        "",
        "## Cost",
        "",
        f"- wall time {after.get('wall_s', 0):.1f} s, {int(after.get('steps', 0))} steps, peak memory {after.get('peak_mem_mb', 0):.0f} MB",
        "",
    ]
    audits = sorted((run / "audit").glob("*.json")) if (run / "audit").is_dir() else []
    if audits:
        lines += ["## Audit", ""]
        for a in audits:
            summary = json.loads(a.read_text()).get("summary", {})
            lines.append(f"- {a.stem}: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items() if k != "attack"))
        lines.append("")
    prov = json.loads((run / "provenance.json").read_text()) if (run / "provenance.json").is_file() else {}
    if prov:
        lines += ["## Provenance", "", f"- genredact {prov.get('genredact')}, Python {prov.get('python')}, torch {prov.get('torch')}, numpy {prov.get('numpy')}; device {prov.get('device')}"]
        lines += [f"- {k}: `{v.get('ref')}` sha256 `{v.get('sha256')}`" for k, v in prov.get("checkpoints", {}).items() if v.get("ref")]
        lines.append("")
    path = run / "report.md"
    tmp = run / ".report.md.tmp"
    tmp.write_text("\n".join(lines))
    os.replace(tmp, path)
    return path
