"""Shared helpers for benchmark scripts: JSON records and marked blocks in RESULTS.md / README.md."""
from __future__ import annotations

import json
import platform
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch

HERE = Path(__file__).parent
ROOT = HERE.parent


def command_line(script: str, argv: list[str] | None = None) -> str:
    """The command a benchmark was run with, quoted so that it can be pasted back into a shell."""
    args = argv if argv is not None else sys.argv[1:]
    return f"python benchmarks/{script} {shlex.join(args)}".strip()


def stamp(script: str, device: str, argv: list[str] | None = None) -> dict[str, str]:
    """What every benchmark record carries: the device it ran on, the UTC date and the command."""
    return {"device": device_name(device), "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "command": command_line(script, argv)}


def replace_block(path: Path, name: str, body: str) -> None:
    """Put `body` between `<!-- name:start -->` and `<!-- name:end -->` in `path` (appended if absent)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.is_file() else "# Benchmark results\n"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_records(path: Path, benchmark: str, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"benchmark": benchmark, "records": records}, indent=1) + "\n")
    tmp.replace(path)


def load_records(path: Path) -> list[dict]:
    return json.loads(path.read_text())["records"] if path.is_file() else []


def merge_records(path: Path, benchmark: str, new: list[dict], key: Callable[[dict], tuple], then: Callable[[list[dict]], None] | None = None) -> list[dict]:
    """Merge `new` into the records of `path` (a stored record with the same key is replaced) under a
    file lock, since several benchmark processes may share one results file; `then(records)` (tables,
    figures) runs under the same lock. Returns every record."""
    import fcntl

    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys = {key(r) for r in new}
        records = [r for r in load_records(path) if key(r) not in keys] + new
        write_records(path, benchmark, records)
        if then is not None:
            then(records)
    return records


def device_name(device: str) -> str:
    """The device a benchmark ran on, as recorded in every result."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(0)
    return f"CPU ({cpu_model()}, {platform.machine()}, {torch.get_num_threads()} threads)"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, with its family and model numbers (platform's guess
    elsewhere): wall times on two machines of one name can differ several-fold (a flow retrain step took
    0.27 s on the 2-core machine of 2026-11-23 and 0.88 s on the "AMD EPYC" one of 2026-11-24, one thread
    each; the "AMD EPYC" of 2026-11-25, family 26, ran taming steps about 4x faster than that of 2026-11-24)."""
    try:
        info = dict(
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines()) if v
        )
    except OSError:
        info = {}
    if "model name" not in info:
        return platform.processor() or "unknown CPU"
    numbers = ", ".join(f"{k} {info[k]}" for k in ("cpu family", "model") if k in info)
    return f"{info['model name']} ({numbers})" if numbers else info["model name"]


def for_device(path: Path, device: str) -> Path:
    """Where a benchmark run on `device` keeps its records: GPU runs get a file (and a RESULTS.md block) of
    their own beside the CPU ones, so neither replaces the other's rows. A file's RESULTS.md block is
    named by its stem (`gan_redaction`, `gan_redaction_gpu`, ...)."""
    return path.with_name(f"{path.stem}_gpu{path.suffix}") if str(device).startswith("cuda") else path


def on_gpu(path: Path) -> bool:
    """Whether a results file (from `for_device`) holds GPU runs."""
    return path.stem.endswith("_gpu")


def heading(title: str, path: Path) -> str:
    return f"{title} on GPU" if on_gpu(path) else title
