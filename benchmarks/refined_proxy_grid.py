"""Figure: what encoder-unlearn's `refine` makes of a proxy retain set. For each zoo convolutional
inpainter (forget digits / garments 0-4), 48 images of the other data set, refined by 8 rounds of the
model's own inpainting; the grid shows those the redaction classifier keeps (not in a forget class).

    python benchmarks/refined_proxy_grid.py    # -> benchmarks/figures/refined_proxy_{fashion,mnist}.png
"""
import torch

from genredact.data import load_dataset, to_float
from genredact.methods.encoder_unlearn import refine_proxy
from genredact.report.grids import save_grid
from genredact.targets import parse_target
from genredact.zoo import load_model

from _results import HERE

torch.set_num_threads(1)
for prefix, proxy in (("fashion", "mnist"), ("mnist", "fashion-mnist")):
    model = load_model(f"{prefix}-inpainter-conv").eval()
    target = parse_target("label=0,1,2,3,4", model)
    kept = refine_proxy(model, load_dataset(proxy, "train"), 8, 48, target, torch.Generator().manual_seed(0))
    path = save_grid(to_float(kept.x[:32]), HERE / "figures" / f"refined_proxy_{prefix}.png", nrow=16)
    print(f"{prefix}-inpainter-conv: {len(kept)} of 48 {proxy} images kept after refinement -> {path}")
