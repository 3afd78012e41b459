"""The example images of README's `predict` line, made from Fashion-MNIST's test images.

    python examples/make_examples.py [data/raw]

Writes `examples/test-NNNNN.png` (a few test images as pictures: a dark garment on a white
background, four times enlarged, as a photo would come, which `predict` converts back) and
`examples/test-images.npy` (the first ten test images as Fashion-MNIST stores them). Run
after `fetch`; the files are committed, so a clone has them without running it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from fashion_clustering.data.idx import read_idx

HERE = Path(__file__).resolve().parent
PICTURES = (0, 1, 2, 4)  # test images shown as pictures: a boot, a pullover, trousers, a shirt
ARRAY_IMAGES = 10  # the first test images, saved as one .npy array
SCALE = 4  # a picture's enlargement: predict resizes any size back to 28x28


def main(raw: Path) -> None:
    images = read_idx(raw / "t10k-images-idx3-ubyte", ndim=3)
    for index in PICTURES:
        picture = Image.fromarray(255 - images[index]).resize((28 * SCALE, 28 * SCALE), Image.NEAREST)
        picture.save(HERE / f"test-{index:05d}.png", optimize=False)
    np.save(HERE / "test-images.npy", images[:ARRAY_IMAGES])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/raw"))
