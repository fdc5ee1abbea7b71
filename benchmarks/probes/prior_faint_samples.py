"""Probe (prints only): how many of a debiased flow's samples of the raised class are faint blobs?

debias="prior" raises a class by sampling its latent clusters at temperature 0.7, and on fashion-flow the
Sandal clusters give many faint, nearly empty images, which the judge also calls Sandal. This measures it: the
"lit" fraction of a sample is its share of pixels above -0.5 (on [-1, 1]); a sample is faint when it is lit less
than 99% of the class's real training images (their 1st percentile). For the original zoo flow and for taming's
debias="prior" run on the benchmark's open target (README command, seed 0, steered by the zoo's ensemble), on
10,000 samples at temperature 0.7: the judge's share of the class, the share of samples that are faint *and*
called the class, and the share of the class with a top probability >= 0.9 that is not faint.

    python benchmarks/probes/prior_faint_samples.py fashion-mnist '{}' '{"prior_open": "components"}'
    python benchmarks/probes/prior_faint_samples.py mnist '{}' '{"prior_open": "components"}'

Printed on 2026-11-25 (session 22, AMD EPYC family 26). The judge's share of the class / faint and called the class
(its part of the class) / called with p >= 0.9 and not faint:

| flow, class (1st percentile of real lit fraction) | original | debias=prior (defaults) | prior_open=components |
|---|---|---|---|
| fashion-flow, Sandal (0.071) | 3.54% / 0.33% (9%) / 0.19% | 30.28% / 12.40% (41%) / 5.82% | 29.14% / 10.57% (36%) / 6.52% |
| mnist-flow, 7 (0.077) | 16.85% / 0.57% (3%) / 5.11% | 30.76% / 0.58% (2%) / 19.53% | 30.21% / 0.37% (1%) / 22.56% |

On fashion-flow about two fifths of the samples the judge counts as Sandal after debiasing are faint fragments
(benchmarks/figures/fashion-flow_debias_prior_Sandal.png): the mix is met under the judge, but the flow's Sandal
clusters make few clear sandals. On mnist-flow the raised 7s are not faint.

Why, on fashion-flow (same command; the run's own four Sandal components, 1000 samples each): weights 0.000 /
0.000 / 0.347 / 0.008, faint 19.0% / 11.4% / 37.5% / 4.5%; the steering ensemble calls the class 75.9% / 78.4% /
80.3% / 67.6% of each one's samples, and 92-99% of the faint ones against 66-76% of the others. The fit takes the
component the classifier is surest of, and that is the faintest: a faint image reads as Sandal to the classifier.
The class's components built the same way from the original flow (printed first; another k-means draw): faint
4.4% / 19.7% / 3.6% / 6.7%. With prior_open "components" the same components got 0.000 / 0.000 / 0.284 / 0.095.

Each argument after the data set: taming options (JSON) on top of debias="prior" with the ensemble steering. The
first run's first 64 samples that the judge calls the class are saved to
benchmarks/figures/<flow>_debias_prior_<class>.png.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(2)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for flow_taming
from flow_taming import LABEL, MIX, MODELS  # noqa: E402
from genredact.api import redact  # noqa: E402
from genredact.data import load_dataset  # noqa: E402
from genredact.methods.taming import _clusters  # noqa: E402
from genredact.models.flow import dequantize, finite_images  # noqa: E402
from genredact.report.grids import save_grid  # noqa: E402
from genredact.seeding import make_generator  # noqa: E402
from genredact.targets import parse_target  # noqa: E402
from genredact.zoo import load_classifier, load_model  # noqa: E402


def lit(x: torch.Tensor) -> torch.Tensor:
    return (x > -0.5).flatten(1).double().mean(1)


@torch.no_grad()
def report(name: str, model, judge, lab: int, floor: float, grid: Path | None = None) -> None:
    x = finite_images(model.sample(10000, temperature=0.7, generator=make_generator(1234)))[0]
    prob = torch.cat([judge(x[i : i + 500]).softmax(1) for i in range(0, len(x), 500)])
    called, faint = prob.argmax(1) == lab, lit(x) < floor
    sure = called & (prob[:, lab] >= 0.9) & ~faint
    if grid is not None:
        save_grid(x[called][:64], grid)
    print(f"{name}: judge's share {float(called.double().mean()):.2%}; faint and called the class {float((called & faint).double().mean()):.2%}"
          f" ({float((called & faint).double().sum() / called.double().sum().clamp_min(1)):.0%} of the class); called with p >= 0.9 and not faint"
          f" {float(sure.double().mean()):.2%}; faint overall {float(faint.double().mean()):.2%}", flush=True)


def main() -> None:
    ds = sys.argv[1]
    model, judge = load_model(MODELS[ds]), load_classifier(ds, role="judge")
    train = load_dataset(ds, "train")
    lab = train.class_names.index(LABEL[ds])
    floor = float(np.percentile(lit(torch.as_tensor(train.x[train.y == lab]).double() / 127.5 - 1).numpy(), 1))
    print(f"{ds}: real {LABEL[ds]} training images, 1st percentile of the lit fraction {floor:.3f}")
    report("original", model, judge, lab, floor)
    with torch.no_grad():  # the class's 4 k-means components, built as debias="prior" builds them (1000 latents)
        g = make_generator(0)
        idx = np.flatnonzero(train.y == lab)
        y = dequantize(train.x[idx[torch.randperm(len(idx), generator=g)[:1000].numpy()]], generator=g)
        z = torch.cat([model.inverse(y[i : i + 250])[0] for i in range(0, len(y), 250)])
        for j, part in enumerate(_clusters(z, 4, g)):
            x = finite_images(model.generate(part.mean(0) + 0.7 * part.std(0) * torch.randn(1000, model.dim, generator=g)))[0]
            called = judge(x).argmax(1) == lab
            print(f"component {j} ({len(part)} latents): faint {float((lit(x) < floor).double().mean()):.1%}, judge calls the class"
                  f" {float(called.double().mean()):.1%}, faint among those {float((called & (lit(x) < floor)).double().sum() / called.double().sum().clamp_min(1)):.1%}", flush=True)
    clf = load_model(f"{ds.split('-')[0]}-classifier-ensemble")
    target = parse_target(f"mix={MIX[ds]}", model, classifier=clf, classifier_source="ensemble")
    grid = Path(__file__).resolve().parents[1] / "figures" / f"{MODELS[ds]}_debias_prior_{LABEL[ds]}.png"
    for i, extra in enumerate(sys.argv[2:]):
        edited, log = redact(model, target, "taming", data=train, seed=0, progress=False, debias="prior", **json.loads(extra))
        report(f"debias=prior {extra}", edited, judge, lab, floor, grid if i == 0 else None)
        g = make_generator(0)
        for j, c in enumerate(log["prior_classes"]):  # the run's own components of the class, with their weights
            if c != lab:
                continue
            with torch.no_grad():
                x = finite_images(edited.generate(edited.prior.means[j] + 0.7 * edited.prior.log_stds[j].exp() * torch.randn(1000, model.dim, generator=g)))[0]
                faint, by_clf = lit(x) < floor, clf(x).argmax(1) == lab
            print(f"  component {j}: weight {log['prior_weights'][j]:.3f}, faint {float(faint.double().mean()):.1%}; the steering classifier calls the class"
                  f" {float(by_clf.double().mean()):.1%} of its samples, {float(by_clf[faint].double().mean()) if faint.any() else float('nan'):.1%} of the faint"
                  f" ones, {float(by_clf[~faint].double().mean()):.1%} of the others", flush=True)


if __name__ == "__main__":
    main()
