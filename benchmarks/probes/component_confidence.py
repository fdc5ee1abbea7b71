"""Probe (prints only): for each k-means component of each class's training latents (as taming's
debias="prior" builds them: 1000 images per class), 400 samples at temperature T; the share the redaction
classifier and the judge put in the component's class, the classifier's mean top softmax probability, and how
often the two classifiers agree. Ends with the correlation of that confidence with the agreement over all
components (what the prior_clarity option of `taming_prior_clarity.diff` leaned on).

    python benchmarks/probes/component_confidence.py fashion-mnist fashion-flow 0.7 4

Printed on 2026-11-25 (AMD EPYC, family 26), 40 components each: fashion-flow, correlation of the confidence
with the agreement 0.80, of the own-class shares 0.82; mnist-flow 0.92 and 0.98.
"""
import sys

import numpy as np
import torch

torch.set_num_threads(1)
from genredact.data import load_dataset  # noqa: E402
from genredact.methods.taming import _clusters  # noqa: E402
from genredact.models.flow import dequantize, finite_images  # noqa: E402
from genredact.zoo import load_classifier, load_model  # noqa: E402


def main() -> None:
    ds, name, temperature, k = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    model, train = load_model(name).eval(), load_dataset(ds, "train")
    judge, clf = load_classifier(ds, role="judge"), load_classifier(ds, role="redaction")
    g = torch.Generator().manual_seed(0)
    rows = []
    with torch.no_grad():
        for c, cname in enumerate(train.class_names):
            idx = torch.as_tensor(np.flatnonzero(train.y == c))
            y = dequantize(train.x[idx[torch.randperm(len(idx), generator=g)[:1000]].numpy()], generator=g)
            z = torch.cat([model.inverse(y[i : i + 250])[0] for i in range(0, len(y), 250)])
            for part in _clusters(z, k, g):
                x = finite_images(model.generate(part.mean(0) + temperature * part.std(0) * torch.randn(400, model.dim, generator=g)))[0]
                pc, pj = torch.softmax(clf(x), 1), torch.softmax(judge(x), 1)
                rows.append([(pc.argmax(1) == c).float().mean(), (pj.argmax(1) == c).float().mean(), pc.amax(1).mean(),
                             (pc.argmax(1) == pj.argmax(1)).float().mean()])
                print(f"{cname:>12} ({len(part):4d} latents): classifier {rows[-1][0]:.2f}, judge {rows[-1][1]:.2f} in the class; "
                      f"classifier's top probability {rows[-1][2]:.2f}; they agree on {rows[-1][3]:.2f}", flush=True)
    r = np.array(rows, dtype=float)
    print(f"{name} at temperature {temperature}, {len(r)} components: correlation of the classifier's confidence with the agreement "
          f"{np.corrcoef(r[:, 2], r[:, 3])[0, 1]:.2f}; of the two classifiers' own-class shares {np.corrcoef(r[:, 0], r[:, 1])[0, 1]:.2f}")


if __name__ == "__main__":
    main()
