"""Probe (prints only): how often the redaction classifier (which steers taming's debias and class modes)
and the independent evaluation judge (which scores them) give the same class, on a zoo model's samples
and on real test images. Where they agree little, a mix reached under one is not the mix counted by the
other, whatever the method does.

    python benchmarks/classifier_agreement.py fashion-mnist fashion-flow 2000 0.7 [CLASSIFIER_FOLDER]

Prints the agreement on n samples (flows: at the given temperature) and on the first n test images, each
classifier's class shares on the samples, and the samples' confusion matrix (rows: redaction
classifier, columns: judge). A classifier folder as the fifth argument stands in for the zoo's redaction
classifier (e.g. one trained with `genredact zoo train fashion-judge --set seed=2 --out DIR`).
"""
import sys

import numpy as np
import torch

torch.set_num_threads(1)
from genredact.data import load_dataset  # noqa: E402
from genredact.data.datasets import to_float  # noqa: E402
from genredact.zoo import load_classifier, load_model  # noqa: E402


def labels(clf, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return torch.cat([clf.predict(x[i : i + 500])[0].argmax(1) for i in range(0, len(x), 500)]).numpy()


def main() -> None:
    ds, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    temperature = float(sys.argv[4]) if len(sys.argv) > 4 else 0.7
    model = load_model(name)
    judge = load_classifier(ds, role="judge")
    clf = load_model(sys.argv[5]) if len(sys.argv) > 5 else load_classifier(ds, role="redaction")
    kw = {"temperature": temperature} if getattr(model, "family", "") == "flow" else {}
    x = model.sample(n, generator=torch.Generator().manual_seed(0), **kw)
    pc, pj = labels(clf, x), labels(judge, x)
    test = load_dataset(ds, "test")
    xt = to_float(test.x[:n])
    tc, tj = labels(clf, xt), labels(judge, xt)
    k = len(test.class_names)
    print(f"{name}: {n} samples{f' at temperature {temperature}' if kw else ''}: classifier and judge agree on {np.mean(pc == pj):.1%}; "
          f"on {n} test images on {np.mean(tc == tj):.1%} (accuracy: classifier {np.mean(tc == test.y[:n]):.1%}, judge {np.mean(tj == test.y[:n]):.1%})")
    share = lambda p: np.bincount(p, minlength=k) / len(p)  # noqa: E731
    for c, (a, b) in enumerate(zip(share(pc), share(pj))):
        print(f"  {test.class_names[c]:>12}: classifier {a:6.1%}  judge {b:6.1%}  both {np.mean((pc == c) & (pj == c)):6.1%}")
    cm = np.zeros((k, k), int)
    np.add.at(cm, (pc, pj), 1)
    print("confusion on the samples (rows: redaction classifier, columns: judge):")
    print(cm)


if __name__ == "__main__":
    main()
