"""Saved PyTorch models in: a ``torch.save`` of a whole module, or a TorchScript file.

:func:`load_torch_model` returns an ordinary ``torch.nn.Module`` in eval mode,
ready for :func:`~symdtd.real.fx_import.layers_from_torch`:

* a file written by ``torch.save(model, path)`` is read with
  ``torch.load(path, weights_only=False)``. That runs the file's pickle code:
  **load only files you trust**. The model's class must be importable (a class
  defined in a script's ``__main__`` is not, unless it is defined again).
* a TorchScript file (``torch.jit.save`` of ``torch.jit.script(model)``) is
  read with ``torch.jit.load``. ``torch.fx`` cannot trace a ScriptModule, so a
  scripted ``nn.Sequential`` (nested ones too) of the layers in
  :data:`SCRIPT_LAYERS` is rebuilt as the same ``nn.Sequential`` of eager
  modules, each with the scripted module's settings and weights. Any other
  ScriptModule (a custom class, or a *traced* model, which keeps no layer
  settings such as stride and padding) is refused with a message saying to
  save the module with ``torch.save`` instead.

PyTorch is the optional extra ``pip install symdtd[torch]``.

Examples
--------
>>> SCRIPT_LAYERS[:3]
('Conv2d', 'Linear', 'ReLU')
"""
from __future__ import annotations

import inspect
import os
import zipfile
from pathlib import Path

__all__ = ["load_torch_model", "eager_from_script", "is_torchscript", "SCRIPT_LAYERS"]

#: the torch.nn layers a scripted Sequential may hold to be rebuilt
SCRIPT_LAYERS = ("Conv2d", "Linear", "ReLU", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten",
                 "BatchNorm1d", "BatchNorm2d", "Dropout", "Identity")

_SAVE_HINT = "save the module with torch.save(model, path) instead"


def _torch():
    try:
        import torch
    except ImportError:
        raise ValueError("explaining a saved torch model needs PyTorch: pip install symdtd[torch]") from None
    return torch


def is_torchscript(path: str | os.PathLike) -> bool:
    """Whether *path* is a TorchScript archive (a zip holding compiled ``code/``).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    bool
        False for a ``torch.save`` file, any other file, or no file.

    Examples
    --------
    >>> is_torchscript("no-such-file.pt")
    False
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name or name.endswith("constants.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def load_torch_model(path: str | os.PathLike) -> object:
    """Read a saved model as an eager ``torch.nn.Module`` in eval mode.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``torch.save`` of a whole module (read with ``weights_only=False``:
        trust the file), or a TorchScript file of a scripted Sequential.

    Returns
    -------
    torch.nn.Module
        The model, on the CPU, in eval mode.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        PyTorch missing; the file is not a saved torch object, holds no module
        (a ``state_dict``, say), needs a class that cannot be imported, or is a
        ScriptModule that cannot be rebuilt. The message names the file.

    Examples
    --------
    >>> load_torch_model("no-such-model.pt")
    Traceback (most recent call last):
    ...
    FileNotFoundError: model file 'no-such-model.pt' not found
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} not found")
    torch = _torch()
    where = f"model file {str(path)!r}"
    if is_torchscript(path):
        try:
            scripted = torch.jit.load(str(path), map_location="cpu")
        except Exception as err:   # noqa: BLE001 -- torch raises RuntimeError and friends
            raise ValueError(f"{where} looks like TorchScript but cannot be loaded: {_first_line(err)}") from None
        return eager_from_script(scripted, where).eval()
    try:
        model = torch.load(str(path), map_location="cpu", weights_only=False)
    except (AttributeError, ModuleNotFoundError) as err:
        raise ValueError(f"{where}: the model's class cannot be imported ({_first_line(err)}); define or "
                         "import it before loading, or save the model as TorchScript") from None
    except Exception as err:   # noqa: BLE001 -- pickle, zip and torch errors alike
        raise ValueError(f"{where} is not a model saved with torch.save: {_first_line(err)}") from None
    if isinstance(model, torch.jit.ScriptModule):
        return eager_from_script(model, where).eval()
    if not isinstance(model, torch.nn.Module):
        what = "a state_dict (weights only)" if isinstance(model, dict) else f"a {type(model).__name__}"
        raise ValueError(f"{where} holds {what}, not a torch.nn.Module; save the whole model with "
                         "torch.save(model, path)")
    return model.eval()


def _first_line(err):
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def eager_from_script(module: object, where: str = "the ScriptModule") -> object:
    """Rebuild a scripted ``nn.Sequential`` as eager modules with the same settings and weights.

    Parameters
    ----------
    module : torch.jit.ScriptModule
        A scripted Sequential (nesting allowed) of the layers in :data:`SCRIPT_LAYERS`.
    where : str
        What to call it in errors (the file).

    Returns
    -------
    torch.nn.Module
        An ``nn.Sequential`` that ``torch.fx`` can trace.

    Raises
    ------
    ValueError
        Another class, a layer outside :data:`SCRIPT_LAYERS`, or a traced
        module (its layers' settings are gone); the message names the layer.

    Examples
    --------
    >>> import torch                                          # doctest: +SKIP
    >>> scripted = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(2, 1)))  # doctest: +SKIP
    >>> eager_from_script(scripted)                           # doctest: +SKIP
    Sequential(
      (0): Linear(in_features=2, out_features=1, bias=True)
    )
    """
    torch = _torch()
    if getattr(module, "original_name", None) != "Sequential":
        raise ValueError(f"{where} is TorchScript of class {getattr(module, 'original_name', '?')}; torch.fx "
                         f"cannot trace a ScriptModule and only a scripted nn.Sequential is rebuilt: {_SAVE_HINT}")
    return _rebuild(torch, module, where, "")


def _rebuild(torch, module, where, path):
    name = module.original_name
    if name == "Sequential":
        from collections import OrderedDict

        return torch.nn.Sequential(OrderedDict(
            (child, _rebuild(torch, sub, where, f"{path}.{child}".lstrip("."))) for child, sub in
            module.named_children()))
    if name not in SCRIPT_LAYERS:
        raise ValueError(f"{where}: layer {path!r} is a scripted {name}; a TorchScript Sequential may hold "
                         f"{', '.join(SCRIPT_LAYERS)}. Otherwise {_SAVE_HINT}")
    cls = getattr(torch.nn, name)
    missing = [c for c in getattr(cls, "__constants__", ()) if not hasattr(module, c)]
    if missing:
        raise ValueError(f"{where}: layer {path!r} ({name}) keeps no {', '.join(missing)} (a traced model?); "
                         f"{_SAVE_HINT}, or use torch.jit.script")
    kwargs = {}
    for p in inspect.signature(cls).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype"):
            continue
        if p.name == "bias" and isinstance(p.default, bool):
            kwargs["bias"] = getattr(module, "bias", None) is not None
        elif hasattr(module, p.name):
            kwargs[p.name] = getattr(module, p.name)
    eager = cls(**kwargs)
    eager.load_state_dict(module.state_dict())
    return eager
