"""Getting the four raw files from a directory (gz or plain) or a URL, verified by SHA-256."""

import functools
import http.server
import socket
import threading

import pytest

from fashion_clustering import fetch
from fashion_clustering.errors import PipelineError
from fashion_clustering.fetch import fetch_dataset

from helpers import RAW_NAMES, gzip_bytes, sha256_of, tiny_idx_bytes, tree_snapshot, write_files

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def raw():
    files = tiny_idx_bytes(n_train=20, n_test=10)
    assert set(files) == set(fetch.OFFICIAL_SHA256)
    return files


@pytest.fixture(scope="module")
def digests(raw):
    return sha256_of(raw)


@pytest.fixture(autouse=True)
def no_proxy_for_localhost(monkeypatch):
    """Keep any proxy configured in the environment away from the local test server."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def test_gz_source_gives_decompressed_files(tmp_path, raw, digests):
    source = write_files(tmp_path / "gz", raw, compressed=True)
    out = tmp_path / "out"
    origin = fetch_dataset(out, [source], None, TIMEOUT, expected_sha256=digests)
    assert origin == {name: str(source / f"{name}.gz") for name in RAW_NAMES}
    assert tree_snapshot(out) == raw


def test_plain_source_is_byte_identical_to_gz(tmp_path, raw, digests):
    gz_out, plain_out = tmp_path / "from-gz", tmp_path / "from-plain"
    fetch_dataset(gz_out, [write_files(tmp_path / "gz", raw, compressed=True)], None, TIMEOUT,
                  expected_sha256=digests)
    fetch_dataset(plain_out, [write_files(tmp_path / "plain", raw)], None, TIMEOUT,
                  expected_sha256=digests)
    assert tree_snapshot(plain_out) == tree_snapshot(gz_out) == raw


def test_missing_files_fall_through_to_next_source(tmp_path, raw, digests):
    first_names = RAW_NAMES[:2]
    first = write_files(tmp_path / "first", {n: raw[n] for n in first_names}, compressed=True)
    second = write_files(tmp_path / "second", raw)
    out = tmp_path / "out"
    origin = fetch_dataset(out, [tmp_path / "does-not-exist", first, second], None, TIMEOUT,
                           expected_sha256=digests)
    assert origin == {n: str(first / f"{n}.gz") if n in first_names else str(second / n)
                      for n in RAW_NAMES}
    assert tree_snapshot(out) == raw


def test_success_replaces_stale_out_dir(tmp_path, raw, digests):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale").write_text("left over from an old run")
    fetch_dataset(out, [write_files(tmp_path / "src", raw)], None, TIMEOUT, expected_sha256=digests)
    assert tree_snapshot(out) == raw


def corrupt_gz_variants():
    data = gzip_bytes(tiny_idx_bytes(n_train=20, n_test=10)[RAW_NAMES[0]])
    middle = len(data) // 2
    return {
        "truncated-half": data[:middle],
        "flipped-body": data[:12] + bytes(b ^ 0xFF for b in data[12:40]) + data[40:],
        "bad-crc": data[:-8] + bytes(b ^ 0xFF for b in data[-8:-4]) + data[-4:],
        "bad-header": b"\x1f\x8b\x63" + data[3:],
    }


@pytest.mark.parametrize("variant", sorted(corrupt_gz_variants()))
def test_corrupt_gzip_names_file_and_writes_nothing(tmp_path, raw, digests, variant):
    source = write_files(tmp_path / "src", raw, compressed=True)
    bad = source / f"{RAW_NAMES[0]}.gz"
    bad.write_bytes(corrupt_gz_variants()[variant])
    # A good plain copy elsewhere must not hide the corrupt file: present-but-corrupt is an error.
    fallback = write_files(tmp_path / "fallback", raw)
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as info:
        fetch_dataset(out, [source, fallback], None, TIMEOUT, expected_sha256=digests)
    message = str(info.value)
    assert str(bad) in message
    assert "gzip" in message
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_checksum_mismatch_names_file_and_leaves_out_dir_untouched(tmp_path, raw, digests):
    source = write_files(tmp_path / "src", raw)
    wrong_name = RAW_NAMES[2]
    altered = bytearray(raw[wrong_name])
    altered[-1] ^= 1
    (source / wrong_name).write_bytes(bytes(altered))

    fresh = tmp_path / "fresh-out"
    with pytest.raises(PipelineError) as info:
        fetch_dataset(fresh, [source], None, TIMEOUT, expected_sha256=digests)
    message = str(info.value)
    assert wrong_name in message and str(source) in message
    assert "SHA-256" in message
    assert digests[wrong_name] in message
    assert not fresh.exists()

    existing = tmp_path / "existing-out"
    existing.mkdir()
    (existing / "keep.txt").write_text("previous good output")
    before = tree_snapshot(existing)
    with pytest.raises(PipelineError, match="SHA-256"):
        fetch_dataset(existing, [source], None, TIMEOUT, expected_sha256=digests)
    assert tree_snapshot(existing) == before


def test_official_checksums_are_the_default(tmp_path, raw):
    """Tiny files are not Fashion-MNIST: without expected_sha256 they fail verification."""
    with pytest.raises(PipelineError, match="SHA-256") as info:
        fetch_dataset(tmp_path / "out", [write_files(tmp_path / "src", raw)], None, TIMEOUT)
    assert fetch.OFFICIAL_SHA256[RAW_NAMES[0]] in str(info.value)


def assert_how_to_get_hint(message):
    assert "apt-get install -y dataset-fashion-mnist" in message
    assert "fetch.source_dir" in message


def test_no_source_and_no_url(tmp_path, digests):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as info:
        fetch_dataset(out, [empty], None, TIMEOUT, expected_sha256=digests)
    message = str(info.value)
    assert RAW_NAMES[0] in message
    assert f"{empty} has no {RAW_NAMES[0]}" in message
    assert "fetch.base_url" in message
    assert_how_to_get_hint(message)
    assert not out.exists()


def closed_port() -> int:
    """A local TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_download_failure_is_one_line_with_hint(tmp_path, digests):
    base_url = f"http://127.0.0.1:{closed_port()}"
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as info:
        fetch_dataset(out, [], base_url, TIMEOUT, expected_sha256=digests)
    message = str(info.value)
    assert f"download from {base_url} failed" in message
    assert_how_to_get_hint(message)
    assert "\n" not in message
    assert not out.exists()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture
def http_dir(tmp_path):
    """``(directory, base_url)``: a local HTTP server serving ``directory``, stopped afterwards."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        assert not thread.is_alive()


def test_download_verifies_and_decompresses(tmp_path, raw, digests, http_dir):
    served, base_url = http_dir
    write_files(served, raw, compressed=True)
    out = tmp_path / "out"
    origin = fetch_dataset(out, [tmp_path / "no-such-dir"], base_url, TIMEOUT,
                           expected_sha256=digests)
    assert origin == {name: f"{base_url.rstrip('/')}/{name}.gz" for name in RAW_NAMES}
    assert tree_snapshot(out) == raw


def test_download_only_for_files_no_directory_has(tmp_path, raw, digests, http_dir):
    served, base_url = http_dir
    local_names = RAW_NAMES[1:]
    local = write_files(tmp_path / "local", {n: raw[n] for n in local_names})
    write_files(served, {RAW_NAMES[0]: raw[RAW_NAMES[0]]}, compressed=True)
    out = tmp_path / "out"
    origin = fetch_dataset(out, [local], base_url, TIMEOUT, expected_sha256=digests)
    assert origin == {RAW_NAMES[0]: f"{base_url.rstrip('/')}/{RAW_NAMES[0]}.gz",
                      **{n: str(local / n) for n in local_names}}
    assert tree_snapshot(out) == raw


def test_download_missing_on_server(tmp_path, digests, http_dir):
    _, base_url = http_dir
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as info:
        fetch_dataset(out, [], base_url, TIMEOUT, expected_sha256=digests)
    message = str(info.value)
    assert "404" in message
    assert_how_to_get_hint(message)
    assert "\n" not in message
    assert not out.exists()


def test_download_of_corrupt_gzip_names_url(tmp_path, raw, digests, http_dir):
    served, base_url = http_dir
    write_files(served, raw, compressed=True)
    good = (served / f"{RAW_NAMES[0]}.gz").read_bytes()
    (served / f"{RAW_NAMES[0]}.gz").write_bytes(good[: len(good) // 2])
    out = tmp_path / "out"
    with pytest.raises(PipelineError) as info:
        fetch_dataset(out, [], base_url, TIMEOUT, expected_sha256=digests)
    message = str(info.value)
    assert f"{base_url.rstrip('/')}/{RAW_NAMES[0]}.gz" in message
    assert "gzip" in message
    assert not out.exists()
