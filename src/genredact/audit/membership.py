"""`likelihood-membership` (flows): can the flow's likelihood still tell the forgotten training images
from images of the same class it never saw?

A flow that memorised its training images gives them a lower BPD than unseen ones; after forgetting,
the forget images should look like unseen images again (AUC near 0.5) or less likely than them
(below 0.5: over-forgetting also marks them). Reported: the AUC of "member" = lower BPD, for the forget
images (the target's training images, or `AttackContext.forget` when the target named images) against
the held-out test images of the same class, and the same AUC for retain classes as the model's baseline
memorisation, plus the mean BPDs. One fixed dequantisation draw per image, the same for every model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from genredact.audit.base import ATTACKS, Attack, AttackContext, positive_int
from genredact.errors import GenredactError
from genredact.metrics.flow import membership_auc
from genredact.seeding import make_generator


@ATTACKS.register("likelihood-membership")
class LikelihoodMembership(Attack):
    name = "likelihood-membership"
    families = ("flow",)
    summary = "AUC of telling the forget images from unseen images of their class by likelihood"

    @dataclass(frozen=True)
    class Config:
        n_images: int = 1000  # the most forget, unseen and retain images scored (each)

        def check(self) -> None:
            positive_int("n_images", self.n_images)

    def run(self, model: Any, config: Config, context: AttackContext) -> dict[str, Any]:
        self.check_family(model)
        if context.heldout is None or (context.train is None and context.forget is None):
            raise GenredactError("likelihood-membership needs the training data (or the forget images) and held-out images; pass train=... and heldout=...")
        labels = list(context.labels)
        forget = np.asarray(context.forget) if context.forget is not None else context.train.only(labels).x
        unseen = context.heldout.only(labels).x
        if len(forget) < 2 or len(unseen) < 2:
            raise GenredactError(f"likelihood-membership needs at least 2 forget and 2 unseen images of the class, got {len(forget)} and {len(unseen)}")
        pick = np.random.default_rng(context.seed)
        take = lambda a: a[np.sort(pick.permutation(len(a))[: config.n_images])]  # noqa: E731
        sets = {"forget": take(forget), "unseen": take(unseen)}
        if context.train is not None:
            sets["retain_train"] = take(context.train.without(labels).x)
            sets["retain_unseen"] = take(context.heldout.without(labels).x)
        model = model.to(context.device).eval()
        bpd = {k: model.bpd_of(torch.as_tensor(v), generator=make_generator(context.seed + i)).numpy() for i, (k, v) in enumerate(sets.items())}
        out = {
            "auc": membership_auc(bpd["forget"], bpd["unseen"]),
            "forget_bpd": float(bpd["forget"].mean()),
            "unseen_bpd": float(bpd["unseen"].mean()),
            "n_forget": int(len(sets["forget"])),
            "n_unseen": int(len(sets["unseen"])),
        }
        if "retain_train" in bpd:
            out["retain_auc"] = membership_auc(bpd["retain_train"], bpd["retain_unseen"])
        return out
