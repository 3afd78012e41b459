"""Getting the four raw files from a directory (gz or plain) or a URL, verified by SHA-256."""

import errno
import functools
import http.server
import os
import socket
import socketserver
import threading
from pathlib import Path

import pytest
import yaml

from fashion_clustering.data import fetch
from fashion_clustering.data.fetch import fetch_dataset
from fashion_clustering.errors import PipelineError

from helpers import RAW_NAMES, gzip_bytes, sha256_of, tiny_idx_bytes, tree_snapshot, write_files

# The committed params' fetch.source: Fashion-MNIST, from the keys beside it.
FASHION_MNIST_SOURCE = yaml.safe_load((Path(__file__).parents[2] / "params.yaml").read_text())["fetch"]["source"]

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


# --- the fetch stage's failure modes: one line, exit status 1, the previous data/raw kept ---

class RawTcpHandler(socketserver.BaseRequestHandler):
    """Reads the request, then sends the server's ``reply`` and hangs up; with no reply it
    says nothing and holds the connection until the server stops."""

    def handle(self):
        self.request.recv(65536)
        if self.server.reply is None:
            self.server.stopped.wait()
        else:
            self.request.sendall(self.server.reply)


@pytest.fixture
def tcp_server():
    """Start a local TCP server answering every connection with the given bytes; return its URL."""
    servers = []

    def start(reply):
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), RawTcpHandler)
        server.daemon_threads, server.reply, server.stopped = True, reply, threading.Event()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.stopped.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetch_stage(tmp_path, monkeypatch, run_script, raw, digests):
    """Run ``stages/fetch.py data/raw metrics/fetch.json`` in ``tmp_path`` with the given fetch params, where the
    tiny files are official and a previous ``data/raw`` exists; check that the stage leaves
    that untouched and return ``(exit status, stderr)``."""
    for name, digest in digests.items():
        monkeypatch.setitem(fetch.OFFICIAL_SHA256, name, digest)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    write_files(data / "raw", {RAW_NAMES[0]: b"from the previous run"})

    def run(source_dir=None, base_url=None, timeout=TIMEOUT):
        params = {"source_dir": source_dir and str(source_dir), "debian_dir": str(tmp_path / "no-debian"),
                  "base_url": base_url, "timeout_seconds": timeout, "source": FASHION_MNIST_SOURCE}
        (tmp_path / "params.yaml").write_text(yaml.safe_dump({"fetch": params}))
        before = tree_snapshot(data)
        result = run_script("stages/fetch.py", "data/raw", "data/fetch.json")
        assert tree_snapshot(data) == before  # hidden temporaries would show up here too
        return result

    return run


def one_error_line(stderr):
    assert len(stderr.splitlines()) == 1 and stderr.startswith("error: "), stderr
    return stderr.rstrip("\n")


def no_source_line(tried, tmp_path):
    return (f"error: no source has {RAW_NAMES[0]}: {tmp_path / 'no-debian'} has no {RAW_NAMES[0]}[.gz]; "
            f"{tried}; {fetch.HOW_TO_GET}")


def test_stage_without_the_data_says_how_to_get_it(fetch_stage, tmp_path):
    status, stderr = fetch_stage()
    assert status == 1
    assert one_error_line(stderr) == no_source_line("no download location (fetch.base_url) set", tmp_path)


def test_stage_base_url_without_scheme(fetch_stage):
    status, stderr = fetch_stage(base_url="fashion-mnist.example.org/data")
    assert status == 1
    assert one_error_line(stderr) == ("error: params.yaml: fetch.base_url must be a URL starting "
                                      "http:// or https:// or null, got 'fashion-mnist.example.org/data'")


@pytest.mark.parametrize("reply, timeout, why", [
    (b"SSH-2.0-OpenSSH_9.6\r\n", TIMEOUT, "BadStatusLine: SSH-2.0-OpenSSH_9.6"),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789", TIMEOUT,
     "IncompleteRead: IncompleteRead(10 bytes read, 990 more expected)"),
    (b"HTTP/1.0 200 OK\r\nContent-Length: nonsense\r\n\r\n0123456789", TIMEOUT,
     "ValueError: invalid literal for int() with base 10: 'nonsense'"),
    (None, 0.3, "TimeoutError: timed out"),
], ids=["not-http", "incomplete-read", "bad-header", "timeout"])
def test_stage_download_failures_name_the_source(fetch_stage, tcp_server, tmp_path, reply, timeout, why):
    base_url = tcp_server(reply)
    status, stderr = fetch_stage(base_url=base_url, timeout=timeout)
    assert status == 1
    assert one_error_line(stderr) == no_source_line(f"download from {base_url} failed ({why})", tmp_path)


def test_stage_malformed_url(fetch_stage, tmp_path):
    base_url = "http://127.0.0.1:no-port"
    status, stderr = fetch_stage(base_url=base_url)
    assert status == 1
    assert one_error_line(stderr) == no_source_line(
        f"download from {base_url} failed (InvalidURL: nonnumeric port: 'no-port')", tmp_path)


def test_stage_directory_in_place_of_a_source_file(fetch_stage, tmp_path, raw):
    source = write_files(tmp_path / "src", raw, compressed=True)
    bad = source / f"{RAW_NAMES[2]}.gz"
    bad.unlink()
    bad.mkdir()
    status, stderr = fetch_stage(source_dir=source)
    assert status == 1
    assert one_error_line(stderr) == f"error: {bad}: Is a directory"


def test_stage_unreadable_source_file(fetch_stage, tmp_path, raw, monkeypatch):
    source = write_files(tmp_path / "src", raw)
    bad = source / RAW_NAMES[1]
    bad.chmod(0)
    read_bytes = Path.read_bytes

    def read_bytes_as_a_user(path):  # root reads a mode-000 file; a user gets EACCES
        if path == bad:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes_as_a_user)
    status, stderr = fetch_stage(source_dir=source)
    assert status == 1
    assert one_error_line(stderr) == f"error: {bad}: Permission denied"


def test_stage_full_disk(fetch_stage, tmp_path, raw, monkeypatch):
    source = write_files(tmp_path / "src", raw)
    write_bytes, written = Path.write_bytes, []

    def write_bytes_until_full(path, data):
        if written:  # the second file does not fit: half of it is written, then ENOSPC
            write_bytes(path, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(path)
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes_until_full)
    status, stderr = fetch_stage(source_dir=source)
    assert status == 1
    assert one_error_line(stderr) == "error: data/raw: No space left on device"
    assert written  # the disk filled up while writing, not before


def test_stage_success_replaces_the_previous_output(tmp_path, monkeypatch, run_script, raw, digests):
    """The counterpart of the failures above: the same set-up with a good source succeeds."""
    for name, digest in digests.items():
        monkeypatch.setitem(fetch.OFFICIAL_SHA256, name, digest)
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "data" / "raw", {RAW_NAMES[0]: b"from the previous run"})
    source = write_files(tmp_path / "src", raw, compressed=True)
    params = {"source_dir": str(source), "debian_dir": "/nonexistent", "base_url": None, "timeout_seconds": 1,
              "source": FASHION_MNIST_SOURCE}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"fetch": params}))
    assert run_script("stages/fetch.py", "data/raw", "data/fetch.json") == (0, "")
    assert tree_snapshot(tmp_path / "data") == {**{f"raw/{name}": data for name, data in raw.items()},
                                                "fetch.json": b'{\n  "skipped": 0,\n  "skipped_files": []\n}\n'}
