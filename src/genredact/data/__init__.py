"""Data sets (Fashion-MNIST, MNIST, IDX folders, image folders) and the [-1, 1] <-> uint8 helpers."""
from genredact.data.datasets import (
    DATASETS,
    ImageData,
    load_dataset,
    load_image_folder,
    read_idx,
    to_float,
    to_uint8,
)

__all__ = ["DATASETS", "ImageData", "load_dataset", "load_image_folder", "read_idx", "to_float", "to_uint8"]
