"""`extrapolate` baseline: parameter-space extrapolation away from negatively adapted generators, from
Tiwary, Guha, Panda, Prathosh, "Adapt then Unlearn", TMLR 2025 (arXiv 2309.14054); reference code
atriguha/Adapt_Unlearn (research notes sections 2.4 and 2.7).

Stage 1 of `adapt-then-unlearn` (shared code, `adapt_negatives`) gives K generators theta_N^k adapted to
a few negatives. No further training follows; the generator parameters become

    theta = theta_G + gamma * mean_k(theta_G - theta_N^k)

so gamma > 0 moves away from the negatives and gamma = 0 is the pre-trained generator. (The reference
code writes theta_G + gamma * mean_k(theta_N^k - theta_G) and sweeps negative gamma; only the sign
convention differs.) Buffers such as batch-norm running statistics and the discriminator are copied from
the pre-trained model. The paper reports that this suppresses the feature but degrades quality, which is
what stage 2 of `adapt-then-unlearn` repairs.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch

from genredact.errors import GenredactError
from genredact.methods.adapt_then_unlearn import AdaptConfig, adapt_negatives
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.targets import Target


@METHODS.register("extrapolate")
class ExtrapolateMethod(RedactionMethod):
    """Extrapolation baseline of Adapt then Unlearn (Tiwary et al., TMLR 2025).

    Config fields: gamma (step along theta_G - mean_k theta_N^k; may be negative to move towards the
    negatives), plus the stage-1 options of `AdaptConfig`.
    """

    name = "extrapolate"
    families = ("gan",)
    target_kinds = ("samples", "classifier")
    paper = "Tiwary, Guha, Panda, Prathosh, Adapt then Unlearn, TMLR 2025 (arXiv 2309.14054), extrapolation baseline"
    summary = "move the generator's parameters away from K generators EWC-adapted to a few negatives (no stage 2)"

    @dataclass(frozen=True)
    class Config(AdaptConfig):
        gamma: float = 1.0

        def check(self) -> None:
            AdaptConfig.check(self)
            if not math.isfinite(self.gamma):
                raise GenredactError(f"gamma must be a finite number, got {self.gamma}")

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        adapted, stage1, _ = adapt_negatives(model, target, config, context)
        edited = copy.deepcopy(model).to(torch.device(context.device)).eval()
        with torch.no_grad():
            for name, p in edited.generator.named_parameters():
                mean_adapted = torch.stack([theta[name].to(p.device) for theta in adapted]).mean(0)
                p.copy_(p + config.gamma * (p - mean_adapted))
        history = stage1.pop("history")
        log = {"steps": stage1["steps"], "wall_s": stage1["wall_s"], "peak_mem_mb": stage1["peak_mem_mb"], "history": history, "stage1": stage1, "gamma": config.gamma}
        return MethodResult(edited, log)
