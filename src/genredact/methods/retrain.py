"""`retrain` baseline: train the same architecture from scratch (fresh initialisation) on the valid
data with the zoo's recipe. The
data-deletion gold standard and the cost yardstick every other method is measured against."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from genredact.errors import GenredactError
from genredact.methods._adversarial import loop_log, valid_part
from genredact.methods.base import METHODS, Context, MethodResult, RedactionMethod
from genredact.models import GanModel
from genredact.targets import Target
from genredact.zoo.recipes import GanRecipe, train_gan


@METHODS.register("retrain")
class RetrainMethod(RedactionMethod):
    name = "retrain"
    families = ("gan", "inpainter")
    target_kinds = ("classifier", "validity")
    paper = "baseline: retrain from scratch without the target (data deletion)"
    summary = "train from scratch on valid data with the zoo recipe (gold standard, cost yardstick)"

    @dataclass(frozen=True)
    class Config:
        steps: int = GanRecipe.steps
        batch_size: int = GanRecipe.batch_size
        lr: float = GanRecipe.lr
        seed: int = 0

        def check(self) -> None:
            if self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
                raise GenredactError("steps, batch_size and lr must be positive")

    def apply(self, model: GanModel, target: Target, config: Config, context: Context) -> MethodResult:
        if context.data is None:
            raise GenredactError("retrain needs the training data, which is not at hand for this model")
        if getattr(model, "family", "") == "inpainter":  # image-to-image family: zoo/inpainter_recipes.py
            from genredact.zoo.inpainter_recipes import retrain_inpainter

            return retrain_inpainter(model, target, config, context)
        device = torch.device(context.device)
        valid = valid_part(context.data, target, device)
        recipe = GanRecipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, seed=config.seed)
        new, result = train_gan(valid, recipe, like=model, progress=context.progress, desc=self.name, device=str(device))
        return MethodResult(new, loop_log(result, train_images=len(valid)))
