"""Get the four official Fashion-MNIST files from the first source that has them.

Sources are tried file by file, in order: a directory the user names, the directory of
Debian's ``dataset-fashion-mnist`` package, the official download location. A file may be
gzip-compressed or not; what is written is always the decompressed IDX file, checked
against the official SHA-256, so the output is byte-identical whichever source served it.
A source that lacks a file is skipped; a file that is present but corrupt or unreadable
is an error. A failed download (refused, timed out, not HTTP) means the source lacks the
file: the error names each source tried.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import PipelineError
from ..files import atomic_path
from ..params import Section

log = logging.getLogger(__name__)

# SHA-256 of the decompressed official files: the identity of the dataset, not a knob.
OFFICIAL_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

URL_SCHEMES = ("http", "https")

HOW_TO_GET = (
    "install Debian's package (apt-get install -y dataset-fashion-mnist) "
    "or set fetch.source_dir in params.yaml to a directory holding the four official files"
)


@dataclass(frozen=True)
class FetchConfig:
    """The fetch section: the directories tried in turn, then the download (``None``: never)."""

    source_dirs: tuple[str, ...]
    base_url: str | None
    timeout: float

    @classmethod
    def from_params(cls, section: Section) -> "FetchConfig":
        """The fetch section: the directories to try in order, then the download location."""
        source_dirs = tuple(d for d in (section.text("source_dir", optional=True), section.text("debian_dir")) if d)
        return cls(source_dirs, section.url("base_url", URL_SCHEMES, optional=True),
                   section.number("timeout_seconds", minimum=0, exclusive=True))


def gunzip(data: bytes, source: str) -> bytes:
    """Decompress gzip bytes, failing clearly on a truncated or corrupt archive."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise PipelineError(f"{source}: corrupt or truncated gzip file ({error})") from error


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``, as the official checksums are written."""
    return hashlib.sha256(data).hexdigest()


def verify_sha256(data: bytes, expected: str, origin: str) -> None:
    """Fail, naming ``origin``, unless ``data`` has the SHA-256 ``expected``."""
    if sha256(data) != expected.lower():
        raise PipelineError(f"{origin}: SHA-256 of the decompressed file is {sha256(data)}, expected {expected}")


def read_from_dir(directory: Path, name: str) -> tuple[bytes, str] | None:
    """The decompressed bytes of ``name.gz`` (or ``name``) in ``directory`` and the file
    read, or None.

    Whatever exists under either name must be readable: a directory in its place, or a file
    the user may not read, raises the ``OSError`` that names it.
    """
    compressed, plain = directory / f"{name}.gz", directory / name
    if compressed.exists():
        return gunzip(compressed.read_bytes(), str(compressed)), str(compressed)
    if plain.exists():
        return plain.read_bytes(), str(plain)
    return None


def download(url: str, timeout: float) -> bytes:
    """Download ``url``, logging progress every tenth of the file; a body shorter than its
    ``Content-Length`` raises ``http.client.IncompleteRead``."""
    log.info("downloading %s", url)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, received, next_report = [], 0, 0.1
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            received += len(chunk)
            if total and received / total >= next_report:
                log.info("  %3.0f%% of %.1f MB", 100 * received / total, total / 1e6)
                next_report += 0.1
    if received < total:  # the connection closed early; read() does not say so
        raise http.client.IncompleteRead(b"".join(chunks), total - received)
    return b"".join(chunks)


def why_download_failed(error: Exception) -> str:
    """The error's type and message on one line, with urllib's wrapper taken off."""
    if type(error) is urllib.error.URLError and isinstance(error.reason, Exception):
        error = error.reason
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def find_file(name: str, source_dirs: Sequence[str | Path], base_url: str | None,
              timeout: float) -> tuple[bytes, str]:
    """The decompressed bytes of the official file ``name`` from the first source that has
    it, and that source; none: an error that says what each source answered."""
    tried = []
    for directory in map(Path, source_dirs):
        read = read_from_dir(directory, name)
        if read is not None:
            return read
        tried.append(f"{directory} has no {name}[.gz]")
    if base_url is None:
        tried.append("no download location (fetch.base_url) set")
    else:
        try:
            url = f"{base_url.rstrip('/')}/{name}.gz"
            return gunzip(download(url, timeout), url), url
        # OSError covers urllib's URLError and timeouts; ValueError a malformed URL.
        except (OSError, ValueError, http.client.HTTPException) as error:
            tried.append(f"download from {base_url} failed ({why_download_failed(error)})")
    raise PipelineError(f"no source has {name}: {'; '.join(tried)}; {HOW_TO_GET}")


def fetch_dataset(
    out_dir: str | Path,
    source_dirs: Sequence[str | Path],
    base_url: str | None,
    timeout: float,
    expected_sha256: Mapping[str, str] = OFFICIAL_SHA256,
) -> dict[str, str]:
    """Write each verified, decompressed file to ``out_dir``; return where each came from.

    Nothing is written unless every file was found and verified.
    """
    found: dict[str, bytes] = {}
    origin: dict[str, str] = {}
    for name, digest in expected_sha256.items():
        found[name], origin[name] = find_file(name, source_dirs, base_url, timeout)
        verify_sha256(found[name], digest, origin[name])
        log.info("%s: verified SHA-256 of %s", name, origin[name])
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for name, data in found.items():
            (tmp / name).write_bytes(data)
    return origin
