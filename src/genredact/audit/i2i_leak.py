"""`i2i-leak` (image-to-image): does the forgotten class leak through masks other than the one the
model was unlearned with?

The attacker gives the model held-out images of the forgotten class with holes of several kinds and
sizes (centre squares, random patches, outpainting borders) and asks the judge what the completions
show. Reported per mask: the judge's accuracy on the completions of forget-class and retain-class
images; the summary is the worst case over masks (the highest forget accuracy), next to the same for
the original model and `retrain`. A model that forgot only for its training mask leaks here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from genredact.audit.base import ATTACKS, Attack, AttackContext, positive_int
from genredact.data import to_float
from genredact.errors import GenredactError
from genredact.metrics.i2i import mask_name, paired_metrics
from genredact.seeding import make_generator

# "random" draws its own hole per image (a jittered box or a border); its size argument is unused.
MASKS = (("center", 0.35), ("center", 0.5), ("center", 0.71), ("random", 0.5), ("outpaint", 0.18), ("outpaint", 0.3))


@ATTACKS.register("i2i-leak")
class I2ILeak(Attack):
    name = "i2i-leak"
    families = ("inpainter",)
    summary = "judge accuracy of completions of forget-class images under many masks; the worst case"

    @dataclass(frozen=True)
    class Config:
        n_images: int = 500  # forget-class and retain images each
        masks: tuple[tuple[str, float], ...] = field(default=MASKS)

        def check(self) -> None:
            positive_int("n_images", self.n_images)
            if not self.masks:
                raise GenredactError("i2i-leak needs at least one mask")

    def run(self, model: Any, config: Config, context: AttackContext) -> dict[str, Any]:
        self.check_family(model)
        if context.heldout is None:
            raise GenredactError("i2i-leak needs held-out images of the forgotten class; pass heldout=...")
        labels = list(context.labels)
        gen = make_generator(context.seed)
        forget, retain = context.heldout.only(labels), context.heldout.without(labels)
        if len(forget) < 2 or len(retain) < 2:
            raise GenredactError("i2i-leak needs at least 2 held-out images of the forgotten class and of the others")
        pick_f = torch.randperm(len(forget), generator=gen)[: config.n_images].sort().values.numpy()
        pick_r = torch.randperm(len(retain), generator=gen)[: config.n_images].sort().values.numpy()
        xf, yf = to_float(forget.x[pick_f]), np.asarray(forget.y)[pick_f]
        xr, yr = to_float(retain.x[pick_r]), np.asarray(retain.y)[pick_r]
        model = model.to(context.device).eval()
        judge = context.judge.to(context.device).eval()
        per_mask = {}
        for kind, size in config.masks:
            with torch.random.fork_rng(devices=[]):  # random masks: the same holes for every model
                torch.manual_seed(context.seed)
                f = paired_metrics(model, xf, yf, judge, kind=kind, size=size)
                torch.manual_seed(context.seed + 1)
                r = paired_metrics(model, xr, yr, judge, kind=kind, size=size)
            per_mask[mask_name(kind, size)] = {"forget_acc": f["acc"], "retain_acc": r["acc"], "forget_psnr": f["psnr"], "retain_psnr": r["psnr"]}
        worst = max(per_mask, key=lambda k: per_mask[k]["forget_acc"])
        return {
            "max_forget_acc": per_mask[worst]["forget_acc"],
            "worst_mask": worst,
            "mean_forget_acc": float(np.mean([v["forget_acc"] for v in per_mask.values()])),
            "mean_retain_acc": float(np.mean([v["retain_acc"] for v in per_mask.values()])),
            "masks": per_mask,
            "n_images": int(len(xf)),
        }
