"""Probe (prints only): where a 5-image taming run (stats="batch", aim_gain 0.1: the benchmark's row) spends
time outside its training steps: how many steps run the stopping check (a forward pass of the forget images
under fixed noise) and how long those took, and how long scoring the statistics pool (1024 remember images
under the frozen original, once) takes.

    python benchmarks/probes/taming_check_count.py fashion-mnist fashion-flow Sandal

Printed on 2026-11-25 (AMD EPYC, family 26, one thread, beside a test run, so the seconds carry that load):
fashion-flow 320 steps (wall 27.9 s, loop 26.1), 42 checks taking 0.42 s, pool 0.64 s; mnist-flow 469 steps (wall
43.3 s, loop 41.1), 59 checks taking 0.57 s, pool 0.79 s. Neither is where the 5-image rows' distance to 2% of
retrain lies: the loop's steps are.
"""
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for flow_taming
from flow_taming import forget_indices  # noqa: E402
from genredact.api import redact  # noqa: E402
from genredact.data import load_dataset  # noqa: E402
from genredact.methods._flow import forget_split  # noqa: E402
from genredact.models import FlowModel  # noqa: E402
from genredact.seeding import make_generator  # noqa: E402
from genredact.targets import parse_target  # noqa: E402
from genredact.zoo import load_model  # noqa: E402


def main() -> None:
    ds, name, label = sys.argv[1:4]
    model, train = load_model(name), load_dataset(ds, "train")
    idx = forget_indices(train, train.class_names.index(label), (1, 5, 15))[5]
    target = parse_target("indices=" + ",".join(map(str, idx)), model)
    x = torch.as_tensor(forget_split(train, target).remember.x[:1024])
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), 256):
            model.bpd_of(x[i : i + 256], generator=make_generator(i))
    pool_s = time.perf_counter() - t0
    calls = {"n": 0, "s": 0.0}
    plain = FlowModel.bpd_of

    def counted(self, images, *args, **kwargs):  # the check scores exactly the 5 forget images
        t = time.perf_counter()
        out = plain(self, images, *args, **kwargs)
        if len(images) == len(idx):
            calls["n"] += 1
            calls["s"] += time.perf_counter() - t
        return out

    FlowModel.bpd_of = counted
    _, log = redact(model, target, "taming", data=train, seed=0, progress=False, stats="batch", aim_gain=0.1)
    print(f"{name}: {log['steps']} steps, wall {log['wall_s']:.1f} s (loop {log['loop_wall_s']:.1f}), {calls['n']} checks taking "
          f"{calls['s']:.2f} s; scoring {len(x)} pool images {pool_s:.2f} s")


if __name__ == "__main__":
    main()
