"""Stage encode: the representation the clusterers see, for train, val and test.

That is the encoder's latent codes (computed exactly, see fashion_clustering.representation.exact_encoder),
optionally embedded by UMAP fitted on train codes and extended to the others; the manifold
step (or None without UMAP) is saved for `fashion-clustering predict`. The prepared rows must
be the images the autoencoder was trained on (the data set's description says their shape).
"""

from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.data.description import read_description
from fashion_clustering.files import save_arrays
from fashion_clustering.params import Section
from fashion_clustering.representation.exact_encoder import check_row_length, exact_encode, load_exact_encoder
from fashion_clustering.representation.manifold import EncodeConfig, embed_codes, fit_umap, save_manifold
from fashion_clustering.stage import run_stage


def main(prepared_dir: str, description_file: str, model_file: str, features_file: str, manifold_file: str) -> None:
    with Section.load("encode") as section:
        config = EncodeConfig.from_params(section)
    encoder = load_exact_encoder(model_file)
    check_row_length(encoder, read_description(description_file).row_length, model_file)
    codes = {split: exact_encode(encoder, load_split(prepared_dir, split)[0], config.batch_size)
             for split in SPLITS}
    manifold = None
    if config.umap is not None:
        manifold = fit_umap(codes["train"], config.umap)
        codes = {"train": manifold.embedding, "val": embed_codes(manifold, codes["val"]),
                 "test": embed_codes(manifold, codes["test"])}
    save_arrays(features_file, codes)
    save_manifold(manifold_file, manifold)


if __name__ == "__main__":
    run_stage(main)
