"""Probe (prints only): the rounds of one taming debias="prior" run on the benchmark's open target ('Sandal:0.3' /
'7:0.3'), steered by the zoo's ensemble: per round the steering classifier's max error (points), its mix and the
original prior's weight, then the final weight by class (-1: the original prior).

    python benchmarks/probes/debias_prior_rounds.py fashion-mnist 1 '{"prior_open": "original"}'

Printed on 2026-11-25 (session 22, AMD EPYC family 26) for fashion-mnist seed 1 with '{"prior_open": "original"}':
target Ankle boot 1.6%, measured 2.8-3.6% in every round (the Sandal components make Ankle boots too); the original
prior's weight 0.45 in round 0 and 0.14 in round 11 (the best round, 1.28 points), the weight going to other
classes' components (Coat 0.156, Shirt 0.235, Sandal 0.384).
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(2)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for flow_taming
from flow_taming import MIX, MODELS  # noqa: E402
from genredact.api import redact  # noqa: E402
from genredact.data import load_dataset  # noqa: E402
from genredact.targets import parse_target  # noqa: E402
from genredact.zoo import load_model  # noqa: E402


def main() -> None:
    ds, seed, opts = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    model, train = load_model(MODELS[ds]), load_dataset(ds, "train")
    clf = load_model(f"{ds.split('-')[0]}-classifier-ensemble")
    target = parse_target(f"mix={MIX[ds]}", model, classifier=clf, classifier_source="ensemble")
    _, log = redact(model, target, "taming", data=train, seed=seed, progress=False, debias="prior", **opts)
    np.set_printoptions(precision=1, suppress=True, linewidth=200)
    print("target %", np.array(log["target_mix"]) * 100)
    owner, base = np.array(log["prior_classes"]), -1 in log["prior_classes"]
    for h in log["history"]:
        w = np.array(h["weights"])
        print(f"round {h['step']}: max error {100 * h['max_err']:.2f}; mix %", np.array(h["mix"]) * 100,
              f"original prior's weight {w[owner == -1].sum():.3f}" if base else "")
    w = np.array(log["prior_weights"])
    print("final weight by class (-1 first):", [round(float(w[owner == c].sum()), 3) for c in range(-1, len(log["target_mix"]))])


if __name__ == "__main__":
    main()
