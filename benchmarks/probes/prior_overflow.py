"""Probe (prints only): where a debias="prior" flow's samples overflow, and what the classifiers make of them.

Runs taming with debias="prior" (the benchmark's debias-even target, seed 0, 4 components per class) on a zoo
flow, then draws SAMPLES latents from each mixture component at the evaluation temperature and counts the
samples with non-finite pixels (`FlowModel.sample` sets those pixels to background, -1). Prints each
component's class, weight, overflow share and largest latent std, the expected overflow share of the
weighted mixture, and the class the judge and each redaction classifier give a background (all -1) image:
overflowed samples are counted as that class by whoever counts the mix.

    python benchmarks/probes/prior_overflow.py fashion-mnist [CLASSIFIER] [SAMPLES]

Printed on 2026-11-25 (fashion-mnist, the LeNet steering): before overflowed samples were a column of the fit
(aae946f), component 3 (a T-shirt cluster, mean |mu| 0.84 against 0.08-0.45 for the others) overflowed on 55.0% of
its samples at weight 0.034, and the weighted overflow share was 1.98%; the judge, the LeNet and the convnet
classifier all call a background image Sandal (0.43 / 0.55 / 0.84). With the column (6afd80d): component 3 at
weight 0.000 and the weighted overflow share 0.06%.
"""
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for flow_taming
from flow_taming import LABEL, MODELS, even_mix  # noqa: E402
from genredact.api import redact  # noqa: E402
from genredact.data import load_dataset  # noqa: E402
from genredact.seeding import make_generator  # noqa: E402
from genredact.targets import parse_target  # noqa: E402
from genredact.zoo import DATASET_PREFIX, load_classifier, load_model  # noqa: E402


def main() -> None:
    ds = sys.argv[1]
    steer = sys.argv[2] if len(sys.argv) > 2 else f"{DATASET_PREFIX[ds]}-classifier"
    per = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    model, train = load_model(MODELS[ds]), load_dataset(ds, "train")
    target = parse_target(f"mix={even_mix(train.class_names, LABEL[ds])}", model, classifier=load_model(steer), classifier_source=steer)
    edited, log = redact(model, target, "taming", data=train, seed=0, progress=False, debias="prior", mix_samples=5000, mix_tol=0.01, prior_rounds=8)
    prior = edited.prior
    w = prior.log_weights.exp().numpy()
    share = np.zeros(len(w))
    g = make_generator(7)
    with torch.no_grad():
        for j in range(len(w)):
            z = prior.means[j] + 0.7 * prior.log_stds[j].exp() * torch.randn(per, edited.dim, generator=g)
            x = edited.generate(z)
            share[j] = float((~torch.isfinite(x).flatten(1).all(1)).double().mean())
    for j in range(len(w)):
        print(f"component {j:2d} class {train.class_names[log['prior_classes'][j]]:>12}: weight {w[j]:.3f}  overflow {share[j]:6.1%}  "
              f"largest std {float(prior.log_stds[j].exp().max()):.2f}  mean |mu| {float(prior.means[j].abs().mean()):.2f}")
    print(f"weighted overflow share {float(w @ share):.2%} (steered by {steer})")
    blank = -torch.ones(1, *edited.image_shape)
    for name in (f"{DATASET_PREFIX[ds]}-judge", f"{DATASET_PREFIX[ds]}-classifier", f"{DATASET_PREFIX[ds]}-classifier-convnet"):
        clf = load_model(name) if not name.endswith("judge") else load_classifier(ds, role="judge")
        with torch.no_grad():
            p = clf(blank).softmax(1)[0]
        print(f"{name} calls a background image {train.class_names[int(p.argmax())]} ({float(p.max()):.2f})")


if __name__ == "__main__":
    main()
