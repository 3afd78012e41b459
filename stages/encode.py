"""Stage encode: the representation the clusterers see, for train, val and test.

That is the encoder's latent codes, optionally embedded by UMAP fitted on train codes;
the fitted reducer (or None without UMAP) is saved for `fashion-clustering predict`.
"""

from fashion_clustering.autoencoder import encode, load_encoder
from fashion_clustering.dataset import SPLITS, load_split
from fashion_clustering.files import save_arrays
from fashion_clustering.manifold import EncodeConfig, apply_umap, fit_umap, save_manifold
from fashion_clustering.params import Section
from fashion_clustering.stage import run_stage


def main(prepared_dir: str, model_file: str, features_file: str, manifold_file: str) -> None:
    with Section.load("encode") as p:
        config = EncodeConfig.from_params(p)
    encoder = load_encoder(model_file)
    codes = {split: encode(encoder, load_split(prepared_dir, split)[0], config.batch_size) for split in SPLITS}
    reducer = None
    if config.umap is not None:
        reducer, train = fit_umap(codes["train"], config.umap)
        codes = {"train": train, "val": apply_umap(reducer, codes["val"]),
                 "test": apply_umap(reducer, codes["test"])}
    save_arrays(features_file, codes)
    save_manifold(manifold_file, reducer)


if __name__ == "__main__":
    run_stage(main)
