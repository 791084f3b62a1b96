"""Examples that need an optional extra are skipped when it is not installed.

The doctests of these files run in CI, where ``make extras`` installs the
extras; without them (a plain ``pip install symdtd[test]``) they are skipped,
not failed.
"""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).parent
#: file (relative to the repository) -> the module its examples import
NEEDS = {"symdtd/real/dataset.py": "dask", "symdtd/real/dask_cluster.py": "dask",
         "docs/guide/select.md": "dask",
         "symdtd/real/architectures.py": "torch", "symdtd/real/torch_reference.py": "torch",
         "symdtd/real/random_weights.py": "torch", "symdtd/compiler/layer_torch.py": "torch"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        try:
            where = Path(item.path).resolve().relative_to(ROOT).as_posix()
        except ValueError:
            continue
        module = NEEDS.get(where)
        if module is None and item.path.suffix == ".md" \
                and ">>> import torch" in item.path.read_text(encoding="utf-8"):
            module = "torch"   # a docs page whose examples import torch
        if module and importlib.util.find_spec(module) is None:
            item.add_marker(pytest.mark.skip(reason=f"needs {module} (pip install 'symdtd[{module}]')"))
