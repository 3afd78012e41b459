"""Typed, validated access to ``params.yaml``: every knob of the pipeline lives there.

A missing key or a value of the wrong kind fails with one line naming the key, e.g.
``params.yaml: baseline_kmeans.n_clusters must be an integer >= 1, got -3``. So does a key
no stage reads, or a section no stage of ``dvc.yaml`` declares, with the closest known name:
a misspelt key would otherwise be ignored, and with it the user's intent.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import urllib.parse
from pathlib import Path
from typing import Any, Collection, Mapping, TypeVar

import yaml

from .errors import PipelineError

PARAMS_FILE = "params.yaml"
PIPELINE_FILE = "dvc.yaml"


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """Read the whole params file as a mapping."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise PipelineError(f"{path}: cannot read the params file ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise PipelineError(f"{path}: not valid YAML ({error})".replace("\n", " ")) from error
    if not isinstance(data, dict):
        raise PipelineError(f"{path}: expected a mapping of stage sections at the top level")
    return data


def declared_sections(pipeline: str | Path) -> set[str]:
    """The params sections that the stages of ``pipeline`` (a ``dvc.yaml``) declare, as
    ``section`` or ``section.key`` entries of ``params.yaml``."""
    stages = yaml.safe_load(Path(pipeline).read_text())["stages"]
    return {entry.split(".")[0] for stage in stages.values() for entry in stage.get("params", [])
            if isinstance(entry, str)}


def _closest(name: str, known: Collection[str]) -> str:
    """A hint for a misspelt name: the closest known one, or all of them."""
    match = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{match[0]}'?" if match else f"; known: {', '.join(sorted(known))}"


class Section:
    """One section of ``params.yaml`` (e.g. ``train_autoencoder``) with typed getters.

    Used as a context manager, it also rejects, on leaving, every key no getter asked for:
    the keys a stage knows are exactly the keys it reads.
    """

    def __init__(self, values: Any, name: str, file: str = PARAMS_FILE) -> None:
        self.name = name
        self.file = file
        if not isinstance(values, dict):
            self._fail("", "a mapping", values)
        self.values: dict[str, Any] = values
        self._read: set[str] = set()
        self._nested: list[Section] = []

    @classmethod
    def load(cls, name: str, path: str | Path = PARAMS_FILE) -> "Section":
        """The section ``name`` of the params file at ``path``.

        If a ``dvc.yaml`` lies beside the file, every section must be one its stages declare.
        """
        params = load_params(path)
        pipeline = Path(path).with_name(PIPELINE_FILE)
        if pipeline.is_file():
            known = declared_sections(pipeline)
            for section in params:
                if section not in known:
                    raise PipelineError(f"{path}: unknown section '{section}', read by no stage "
                                        f"of {pipeline}{_closest(section, known)}")
        if name not in params:
            raise PipelineError(f"{path}: missing key '{name}'")
        return cls(params[name], name, str(path))

    def __enter__(self) -> "Section":
        return self

    def __exit__(self, error_type: type | None, *_: object) -> None:
        if error_type is None:
            self.check_all_read()

    def check_all_read(self) -> None:
        """Fail on the first key of this section, or of a nested one, that nothing read."""
        for key in self.values:
            if key not in self._read:
                raise PipelineError(f"{self.file}: unknown key '{self._key(key)}'"
                                    f"{_closest(key, self._read)}")
        for nested in self._nested:
            nested.check_all_read()

    def _key(self, key: str) -> str:
        return f"{self.name}.{key}" if key else self.name

    def _fail(self, key: str, expected: str, value: Any) -> None:
        raise PipelineError(f"{self.file}: {self._key(key)} must be {expected}, got {value!r}")

    def _raw(self, key: str) -> Any:
        if key not in self.values:
            hint = difflib.get_close_matches(key, self.values.keys() - self._read, n=1)
            raise PipelineError(f"{self.file}: missing key '{self._key(key)}'"
                                + (f"; is '{hint[0]}' a misspelling?" if hint else ""))
        self._read.add(key)
        return self.values[key]

    def unused(self, key: str) -> None:
        """Accept ``key`` unread: it is known but not needed here (``encode.umap`` when the
        manifold is ``none``)."""
        self._read.add(key)

    def section(self, key: str) -> "Section":
        """A nested mapping, e.g. ``encode.umap``."""
        nested = Section(self._raw(key), self._key(key), self.file)
        self._nested.append(nested)
        return nested

    def value(self, key: str) -> Any:
        """A value as it is, for a rule kept elsewhere: an estimator's parameter, which its own
        rules check (``clustering.fit.check_params``), so that each parameter has one set."""
        return self._raw(key)

    def integer(self, key: str, minimum: int | None = None, optional: bool = False,
                options: Collection[int] | None = None) -> int | None:
        """An integer, at least ``minimum`` and one of ``options`` if given; ``None`` is
        accepted only if ``optional``."""
        value = self._raw(key)
        if value is None and optional:
            return None
        bound = "" if minimum is None else f" >= {minimum}"
        if isinstance(value, bool) or not isinstance(value, int) or (
            minimum is not None and value < minimum
        ):
            self._fail(key, f"an integer{bound}" + (" or null" if optional else ""), value)
        if options is not None and value not in options:
            self._fail(key, "one of " + ", ".join(map(str, options)), value)
        return value

    def number(
        self, key: str, minimum: float | None = None, maximum: float | None = None,
        exclusive: bool = False,
    ) -> float:
        """A finite float within ``[minimum, maximum]`` (open interval if ``exclusive``)."""
        value = self._raw(key)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if ok and minimum is not None:
            ok = value > minimum if exclusive else value >= minimum
        if ok and maximum is not None:
            ok = value < maximum if exclusive else value <= maximum
        if not ok:
            lo = "" if minimum is None else f"{'(' if exclusive else '['}{minimum}"
            hi = "" if maximum is None else f"{maximum}{')' if exclusive else ']'}"
            where = f" in {lo or '(-inf'}, {hi or 'inf)'}" if lo or hi else ""
            self._fail(key, f"a number{where}", value)
        return float(value)

    def choice(self, key: str, options: Collection[str]) -> str:
        """One of ``options``."""
        value = self._raw(key)
        if value not in options:
            self._fail(key, "one of " + ", ".join(repr(o) for o in sorted(options)), value)
        return value

    def boolean(self, key: str) -> bool:
        """``true`` or ``false``."""
        value = self._raw(key)
        if not isinstance(value, bool):
            self._fail(key, "true or false", value)
        return value

    def text(self, key: str, optional: bool = False) -> str | None:
        """A non-empty string; ``None`` is accepted only if ``optional``."""
        value = self._raw(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            self._fail(key, "a non-empty string" + (" or null" if optional else ""), value)
        return value

    def integers(self, key: str, minimum: int = 1, length: int | None = None,
                 optional: bool = False) -> list[int] | None:
        """A non-empty list of integers, each at least ``minimum``, of ``length`` if given;
        ``None`` is accepted only if ``optional``."""
        value = self._raw(key)
        if value is None and optional:
            return None
        if not isinstance(value, list) or not value or any(
            isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in value
        ) or (length is not None and len(value) != length):
            size = "a non-empty list of" if length is None else f"a list of {length}"
            self._fail(key, f"{size} integers >= {minimum}" + (" or null" if optional else ""), value)
        return list(value)

    def names(self, key: str, optional: bool = False) -> list[str] | None:
        """A non-empty list of distinct non-empty strings; ``None`` only if ``optional``."""
        value = self._raw(key)
        if value is None and optional:
            return None
        if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value) or any(
            not isinstance(v, str) or not v for v in value
        ):
            self._fail(key, "a non-empty list of distinct non-empty strings" + (" or null" if optional else ""),
                       value)
        return list(value)

    def texts(self, key: str) -> dict[str, str]:
        """A mapping of non-empty strings to non-empty strings (``{}`` or null: none)."""
        value = self._raw(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or any(
            not isinstance(k, str) or not k or not isinstance(v, str) or not v for k, v in value.items()
        ):
            self._fail(key, "a mapping of names to non-empty strings", value)
        return dict(value)

    def url(self, key: str, schemes: Collection[str], optional: bool = False) -> str | None:
        """A well-formed URL with one of ``schemes``; ``None`` is accepted only if ``optional``."""
        value = self._raw(key)
        if value is None and optional:
            return None
        try:
            ok = isinstance(value, str) and urllib.parse.urlsplit(value).scheme in schemes
        except ValueError:  # e.g. an unclosed IPv6 bracket
            ok = False
        if not ok:
            starts = " or ".join(f"{scheme}://" for scheme in sorted(schemes))
            self._fail(key, f"a URL starting {starts}" + (" or null" if optional else ""), value)
        return value


def setting(kind: str, default: Any = dataclasses.MISSING, **rules: Any) -> Any:
    """A field of a config dataclass that :class:`Settings` reads from params.yaml, by the
    :class:`Section` getter ``kind`` (``integer``, ``number``, ``choice``, ...) with
    ``rules`` (``minimum=1``, ``options=...``); ``default``: kept where a section does not
    read the field (see ``skip`` in :meth:`Settings.from_params`)."""
    return dataclasses.field(default=default, metadata={"setting": (kind, rules)})


SettingsT = TypeVar("SettingsT", bound="Settings")


class Settings:
    """A config dataclass whose :func:`setting` fields are read, and validated, from one
    section of params.yaml: each field is declared once, with its rule, and read by its name."""

    @classmethod
    def from_params(cls: type[SettingsT], section: Section, skip: Collection[str] = (),
                    given: Mapping[str, Any] | None = None) -> SettingsT:
        """The settings in ``section``, validated; fields in ``skip`` keep their defaults, those
        in ``given`` take its values (read elsewhere: another section's)."""
        values = dict(given or {})
        for field in dataclasses.fields(cls):
            if "setting" in field.metadata and field.name not in skip and field.name not in values:
                kind, rules = field.metadata["setting"]
                values[field.name] = getattr(section, kind)(field.name, **rules)
        return cls(**values)


# The one section, and key, of the number of clusters every method makes (and the centres of
# the autoencoder's optional clustering layer).
CLUSTERS_SECTION = "clusters"
N_CLUSTERS_KEY = f"{CLUSTERS_SECTION}.n_clusters"


@dataclasses.dataclass(frozen=True)
class ClustersConfig(Settings):
    """The clusters section: how many clusters each of the three methods makes."""

    n_clusters: int = setting("integer", minimum=1)


def read_n_clusters(path: str | Path) -> int:
    """``clusters.n_clusters`` of the params file at ``path``, validated."""
    with Section.load(CLUSTERS_SECTION, path) as section:
        return ClustersConfig.from_params(section).n_clusters
