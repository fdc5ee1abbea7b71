"""Resumable runs.

A command that writes `OUT` (a run folder, a model folder, a metrics file) opens a session with
`resumable(OUT, ...)`. Inside it, every `Loop` that registers its state, and every evaluation, saves a
checkpoint into the hidden sibling folder `.OUT.resume/` at most every `every_s` seconds and when it
ends. Killed at any moment (even with SIGKILL), the same command with `--resume` finds that folder,
skips the loops that had finished (restoring their final state) and continues the one that was
running from its last checkpoint. Since every random draw comes from saved generators, the result is
bit-identical to an uninterrupted run on CPU.

Checkpoints are numbered in the order the run reaches them, which is fixed for a given command, and
the folder holds the command's fingerprint: resuming with other arguments is refused. The folder
is removed when the command succeeds or fails with a genredact error (bad input, divergence: a rerun
would fail the same way); it stays after a crash or an interrupt so that `--resume` can use it.
"""
from __future__ import annotations

import json
import shutil
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from genredact.errors import GenredactError

DEFAULT_EVERY_S = 60.0


@dataclass
class Session:
    dir: Path
    every_s: float
    resume: bool
    counter: int = 0

    def next_path(self, kind: str) -> Path:
        """The checkpoint file of the next loop or evaluation this run reaches."""
        self.counter += 1
        return self.dir / f"{self.counter:03d}-{kind}.safetensors"


_SESSION: ContextVar[Session | None] = ContextVar("genredact_resume_session", default=None)


def current() -> Session | None:
    return _SESSION.get()


def resume_dir(out: str | Path) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.resume"


def _remove_stale_temps(out: Path) -> None:
    """Temporary siblings (`.OUT.tmp-*`) left by a run that was killed before its final rename."""
    if out.parent.is_dir():
        for p in out.parent.glob(f".{out.name}.tmp*"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


@contextmanager
def resumable(out: str | Path, *, resume: bool, fingerprint: dict[str, Any], every_s: float = DEFAULT_EVERY_S,
              echo: Callable[[str], None] = print) -> Iterator[Session | None]:
    """Checkpoint the loops and evaluations run inside the block for the command writing `out` (none,
    and the session is None, when several processes run the command)."""
    from genredact.engine.dist import world

    out = Path(out)
    folder = resume_dir(out)
    if world()[1] > 1:  # checkpoints would hold one process's random streams: none under a launcher
        if resume:
            raise GenredactError("--resume works in a single process: resume the run without `accelerate launch`")
        yield None
        return
    if not every_s >= 0:
        raise GenredactError(f"--checkpoint-every must be a number of seconds >= 0, got {every_s}")
    fp = json.loads(json.dumps(fingerprint, default=str))
    _remove_stale_temps(out)
    if folder.exists():
        saved = None
        try:
            saved = json.loads((folder / "run.json").read_text())
        except (OSError, ValueError):
            pass
        if resume and saved is not None and saved != fp:
            diff = sorted(k for k in set(saved) | set(fp) if saved.get(k) != fp.get(k))
            raise GenredactError(f"the checkpoints in {folder} belong to a run with other arguments ({', '.join(diff)}); "
                                 "repeat that run's command with --resume, or drop --resume to start afresh")
        if not resume or saved is None:
            echo(f"note: removing the checkpoints of an earlier interrupted run in {folder} (pass --resume to continue such a run)")
            shutil.rmtree(folder)
        else:
            echo(f"resuming from the checkpoints in {folder}")
    elif resume:
        echo(f"note: no checkpoints for {out} (looked in {folder}); starting from the beginning")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "run.json").exists():
        tmp = folder / ".run.json.tmp"
        tmp.write_text(json.dumps(fp, indent=1, sort_keys=True))
        tmp.replace(folder / "run.json")
    session = Session(folder, float(every_s), resume=resume)
    token = _SESSION.set(session)
    try:
        yield session
    except GenredactError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    else:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        _SESSION.reset(token)
