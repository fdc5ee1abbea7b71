"""Markdown tables and the run report, built only from a run folder's files."""
from __future__ import annotations

import json
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


def metrics_table(before: dict[str, Any], after: dict[str, Any], *, after_name: str = "after") -> str:
    """A Markdown table with one row per metric: before, after, delta and the better direction."""
    lines = [f"| metric | better | before | {after_name} | delta |", "|---|:---:|---:|---:|---:|"]
    for key, (label, higher, _) in METRICS.items():
        b, a = before.get(key), after.get(key)
        if b is None and a is None:
            continue
        delta = "-" if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) else f"{a - b:+.4g}"
        lines.append(f"| {label} | {'↑' if higher else '↓'} | {_fmt(key, b)} | {_fmt(key, a)} | {delta} |")
    return "\n".join(lines)


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
        metrics_table(before, after),
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
    path = run / "report.md"
    path.write_text("\n".join(lines))
    return path
