"""Run by tests/test_ddp.py twice: plainly, and under `accelerate launch --num_processes 2 --cpu`.

Evaluates the tiny GAN, redacts class 1 with redact-classifier and evaluates the result, under a judge
trained with another seed; the main process writes the figures to --out."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import _train_tiny_gan, train_tiny_classifier, two_class_data  # noqa: E402

from genredact.api import redact  # noqa: E402
from genredact.engine.dist import is_main, world  # noqa: E402
from genredact.evaluation import evaluate  # noqa: E402
from genredact.targets import ClassifierTarget  # noqa: E402

KEYS = ("residual_rate", "residual_upper95", "fid", "kid", "precision", "recall")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=80)
    args = ap.parse_args()
    data = two_class_data()
    clf, judge = train_tiny_classifier(data, seed=0), train_tiny_classifier(data, seed=1)
    gan = _train_tiny_gan(data)
    kw = dict(labels=(1,), judge=judge, real=data, n=6000, seed=5, kid_subsets=5)
    before = evaluate(gan, **kw)
    edited, log = redact(gan, ClassifierTarget(classifier=clf, target_labels=(1,), source="tiny"), "redact-classifier", data=data,
                         progress=False, steps=args.steps, batch_size=32, pool_size=64)
    after = evaluate(edited, **kw)
    if is_main():
        Path(args.out).write_text(json.dumps({"world": world()[1], "before": {k: before[k] for k in KEYS}, "after": {k: after[k] for k in KEYS},
                                              "steps": log["steps"]}))


if __name__ == "__main__":
    main()
