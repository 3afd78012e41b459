"""What every stage script shares: arguments, one-line errors, exit codes."""

import signal
import subprocess
import sys
import textwrap

import pytest

from fashion_clustering.errors import PipelineError
from fashion_clustering.files import write_json
from fashion_clustering.stage import run_stage

SCRIPT = textwrap.dedent(
    """
    import time
    from pathlib import Path

    from fashion_clustering.errors import PipelineError
    from fashion_clustering.stage import run_stage


    def main(in_file: str, out_file: str) -> None:
        if in_file == "bad":
            raise PipelineError(f"{in_file}: bad IDX magic number 0x01020304")
        if in_file == "crash":
            raise KeyError("not a pipeline error")
        if in_file == "slow":
            print("started", flush=True)
            time.sleep(60)
        if in_file == "unreadable":
            Path(out_file).read_bytes()
        if in_file == "nameless":
            raise TimeoutError("timed out")
        Path(out_file).write_text(in_file.upper())


    if __name__ == "__main__":
        run_stage(main)
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "demo_stage.py"
    path.write_text(SCRIPT)
    return path


def run(script, *args):
    return subprocess.run([sys.executable, str(script), *args], cwd=script.parent,
                          capture_output=True, text=True, timeout=60)


def test_success(script):
    result = run(script, "good", "out.txt")
    assert result.returncode == 0, result.stderr
    assert (script.parent / "out.txt").read_text() == "GOOD"
    assert result.stderr == ""


def test_pipeline_error_is_one_line_and_exit_1(script):
    result = run(script, "bad", "out.txt")
    assert result.returncode == 1
    assert result.stderr == "error: bad: bad IDX magic number 0x01020304\n"
    assert result.stdout == ""
    assert not (script.parent / "out.txt").exists()


@pytest.mark.parametrize("in_file, line", [
    ("unreadable", "error: absent.txt: No such file or directory"),
    ("nameless", "error: timed out"),
])
def test_os_error_is_one_line_and_exit_1(script, in_file, line):
    result = run(script, in_file, "absent.txt")
    assert result.returncode == 1
    assert result.stderr == line + "\n"
    assert result.stdout == ""


def test_other_exceptions_are_not_hidden(script):
    result = run(script, "crash", "out.txt")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "KeyError" in result.stderr


def test_ctrl_c_is_one_line_and_exit_130(script):
    # A suite started in the background (`make test &`) inherits SIGINT as ignored, and Python
    # then installs no handler for it: give the stage the default, as a terminal's Ctrl-C has.
    process = subprocess.Popen([sys.executable, str(script), "slow", "out.txt"], cwd=script.parent,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stdout.readline() == "started\n"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "interrupted\n"
    assert not (script.parent / "out.txt").exists()


@pytest.mark.parametrize("args", [(), ("only-one",), ("a", "b", "c")])
def test_wrong_argument_count(script, args):
    result = run(script, *args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"usage: {script} IN_FILE OUT_FILE"]


# The same in-process, with sys.argv patched.

def test_in_process_error(monkeypatch, capsys):
    def main(raw_dir):
        raise PipelineError(f"{raw_dir}: no labels")

    monkeypatch.setattr(sys, "argv", ["stages/preprocess.py", "data/raw"])
    with pytest.raises(SystemExit) as info:
        run_stage(main)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err == "error: data/raw: no labels\n"


def test_in_process_interrupt(monkeypatch, capsys):
    def main(prepared_dir):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "argv", ["stages/encode.py", "data/prepared"])
    with pytest.raises(SystemExit) as info:
        run_stage(main)
    assert info.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_in_process_usage(monkeypatch, capsys):
    def main(prepared_dir, model_file, log_dir):
        raise AssertionError("must not be called")

    monkeypatch.setattr(sys, "argv", ["stages/train_autoencoder.py", "data/prepared"])
    with pytest.raises(SystemExit) as info:
        run_stage(main)
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        "usage: stages/train_autoencoder.py PREPARED_DIR MODEL_FILE LOG_DIR\n")


def test_in_process_success_passes_arguments_in_order(monkeypatch):
    calls = []
    monkeypatch.setattr(sys, "argv", ["stage.py", "a", "b"])
    run_stage(lambda first, second: calls.append((first, second)))
    assert calls == [("a", "b")]


def test_in_process_error_after_an_output_was_written_leaves_it_as_it_was(monkeypatch, capsys, tmp_path):
    model, assignments = tmp_path / "model.json", tmp_path / "assignments.json"
    write_json(model, "previous model")

    def main(model_file, assignments_file):
        write_json(model_file, "new model")
        raise PipelineError(f"{assignments_file}: cannot be written")

    monkeypatch.setattr(sys, "argv", ["stage.py", str(model), str(assignments)])
    with pytest.raises(SystemExit) as info:
        run_stage(main)
    assert info.value.code == 1
    assert capsys.readouterr().err == f"error: {assignments}: cannot be written\n"
    assert model.read_text() == '"previous model"\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
