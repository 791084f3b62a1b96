"""The docs pages' examples run as doctests; a page whose examples import torch is skipped
when PyTorch is not installed (it is an optional extra: pip install symdtd[torch])."""
import importlib.util

import pytest


def pytest_collection_modifyitems(config, items):
    if importlib.util.find_spec("torch") is not None:
        return
    skip = pytest.mark.skip(reason="PyTorch not installed (pip install symdtd[torch])")
    for item in items:
        if item.path.suffix == ".md" and ">>> import torch" in item.path.read_text(encoding="utf-8"):
            item.add_marker(skip)
