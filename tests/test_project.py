"""Packaging: the CPU and GPU extras install the same TensorFlow, the one the lock pins."""

import re
import tomllib

from conftest import PROJECT_ROOT


def test_cpu_and_gpu_extras_pin_the_locked_tensorflow():
    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["cpu"] == [f"tensorflow-cpu=={version}" for version in re.findall(
        r"^tensorflow[-_]cpu==(\S+)$", (PROJECT_ROOT / "requirements.lock").read_text(), re.M)]
    assert extras["gpu"] == [extras["cpu"][0].replace("tensorflow-cpu", "tensorflow[and-cuda]")]
