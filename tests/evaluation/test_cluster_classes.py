"""Clusters named by classes, or by number without labels; confusion matrices: DVC's CSV rows and the PNG heatmap."""

import time

import numpy as np

from fashion_clustering.data.idx import CLASS_NAMES
from fashion_clustering.evaluation.cluster_classes import (
    UNMATCHED, cluster_class_names, cluster_title, confusion_counts, confusion_csv, unnamed_clusters, write_confusion_png,
)

Y_TRUE = np.repeat(np.arange(10), 3).astype(np.uint8)       # 30 rows, 3 per class
PERMUTATION = np.array([4, 2, 9, 0, 1, 3, 8, 5, 7, 6])
Y_PERMUTED = PERMUTATION[Y_TRUE].astype(np.int32)


def test_confusion_csv_of_a_permutation():
    text = confusion_csv(Y_TRUE, Y_PERMUTED, CLASS_NAMES)
    lines = text.splitlines()
    assert text.endswith("\n")
    assert lines[0] == "actual,predicted"
    assert len(lines) == 1 + len(Y_TRUE)
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(row) == 2 for row in rows)
    assert [actual for actual, _ in rows] == [CLASS_NAMES[i] for i in Y_TRUE]
    assert all(actual == predicted for actual, predicted in rows)
    assert lines[1] == "T-shirt/top,T-shirt/top" and lines[-1] == "Ankle boot,Ankle boot"


def test_confusion_csv_names_matched_class_and_unmatched_clusters():
    y_true = np.array([0, 0, 1, 1, 1])
    y_pred = np.array([5, 5, 2, 2, 3])  # cluster 3 gets no class: 3 clusters, 2 classes
    lines = confusion_csv(y_true, y_pred, CLASS_NAMES).splitlines()[1:]
    assert lines == [
        "T-shirt/top,T-shirt/top", "T-shirt/top,T-shirt/top",
        "Trouser,Trouser", "Trouser,Trouser", f"Trouser,{UNMATCHED}",
    ]


def test_confusion_counts_of_a_permutation_is_diagonal():
    table = confusion_counts(Y_TRUE, Y_PERMUTED, len(CLASS_NAMES))
    assert table.shape == (10, 10)
    assert table.sum() == len(Y_TRUE)
    np.testing.assert_array_equal(table, np.diag(np.full(10, 3)))


def test_confusion_counts_rows_are_classes():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    y_pred = np.array([7, 7, 8, 8, 8, 7])  # cluster 7 -> class 0, cluster 8 -> class 1
    table = confusion_counts(y_true, y_pred, len(CLASS_NAMES))
    assert table.sum() == len(y_true)
    expected = np.zeros((10, 10), dtype=np.int64)
    expected[0, 0], expected[0, 1], expected[1, 1], expected[2, 0] = 2, 1, 2, 1
    np.testing.assert_array_equal(table, expected)


def test_confusion_counts_leave_out_unmatched_clusters():
    y_true = np.array([0, 0, 1, 1, 1])
    y_pred = np.array([5, 5, 2, 2, 3])
    assert confusion_counts(y_true, y_pred, len(CLASS_NAMES)).sum() == 4


def test_confusion_png_is_a_byte_stable_png(tmp_path):
    rng = np.random.default_rng(0)
    y_pred = np.where(rng.random(len(Y_TRUE)) < 0.8, Y_PERMUTED, rng.integers(0, 10, len(Y_TRUE)))
    first, second = tmp_path / "a.png", tmp_path / "plots" / "b.png"
    write_confusion_png(first, Y_TRUE, y_pred, title="K-Means (test split)",
                        class_names=CLASS_NAMES)
    time.sleep(1.1)
    write_confusion_png(second, Y_TRUE, y_pred, title="K-Means (test split)",
                        class_names=CLASS_NAMES)
    data = first.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
    assert data == second.read_bytes()
    assert b"matplotlib" not in data.lower()  # no version stamp in the metadata
    write_confusion_png(second, Y_TRUE, Y_PERMUTED, title="K-Means (test split)",
                        class_names=CLASS_NAMES)
    assert second.read_bytes() != data
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.png", "b.png", "plots"]


def test_cluster_class_names_of_every_cluster():
    y_true = np.array([0, 0, 1, 1, 1])
    y_pred = np.array([5, 5, 2, 2, 3])
    assert cluster_class_names(y_true, y_pred, CLASS_NAMES) == {"2": "Trouser", "3": UNMATCHED, "5": "T-shirt/top"}
    assert cluster_class_names(Y_TRUE, Y_PERMUTED, CLASS_NAMES) == {str(PERMUTATION[c]): CLASS_NAMES[c] for c in range(10)}


def test_clusters_without_labels_have_no_class_and_are_named_by_number():
    names = unnamed_clusters(np.array([3, 0, 3, 1]))
    assert names == {"0": None, "1": None, "3": None}
    assert cluster_title(names, 3) == "cluster 3"
    assert cluster_title({"2": "Trouser"}, 2) == "Trouser" and cluster_title({}, 5) == UNMATCHED


def test_other_class_names_name_the_rows_and_the_heatmap(tmp_path):
    names = [str(d) for d in range(3)]
    y_true, y_pred = np.array([0, 1, 2, 2]), np.array([1, 2, 0, 0])
    assert confusion_csv(y_true, y_pred, names).splitlines()[1:] == ["0,0", "1,1", "2,2", "2,2"]
    assert confusion_counts(y_true, y_pred, len(names)).shape == (3, 3)
    write_confusion_png(tmp_path / "c.png", y_true, y_pred, title="three classes", class_names=names)
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
