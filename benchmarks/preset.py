"""Print a preset of benchmarks/presets.yaml as `dvc exp run` flags: `-S key=value ...`."""

import json
import sys
from pathlib import Path

import yaml

PRESETS = Path(__file__).with_name("presets.yaml")


def load_preset(name: str) -> dict[str, object]:
    presets = yaml.safe_load(PRESETS.read_text())
    if name not in presets:
        raise SystemExit(f"error: {PRESETS}: no preset {name!r}; have {', '.join(presets)}")
    return presets[name]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} PRESET")
    print(" ".join(f"-S {key}={json.dumps(value).replace(' ', '')}"
                   for key, value in load_preset(sys.argv[1]).items()))
