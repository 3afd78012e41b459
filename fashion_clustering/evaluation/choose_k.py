"""The K guide: how many clusters the features hold, without labels.

For every K of a range, a Gaussian mixture is fitted to a seeded sample of the training
features and its BIC (Bayesian information criterion: minus twice the log-likelihood, plus
the parameters times the log of the rows) is measured. The BIC falls steeply while another
component captures a real group, then flattens: the guide points to the smallest K after
which one more component lowers the BIC by less than ``tolerance`` of its whole fall over the
range. Chosen by measurement against the silhouette and the stability of the clusters between
two seeds (benchmarks/results/choose_k.md): on the handwritten digits the silhouette points
to 10 too, but on Fashion-MNIST's features it points to 3.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.mixture import GaussianMixture

from ..errors import PipelineError
from ..params import Section, Settings, setting
from ..representation.manifold import seeded_sample
from .figures import pyplot

log = logging.getLogger(__name__)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
CRITERION = "bic"


@dataclass(frozen=True)
class ChooseKConfig(Settings):
    """The settings in the choose_k section of params.yaml."""

    k_min: int = setting("integer", minimum=1)
    k_max: int = setting("integer", minimum=2)
    sample: int = setting("integer", minimum=2)          # training rows the mixtures are fitted on, at most
    tolerance: float = setting("number", minimum=0, maximum=1, exclusive=True)
    covariance_type: str = setting("choice", options=COVARIANCE_TYPES)
    reg_covar: float = setting("number", minimum=0)
    max_iter: int = setting("integer", minimum=1)
    seed: int = setting("integer", minimum=0)

    @classmethod
    def from_params(cls, section: Section, skip: tuple[str, ...] = ()) -> "ChooseKConfig":
        """The settings, with a range of at least two values of K."""
        config = super().from_params(section, skip)
        if config.k_max <= config.k_min:
            raise PipelineError(f"{section.file}: choose_k.k_max must be above choose_k.k_min "
                                f"({config.k_min}), got {config.k_max}")
        return config


def bic_curve(x: np.ndarray, ks: Sequence[int], config: ChooseKConfig) -> list[float]:
    """The BIC of a mixture of each K components fitted to the rows ``x`` (lower is better)."""
    values = []
    for k in ks:
        mixture = GaussianMixture(k, covariance_type=config.covariance_type, reg_covar=config.reg_covar,
                                  max_iter=config.max_iter, random_state=config.seed).fit(x)
        values.append(float(mixture.bic(x)))
        log.info("K = %d: BIC %.1f", k, values[-1])
    return values


def elbow(ks: Sequence[int], values: Sequence[float], tolerance: float) -> int:
    """The smallest K after which one more cluster lowers ``values`` by less than
    ``tolerance`` of their whole fall from the first K to the lowest; the first K if they
    never fall."""
    fall = values[0] - min(values)
    for k, value, following in zip(ks, values, values[1:]):
        if value - following < tolerance * fall:
            return k
    return ks[-1]


def choose_k(x: np.ndarray, config: ChooseKConfig) -> dict[str, Any]:
    """The guide's figures for the training features ``x``: what ``metrics/choose_k.json`` holds."""
    chosen_rows = seeded_sample(len(x), config.sample, config.seed)
    if config.k_max > len(chosen_rows):
        raise PipelineError(f"params.yaml: choose_k.k_max must be at most the {len(chosen_rows)} "
                            f"training rows it is measured on, got {config.k_max}")
    ks = list(range(config.k_min, config.k_max + 1))
    values = bic_curve(x[chosen_rows], ks, config)
    return {"criterion": CRITERION, "k": ks, "bic": values, "chosen_k": elbow(ks, values, config.tolerance),
            "tolerance": config.tolerance, "rows": len(chosen_rows)}


def k_guide_figure(guide: Mapping[str, Any], used_k: int | None = None):
    """The BIC against K, the K the guide points to marked, and ``used_k`` (the run's) if given."""
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(6, 3.8))
    ax.plot(guide["k"], guide["bic"], marker="o", markersize=3, label="BIC of a Gaussian mixture")
    ax.axvline(guide["chosen_k"], color="tab:red", linestyle="--", label=f"the guide's K = {guide['chosen_k']}")
    if used_k is not None:
        ax.axvline(used_k, color="tab:grey", linestyle=":", label=f"the run's K = {used_k}")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("K, the number of clusters")
    ax.set_ylabel("BIC (lower is better)")
    ax.set_title(f"K guide: the training features ({guide['rows']:,} rows)")
    ax.grid(alpha=0.3)
    ax.legend()
    figure.tight_layout()
    return figure
