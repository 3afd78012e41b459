"""Stage typicality: how typical each image of every split is of the images the models
learned from (see fashion_clustering.typicality.scores), the calibration that
`fashion-clustering predict` ranks new images against (with the threshold it flags with),
and the share of images flagged: the splits' images, made-up images unlike them, and test
images turned on their side (square images only) or moved off the middle of the frame. Made-up
images and moves are at the data set's image shape (its description)."""

from fashion_clustering.data.dataset import SPLITS, load_split
from fashion_clustering.data.description import read_description
from fashion_clustering.files import save_arrays, write_json
from fashion_clustering.params import Section
from fashion_clustering.representation.exact_decoder import load_exact_decoder
from fashion_clustering.representation.exact_encoder import check_row_length, load_exact_encoder
from fashion_clustering.stage import run_stage
from fashion_clustering.typicality.outliers import OUTLIERS, moved
from fashion_clustering.typicality.scores import (
    TypicalityConfig, atypical, calibrate, save_calibration, turned, turns, typicality, typicality_scores,
)

QUARTER_TURN = 1  # test images turned on their side


def main(prepared_dir: str, description_file: str, model_file: str, calibration_file: str, typicality_file: str,
         metrics_file: str) -> None:
    with Section.load("typicality") as p:
        config = TypicalityConfig.from_params(p)
    description = read_description(description_file)
    shape = description.image_shape
    encoder, decoder = load_exact_encoder(model_file), load_exact_decoder(model_file)
    check_row_length(encoder, description.row_length, model_file)

    def scores(pixels):
        return typicality_scores(encoder, decoder, pixels, config.batch_size, shape)

    pixels = {split: load_split(prepared_dir, split)[0] for split in SPLITS}
    split_scores = {split: scores(pixels[split]) for split in SPLITS}
    calibration = calibrate(split_scores["val"], config.threshold)
    shares = {split: typicality(calibration, split_scores[split]) for split in SPLITS}
    if QUARTER_TURN in turns(shape):
        shares["test_turned"] = typicality(calibration, scores(turned(pixels["test"], shape, QUARTER_TURN)))
    shares |= {f"test_moved_{shift}px": typicality(calibration, scores(moved(pixels["test"][:config.moved_images], shift,
                                                                              shape)))
               for shift in config.moved_shifts}
    shares |= {name: typicality(calibration, scores(kind.make(config.outliers_per_kind, config.seed, shape)))
               for name, kind in OUTLIERS.items()}
    save_calibration(calibration_file, calibration)
    save_arrays(typicality_file, {split: shares[split] for split in SPLITS})
    write_json(metrics_file, {"threshold": config.threshold, "flagged": {
        name: float(atypical(share, config.threshold).mean()) for name, share in shares.items()}})


if __name__ == "__main__":
    run_stage(main)
