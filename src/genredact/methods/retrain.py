"""`retrain` baseline: train the same architecture from scratch (fresh initialisation) on the valid
data (for flows: the training data without the forget images) with the zoo's recipe. The
data-deletion gold standard and the cost yardstick every other method is measured against."""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import nn

from genredact.errors import GenredactError
from genredact.methods._adversarial import loop_log, valid_part
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.targets import Target
from genredact.zoo.recipes import GanRecipe, train_gan


@METHODS.register("retrain")
class RetrainMethod(RedactionMethod):
    name = "retrain"
    families = ("gan", "flow", "inpainter")
    target_kinds = ("classifier", "validity", "samples")
    paper = "baseline: retrain from scratch without the target (data deletion)"
    summary = "train from scratch on valid data with the zoo recipe (gold standard, cost yardstick)"

    @dataclass(frozen=True)
    class Config:
        """Defaults are the GAN recipe's; on a flow, steps/lr left at None take the flow recipe's."""

        steps: int | None = None
        batch_size: int = GanRecipe.batch_size
        lr: float | None = None
        seed: int = 0

        def check(self) -> None:
            if (self.steps is not None and self.steps < 1) or self.batch_size < 1 or (self.lr is not None and self.lr <= 0):
                raise GenredactError("steps, batch_size and lr must be positive")

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        if context.data is None:
            raise GenredactError("retrain needs the training data, which is not at hand for this model")
        if getattr(model, "family", "") == "inpainter":  # image-to-image family: zoo/inpainter_recipes.py
            from genredact.zoo.inpainter_recipes import retrain_inpainter

            return retrain_inpainter(model, target, config, context)
        if getattr(model, "family", "") == "flow":
            return _retrain_flow(model, target, config, context)
        if target.kind == "samples":
            raise GenredactError("retrain on a GAN takes a classifier or validity target; a set of images works only for flows")
        config = replace(config, steps=config.steps or GanRecipe.steps, lr=config.lr or GanRecipe.lr)
        device = torch.device(context.device)
        valid = valid_part(context.data, target, device)
        recipe = GanRecipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, seed=config.seed)
        new, result = train_gan(valid, recipe, like=model, progress=context.progress, desc=self.name, device=str(device))
        return MethodResult(new, loop_log(result, train_images=len(valid)))


def _retrain_flow(model: nn.Module, target: Target, config: RetrainMethod.Config, context: Context) -> MethodResult:
    """Flows: the zoo's flow recipe from a fresh initialisation on the training data without the forget set."""
    from genredact.methods._flow import forget_split
    from genredact.zoo.flow_recipes import FlowRecipe, train_flow

    split = forget_split(context.data, target)
    defaults = FlowRecipe()
    recipe = replace(defaults, steps=config.steps or defaults.steps, lr=config.lr or defaults.lr, batch_size=config.batch_size, seed=config.seed)
    new, result = train_flow(split.remember, recipe, like=model, progress=context.progress, desc="retrain", device=str(context.device))
    return MethodResult(new, loop_log(result, train_images=len(split.remember), n_forget=len(split.forget)))
