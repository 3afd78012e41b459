"""Stage train_autoencoder: fit the autoencoder on train, validate on val, log losses; then,
if enabled, fine-tune it with a clustering layer (IDEC). The images' shape is the data set's
description's; the training budget is fitted to the training images (``min_steps``, batches
of at most the rows). The machine that trained it is recorded beside the losses: the model's
bytes depend on its CPU and on the threads TensorFlow splits its work between (``threads``;
null: every CPU the process may use)."""

from fashion_clustering.representation.autoencoder import (
    AutoencoderConfig, SmallCollectionConfig, TrainingConfig, build_autoencoder, for_collection, save_model,
    seed_everything, train_autoencoder, training_budget,
)
from fashion_clustering.data.dataset import load_split
from fashion_clustering.data.description import read_description
from fashion_clustering.files import atomic_path, write_json
from fashion_clustering.machine import MACHINE_FILE, available_cpus, describe_training_machine
from fashion_clustering.params import Section
from fashion_clustering.representation.clustering_layer import ClusteringLayerConfig, fine_tune
from fashion_clustering.representation.views import ViewsConfig
from fashion_clustering.stage import run_stage


def main(prepared_dir: str, description_file: str, model_file: str, log_dir: str) -> None:
    with Section.load("train_autoencoder") as section:
        architecture, training = AutoencoderConfig.from_params(section), TrainingConfig.from_params(section)
        small = SmallCollectionConfig.from_params(section.section("small_collection"))
        views = ViewsConfig.from_params(section.section("views"))
        clustering = ClusteringLayerConfig.from_params(section.section("clustering"))
    image_shape = read_description(description_file).image_shape
    threads = training.threads or available_cpus()
    seed_everything(training.seed, threads)
    x_train, _ = load_split(prepared_dir, "train")
    x_val, _ = load_split(prepared_dir, "val")
    training, architecture = training_budget(training, len(x_train)), for_collection(architecture, small, len(x_train))
    autoencoder, _ = build_autoencoder(architecture, image_shape)
    # Imported only now that seed_everything has imported TensorFlow without its C++ banners.
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    with atomic_path(log_dir) as tmp:
        live = Live(str(tmp), dvcyaml=False, save_dvc_exp=False)
        train_autoencoder(autoencoder, x_train, x_val, training, [DVCLiveCallback(live=live)], views, image_shape)
        write_json(tmp / MACHINE_FILE, describe_training_machine(threads))
    if clustering.enabled:
        fine_tune(autoencoder, x_train, clustering, training.batch_size, training.seed)
    save_model(autoencoder, model_file)


if __name__ == "__main__":
    run_stage(main)
