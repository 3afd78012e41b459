"""Typed, validated access to params.yaml."""

from pathlib import Path

import pytest
import yaml

from fashion_clustering.clustering.fit import GmmConfig, KMeansConfig
from fashion_clustering.params import ClustersConfig, read_n_clusters
from fashion_clustering.data.dataset import PreprocessConfig
from fashion_clustering.data.fetch import FetchConfig
from fashion_clustering.data.sources import IdxFiles, SourceConfig
from fashion_clustering.errors import PipelineError
from fashion_clustering.params import Section, declared_sections, load_params
from fashion_clustering.representation.autoencoder import AutoencoderConfig, TrainingConfig
from fashion_clustering.representation.clustering_layer import ClusteringLayerConfig
from fashion_clustering.representation.manifold import EncodeConfig, UmapConfig
from fashion_clustering.representation.views import ViewsConfig

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"
PROJECT_PIPELINE = PROJECT_PARAMS.with_name("dvc.yaml")


def section(name="sec", **values):
    return Section(values, name)


# --- getters -------------------------------------------------------------------------------

def test_missing_key():
    with pytest.raises(PipelineError) as info:
        section(other=1).integer("key")
    assert str(info.value) == "params.yaml: missing key 'sec.key'"


def test_missing_key_in_nested_section():
    nested = section("encode", umap={"n_components": 2}).section("umap")
    assert nested.name == "encode.umap"
    assert nested.integer("n_components") == 2
    with pytest.raises(PipelineError, match=r"missing key 'encode\.umap\.seed'"):
        nested.integer("seed")


def test_section_must_be_a_mapping():
    with pytest.raises(PipelineError, match=r"encode\.umap must be a mapping, got 3"):
        section("encode", umap=3).section("umap")


def test_integer_ok():
    assert section(n=5).integer("n", minimum=1) == 5
    assert section(n=0).integer("n", minimum=0) == 0
    assert section(n=-7).integer("n") == -7


@pytest.mark.parametrize("value", [0, -3])
def test_integer_below_minimum(value):
    with pytest.raises(PipelineError) as info:
        Section({"n_clusters": value}, "baseline_kmeans").integer("n_clusters", minimum=1)
    message = str(info.value)
    assert "baseline_kmeans.n_clusters" in message
    assert "integer >= 1" in message
    assert message.endswith(f"got {value}")
    if value == -3:
        assert message == "params.yaml: baseline_kmeans.n_clusters must be an integer >= 1, got -3"


@pytest.mark.parametrize("value", [True, False, 2.0, "3", None, [1]])
def test_integer_rejects_non_integers(value):
    with pytest.raises(PipelineError, match=r"sec\.n must be an integer, got"):
        section(n=value).integer("n")


def test_integer_options():
    assert section(n=4).integer("n", minimum=1, options=(1, 2, 4, 8)) == 4
    with pytest.raises(PipelineError) as info:
        Section({"image_bits": 3}, "explore").integer("image_bits", minimum=1, options=(1, 2, 4, 8))
    assert str(info.value) == "params.yaml: explore.image_bits must be one of 1, 2, 4, 8, got 3"
    with pytest.raises(PipelineError, match=r"sec\.n must be an integer >= 1, got True"):
        section(n=True).integer("n", minimum=1, options=(1, 2, 4, 8))


def test_integer_optional():
    assert section(n=None).integer("n", minimum=1, optional=True) is None
    assert section(n=4).integer("n", minimum=1, optional=True) == 4
    with pytest.raises(PipelineError, match="an integer >= 1 or null, got 0"):
        section(n=0).integer("n", minimum=1, optional=True)
    with pytest.raises(PipelineError, match="missing key 'sec.n'"):
        section().integer("n", optional=True)  # optional means "may be null", not "may be absent"


def test_number_ok():
    assert section(x=1).number("x") == 1.0
    assert isinstance(section(x=1).number("x"), float)
    assert section(x=0).number("x", minimum=0) == 0.0
    assert section(x=1).number("x", minimum=0, maximum=1) == 1.0
    assert section(x=0.5).number("x", minimum=0, maximum=1, exclusive=True) == 0.5


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        (-0.1, {"minimum": 0}, "a number in [0, inf), got -0.1"),
        (1.5, {"maximum": 1}, "a number in (-inf, 1], got 1.5"),
        (0, {"minimum": 0, "maximum": 1, "exclusive": True}, "a number in (0, 1), got 0"),
        (1.0, {"minimum": 0, "maximum": 1, "exclusive": True}, "a number in (0, 1), got 1.0"),
        (float("nan"), {}, "a number, got nan"),
        (float("inf"), {"minimum": 0}, "a number in [0, inf), got inf"),
        (True, {}, "a number, got True"),
        ("1e-4", {}, "a number, got '1e-4'"),
    ],
)
def test_number_rejects(value, kwargs, expected):
    with pytest.raises(PipelineError) as info:
        section(x=value).number("x", **kwargs)
    assert str(info.value) == f"params.yaml: sec.x must be {expected}"


def test_choice():
    options = ("full", "tied", "diag", "spherical")
    assert Section({"covariance_type": "diag"}, "cluster_gmm").choice("covariance_type", options) == "diag"
    with pytest.raises(PipelineError) as info:
        Section({"covariance_type": "weird"}, "cluster_gmm").choice("covariance_type", options)
    message = str(info.value)
    assert "cluster_gmm.covariance_type" in message
    for option in options:
        assert repr(option) in message
    assert message.endswith("got 'weird'")


def test_boolean_and_text():
    assert section(b=False).boolean("b") is False
    with pytest.raises(PipelineError, match="true or false, got 1"):
        section(b=1).boolean("b")
    assert section(t="euclidean").text("t") == "euclidean"
    assert section(t=None).text("t", optional=True) is None
    for bad in ("", None, 3):
        with pytest.raises(PipelineError, match=r"sec\.t must be a non-empty string"):
            section(t=bad).text("t")


def test_integers():
    assert section(units=[500, 500, 2000]).integers("units") == [500, 500, 2000]
    assert section(units=[0, 1]).integers("units", minimum=0) == [0, 1]
    for bad in ([], [0], [1, True], [1, 2.0], 5, "1,2", None):
        with pytest.raises(PipelineError) as info:
            section(units=bad).integers("units")
        assert "sec.units must be a non-empty list of integers >= 1" in str(info.value)

    assert section(size=[28, 28]).integers("size", minimum=2, length=2, optional=True) == [28, 28]
    assert section(size=None).integers("size", minimum=2, length=2, optional=True) is None
    for bad in ([28], [28, 28, 3], [1, 28], None):
        with pytest.raises(PipelineError) as info:
            section(size=bad).integers("size", minimum=2, length=2, optional=bad is not None)
        assert str(info.value).startswith("params.yaml: sec.size must be a list of 2 integers >= 2")


def test_names():
    assert section(n=["cat", "dog"]).names("n") == ["cat", "dog"]
    assert section(n=None).names("n", optional=True) is None
    for bad in ([], ["cat", "cat"], ["cat", ""], ["cat", 3], "cat", None):
        with pytest.raises(PipelineError) as info:
            section(n=bad).names("n")
        assert str(info.value) == (f"params.yaml: sec.n must be a non-empty list of distinct non-empty "
                                   f"strings, got {bad!r}")


def test_texts():
    assert section(t={"a.gz": "0f"}).texts("t") == {"a.gz": "0f"}
    assert section(t={}).texts("t") == {} and section(t=None).texts("t") == {}
    for bad in ({"a.gz": ""}, {"a.gz": 3}, ["a.gz"], "a.gz"):
        with pytest.raises(PipelineError) as info:
            section(t=bad).texts("t")
        assert str(info.value) == f"params.yaml: sec.t must be a mapping of names to non-empty strings, got {bad!r}"


def test_url():
    schemes = ("http", "https")
    assert section(u="https://example.org/data").url("u", schemes) == "https://example.org/data"
    assert section(u=None).url("u", schemes, optional=True) is None
    for bad in ("example.org/data", "ftp://example.org", "http://[::1", "", 3, None):
        with pytest.raises(PipelineError) as info:
            section(u=bad).url("u", schemes)
        assert str(info.value) == f"params.yaml: sec.u must be a URL starting http:// or https://, got {bad!r}"


# --- unknown keys and sections -------------------------------------------------------------

def test_unread_key_is_named_with_the_closest_read_one():
    with pytest.raises(PipelineError) as info:
        with Section(dict(GMM, covarience_type="full"), "cluster_gmm") as p:
            GmmConfig.from_params(p)
    assert str(info.value) == ("params.yaml: unknown key 'cluster_gmm.covarience_type'; "
                               "did you mean 'covariance_type'?")


def test_unread_key_without_a_close_one_lists_the_known_keys():
    with pytest.raises(PipelineError) as info:
        with section(a=1, b=2, zzz=3) as p:
            p.integer("a"), p.integer("b")
    assert str(info.value) == "params.yaml: unknown key 'sec.zzz'; known: a, b"


def test_unread_key_in_a_nested_section():
    with pytest.raises(PipelineError, match=r"unknown key 'encode\.umap\.n_neigbors'; did you mean 'n_neighbors'"):
        with Section({"umap": dict(UMAP, n_neigbors=5)}, "encode") as p:
            UmapConfig.from_params(p.section("umap"))


def test_every_key_read_passes_and_errors_inside_take_precedence():
    with section(a=1) as p:
        assert p.integer("a") == 1
    with pytest.raises(PipelineError, match="missing key 'sec.b'"):
        with section(a=1) as p:
            p.integer("b")


def test_missing_key_points_at_a_likely_misspelling():
    with pytest.raises(PipelineError) as info:
        GmmConfig.from_params(Section({k: v for k, v in GMM.items() if k != "covariance_type"}
                                      | {"covarience_type": "full"}, "cluster_gmm"))
    assert str(info.value) == ("params.yaml: missing key 'cluster_gmm.covariance_type'; "
                               "is 'covarience_type' a misspelling?")


def test_declared_sections_are_the_stages_params():
    assert declared_sections(PROJECT_PIPELINE) == {
        "fetch", "preprocess", "clusters", "baseline_kmeans", "train_autoencoder", "encode", "cluster_kmeans",
        "cluster_gmm", "typicality", "choose_k", "evaluate", "report", "explore"}


def test_unknown_section_is_named_with_the_closest_declared_one(tmp_path):
    (tmp_path / "dvc.yaml").write_text(PROJECT_PIPELINE.read_text())
    path = tmp_path / "params.yaml"
    path.write_text(PROJECT_PARAMS.read_text() + "clster_gmm:\n  n_init: 3\n")
    with pytest.raises(PipelineError) as info:
        Section.load("fetch", path)
    assert str(info.value) == (f"{path}: unknown section 'clster_gmm', read by no stage of "
                               f"{tmp_path / 'dvc.yaml'}; did you mean 'cluster_gmm'?")
    path.write_text(PROJECT_PARAMS.read_text())
    assert Section.load("fetch", path).name == "fetch"


def test_encode_without_manifold_accepts_its_unread_umap_section():
    with Section({"batch_size": 8, "manifold": "none", "umap": {"n_neigbors": "?"}}, "encode") as p:
        assert EncodeConfig.from_params(p).umap is None


SOURCE = {"kind": "folder", "path": "pictures", "name": None, "channels": None, "image_size": None,
          "class_names": None, "skip_unreadable": False,
          "idx": {"train_images": "a", "train_labels": None, "test_images": None, "test_labels": None,
                  "sha256": {"a": "0f"}}}


def test_source_config_reads_the_idx_files_only_for_idx():
    with Section(SOURCE, "fetch.source") as values:
        assert SourceConfig.from_source_section(values) == SourceConfig("folder", "pictures", None, None, None, None,
                                                                        False)
    with Section({**SOURCE, "kind": "idx"}, "fetch.source") as values:
        assert SourceConfig.from_source_section(values).idx == IdxFiles("a", None, None, None, {"a": "0f"})
    with pytest.raises(PipelineError) as info:
        SourceConfig.from_source_section(Section({**SOURCE, "channels": 2}, "fetch.source"))
    assert str(info.value) == "params.yaml: fetch.source.channels must be one of 1, 3, got 2"


# --- files ---------------------------------------------------------------------------------

def test_section_load(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("first:\n  a: 1\nsecond:\n  b: [1, 2]\n")
    second = Section.load("second", path)
    assert second.name == "second"
    assert second.file == str(path)
    assert second.integers("b") == [1, 2]
    with pytest.raises(PipelineError) as info:
        second.integer("a")
    assert str(info.value) == f"{path}: missing key 'second.a'"


def test_section_load_missing_section(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("first:\n  a: 1\n")
    with pytest.raises(PipelineError) as info:
        Section.load("cluster_gmm", path)
    assert str(info.value) == f"{path}: missing key 'cluster_gmm'"


def test_invalid_yaml_is_one_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("first:\n  a: [1, 2\nsecond: 3\n")
    with pytest.raises(PipelineError) as info:
        Section.load("first", path)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid YAML")
    assert "\n" not in message


def test_params_file_missing_or_not_a_mapping(tmp_path):
    with pytest.raises(PipelineError, match="cannot read the params file"):
        load_params(tmp_path / "absent.yaml")
    path = tmp_path / "params.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(PipelineError, match="expected a mapping"):
        load_params(path)


# --- config dataclasses --------------------------------------------------------------------

# The number of clusters the K-Means and mixture configs are given (read from the clusters
# section of params.yaml by the stages).
CLUSTERS = {KMeansConfig: {"n_clusters": 10}, GmmConfig: {"n_clusters": 5}}

KMEANS = {"n_init": 3, "max_iter": 200, "tol": 1.0e-4, "seed": 7}
GMM = {"covariance_type": "diag", "n_init": 2, "max_iter": 100, "tol": 1e-3,
       "reg_covar": 1e-6, "init_params": "k-means++", "seed": 1, "cluster_sizes": "equal",
       "size_tol": 1e-3, "size_max_iter": 50, "start": "both", "standardize": True}
AUTOENCODER = {"architecture": "conv", "latent_dim": None, "dense_units": [64, 32],
               "conv_filters": [32, 64, 128], "epochs": 3, "batch_size": 128,
               "learning_rate": 0.001, "early_stopping_patience": 2, "seed": 4,
               "input_noise": 0.25, "learning_rate_schedule": "cosine", "threads": None,
               "min_steps": 100}
PREPROCESS = {"val_fraction": 0.25, "test_fraction": 0.1, "seed": 2, "max_train_images": None,
              "max_test_images": 30}
FETCH = {"source_dir": None, "debian_dir": "/usr/share/datasets/fashion-mnist",
         "base_url": "https://example.org/fashion", "timeout_seconds": 5}
UMAP = {"n_components": 2, "n_neighbors": 15, "min_dist": 0.1, "metric": "manhattan",
        "n_epochs": None, "seed": 3}


def test_kmeans_config():
    config = KMeansConfig.from_params(Section(KMEANS, "baseline_kmeans"), n_clusters=10)
    assert config == KMeansConfig(n_clusters=10, n_init=3, max_iter=200, tol=1e-4, seed=7)
    sized = KMeansConfig.from_params(
        Section(dict(KMEANS, cluster_sizes="equal", size_tol=1e-3, size_max_iter=50,
                     standardize=True), "cluster_kmeans"),
        sizes=True, n_clusters=10)
    assert sized == KMeansConfig(n_clusters=10, n_init=3, max_iter=200, tol=1e-4, seed=7,
                                 cluster_sizes="equal", size_tol=1e-3, size_max_iter=50,
                                 standardize=True)


def test_only_the_features_kmeans_has_cluster_sizes():
    with pytest.raises(PipelineError) as info:
        with Section(dict(KMEANS, cluster_sizes="equal", size_tol=1e-3), "baseline_kmeans") as p:
            KMeansConfig.from_params(p, n_clusters=10)
    assert "unknown key 'baseline_kmeans.cluster_sizes'" in str(info.value)
    with pytest.raises(PipelineError) as info:
        KMeansConfig.from_params(Section(dict(KMEANS, cluster_sizes="equalish", size_tol=1e-3,
                                              size_max_iter=50, standardize=True), "cluster_kmeans"),
                                 sizes=True, n_clusters=10)
    assert "cluster_kmeans.cluster_sizes must be one of" in str(info.value)


def test_gmm_config():
    config = GmmConfig.from_params(Section(GMM, "cluster_gmm"), n_clusters=5)
    assert config == GmmConfig(n_components=5, covariance_type="diag", n_init=2, max_iter=100,
                               tol=1e-3, reg_covar=1e-6, init_params="k-means++", seed=1,
                               cluster_sizes="equal", size_tol=1e-3, size_max_iter=50, start="both",
                               standardize=True)


def test_autoencoder_and_training_config():
    p = Section(AUTOENCODER, "train_autoencoder")
    assert AutoencoderConfig.from_params(p) == AutoencoderConfig(
        architecture="conv", latent_dim=None, dense_units=[64, 32], conv_filters=[32, 64, 128],
        input_noise=0.25)
    assert TrainingConfig.from_params(p) == TrainingConfig(
        epochs=3, batch_size=128, learning_rate=0.001, early_stopping_patience=2, seed=4,
        learning_rate_schedule="cosine", threads=None, min_steps=100)


def test_the_three_methods_share_clusters_n_clusters(tmp_path):
    """One setting: the K-Means and mixture configs read it from the clusters section of
    their section's file, and none of their sections has a count of its own any more."""
    params = load_params(PROJECT_PARAMS)
    assert "n_clusters" not in params["baseline_kmeans"] and "n_clusters" not in params["cluster_kmeans"]
    assert "n_components" not in params["cluster_gmm"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump({**params, "clusters": {"n_clusters": 4}}))
    assert KMeansConfig.from_params(Section.load("baseline_kmeans", path)).n_clusters == 4
    assert KMeansConfig.from_params(Section.load("cluster_kmeans", path), sizes=True).n_clusters == 4
    assert GmmConfig.from_params(Section.load("cluster_gmm", path)).n_components == 4
    path.write_text(yaml.safe_dump({**params, "clusters": {"n_clusters": 0}}))
    with pytest.raises(PipelineError, match=r"clusters\.n_clusters must be an integer >= 1, got 0$"):
        GmmConfig.from_params(Section.load("cluster_gmm", path))


def test_umap_config():
    assert UmapConfig.from_params(Section(UMAP, "encode.umap")) == UmapConfig(
        n_components=2, n_neighbors=15, min_dist=0.1, metric="manhattan", n_epochs=None, seed=3)


def test_preprocess_and_fetch_config():
    assert PreprocessConfig.from_params(Section(PREPROCESS, "preprocess")) == PreprocessConfig(
        val_fraction=0.25, test_fraction=0.1, seed=2, max_train_images=None, max_test_images=30)
    assert FetchConfig.from_params(Section({**FETCH, "source_dir": "/data"}, "fetch")) == FetchConfig(
        source_dirs=("/data", "/usr/share/datasets/fashion-mnist"),
        base_url="https://example.org/fashion", timeout=5.0)
    assert FetchConfig.from_params(Section({**FETCH, "base_url": None}, "fetch")).base_url is None


@pytest.mark.parametrize("manifold, umap", [("umap", UmapConfig(2, 15, 0.1, "manhattan", None, 3)),
                                            ("none", None)])
def test_encode_config(manifold, umap):
    values = {"batch_size": 64, "manifold": manifold, "umap": UMAP}
    assert EncodeConfig.from_params(Section(values, "encode")) == EncodeConfig(64, umap)
    # Without UMAP its section is not read: a bad metric there does no harm.
    if umap is None:
        bad_umap = {**values, "umap": {**UMAP, "metric": "euclidian"}}
        assert EncodeConfig.from_params(Section(bad_umap, "encode")).umap is None


@pytest.mark.parametrize(
    "config_class, section_name, values, bad_key, bad_value",
    [
        (ClustersConfig, "clusters", {"n_clusters": 10}, "n_clusters", -3),
        (ClustersConfig, "clusters", {"n_clusters": 10}, "n_clusters", "ten"),
        (KMeansConfig, "cluster_kmeans", KMEANS, "tol", -1.0),
        (GmmConfig, "cluster_gmm", GMM, "covariance_type", "weird"),
        (GmmConfig, "cluster_gmm", GMM, "init_params", "kmeans++"),
        (GmmConfig, "cluster_gmm", GMM, "cluster_sizes", "balanced"),
        (GmmConfig, "cluster_gmm", GMM, "size_tol", 0),
        (GmmConfig, "cluster_gmm", GMM, "size_max_iter", 0),
        (GmmConfig, "cluster_gmm", GMM, "reg_covar", -1e-3),
        (GmmConfig, "cluster_gmm", GMM, "start", "kmeans"),
        (TrainingConfig, "train_autoencoder", AUTOENCODER, "threads", 0),
        (AutoencoderConfig, "train_autoencoder", AUTOENCODER, "architecture", "rnn"),
        (AutoencoderConfig, "train_autoencoder", AUTOENCODER, "dense_units", [64, 0]),
        (TrainingConfig, "train_autoencoder", AUTOENCODER, "learning_rate", 0),
        (TrainingConfig, "train_autoencoder", AUTOENCODER, "min_steps", -1),
        (TrainingConfig, "train_autoencoder", AUTOENCODER, "early_stopping_patience", 0),
        (TrainingConfig, "train_autoencoder", AUTOENCODER, "learning_rate_schedule", "linear"),
        (UmapConfig, "encode.umap", UMAP, "n_neighbors", 1),
        (UmapConfig, "encode.umap", UMAP, "metric", ""),
        (UmapConfig, "encode.umap", UMAP, "metric", "euclidian"),
        (PreprocessConfig, "preprocess", PREPROCESS, "max_train_images", 19),
        (FetchConfig, "fetch", FETCH, "base_url", "fashion-mnist.example.org"),
        (FetchConfig, "fetch", FETCH, "timeout_seconds", 0),
        (EncodeConfig, "encode", {"batch_size": 8, "manifold": "umap", "umap": UMAP}, "manifold", "tsne"),
    ],
)
def test_config_rejects_bad_value(config_class, section_name, values, bad_key, bad_value):
    with pytest.raises(PipelineError) as info:
        config_class.from_params(Section({**values, bad_key: bad_value}, section_name),
                                 **CLUSTERS.get(config_class, {}))
    message = str(info.value)
    assert f"{section_name}.{bad_key} must be" in message
    assert message.endswith(f"got {bad_value!r}")


@pytest.mark.parametrize(
    "config_class, values, section_name, key",
    [(KMeansConfig, KMEANS, "cluster_kmeans", "seed"),
     (GmmConfig, GMM, "cluster_gmm", "reg_covar"),
     (AutoencoderConfig, AUTOENCODER, "train_autoencoder", "conv_filters"),
     (TrainingConfig, AUTOENCODER, "train_autoencoder", "epochs"),
     (UmapConfig, UMAP, "encode.umap", "n_epochs"),
     (PreprocessConfig, PREPROCESS, "preprocess", "max_test_images"),
     (FetchConfig, FETCH, "fetch", "debian_dir")],
)
def test_config_names_missing_key(config_class, values, section_name, key):
    incomplete = {k: v for k, v in values.items() if k != key}
    with pytest.raises(PipelineError) as info:
        config_class.from_params(Section(incomplete, section_name), **CLUSTERS.get(config_class, {}))
    assert str(info.value) == f"params.yaml: missing key '{section_name}.{key}'"


# --- the project's own params.yaml (read-only) ---------------------------------------------

def test_project_params_all_parse():
    """The stage scripts read their params through these configs: the committed file passes."""
    path = PROJECT_PARAMS
    KMeansConfig.from_params(Section.load("baseline_kmeans", path))
    KMeansConfig.from_params(Section.load("cluster_kmeans", path), sizes=True)
    GmmConfig.from_params(Section.load("cluster_gmm", path))
    train = Section.load("train_autoencoder", path)
    architecture = AutoencoderConfig.from_params(train)
    TrainingConfig.from_params(train)
    ViewsConfig.from_params(train.section("views"))
    ClusteringLayerConfig.from_params(train.section("clustering"))
    assert architecture.architecture != "dense" or architecture.latent_dim is not None
    fetch = Section.load("fetch", path)
    FetchConfig.from_params(fetch)
    assert SourceConfig.from_source_section(fetch.section("source")).kind == "fashion-mnist"
    PreprocessConfig.from_params(Section.load("preprocess", path))
    EncodeConfig.from_params(Section.load("encode", path))


def test_project_params_have_ten_clusters():
    path = PROJECT_PARAMS
    assert read_n_clusters(path) == 10
    assert KMeansConfig.from_params(Section.load("baseline_kmeans", path)).n_clusters == 10
    assert KMeansConfig.from_params(Section.load("cluster_kmeans", path), sizes=True).n_clusters == 10
    assert GmmConfig.from_params(Section.load("cluster_gmm", path)).n_components == 10
