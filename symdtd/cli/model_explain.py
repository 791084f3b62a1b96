"""``symdtd explain MODEL.pt --input IMAGE.png``: heatmaps of a saved PyTorch model on photographs.

``symdtd explain`` dispatches on its first argument: a network JSON file or a
built-in example name gives today's table (:mod:`symdtd.cli.commands`); a
saved torch model (:func:`is_model_file`: a ``.pt``/``.pth``/``.ts`` file or
any zip archive that is not JSON) comes here. The model is read by
:func:`~symdtd.real.torch_files.load_torch_model` (``torch.save`` of a whole
module, read with ``weights_only=False``, or a TorchScript Sequential),
imported at layer level by :func:`~symdtd.real.fx_import.layers_from_torch`
and explained by :func:`~symdtd.compiler.layer_pass.compile_layers` in
batches, with a progress bar. Each image is read, resized and centre-cropped
to the model's input size (:func:`~symdtd.real.photos.load_image`), scaled to
[0, 1] and, with ``--mean``/``--std``, normalised; the input domain is then
the normalised pixel box (:func:`~symdtd.real.photos.pixel_box`).

Examples
--------
>>> is_model_file("model.pt"), is_model_file("net.json"), is_model_file("xor")
(True, False, False)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from .options import argument_type, numbers, positive_int

__all__ = ["is_model_file", "add_model_options", "refuse_model_options", "run_model_explain", "heatmap_paths",
           "MODEL_SUFFIXES"]

#: file suffixes read as saved torch models (any other zip archive is too)
MODEL_SUFFIXES = (".pt", ".pth", ".ts", ".jit", ".torchscript")

_MODEL_ONLY = ("target", "size", "mean", "std", "batch_size", "backend", "save_relevance", "overlay",
               "maxpool")


def is_model_file(value: str | os.PathLike) -> bool:
    """Whether the network argument of ``symdtd explain`` is a saved torch model.

    Parameters
    ----------
    value : str or pathlib.Path
        The argument.

    Returns
    -------
    bool
        True for the suffixes in :data:`MODEL_SUFFIXES`, or an existing zip
        archive (``torch.save``'s format) that is not a ``.json`` file.
    """
    import zipfile

    path = Path(value)
    if path.suffix.lower() in MODEL_SUFFIXES:
        return True
    return path.suffix.lower() != ".json" and path.is_file() and zipfile.is_zipfile(path)


def add_model_options(parser) -> None:
    """Add the options of ``symdtd explain MODEL.pt`` to the explain parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The ``explain`` subparser.
    """
    group = parser.add_argument_group(
        "saved torch models (MODEL.pt: torch.save of a whole nn.Module, read with "
        "weights_only=False, which runs the file's code: use only files you trust; or a "
        "TorchScript file of a scripted nn.Sequential)")
    group.add_argument("--target", type=argument_type(_class_index), default=None, metavar="K",
                       help="class index to explain (default: each image's top class)")
    group.add_argument("--size", type=argument_type(_size), default=None, metavar="N or H,W",
                       help="resize and centre-crop the images to this size (default: inferred: "
                            "a model starting with Linear takes a square of in_features / channels "
                            "pixels, otherwise the first image's size)")
    group.add_argument("--mean", default=None, metavar="M or M1,M2,M3",
                       help="normalise the [0, 1] pixels per channel as (x - mean) / std; the "
                            "input box becomes [(0 - mean) / std, (1 - mean) / std]")
    group.add_argument("--std", default=None, metavar="S or S1,S2,S3", help="see --mean (default 1)")
    # defaults None: given with a network file they are refused; run_model_explain fills them in
    group.add_argument("--batch-size", type=argument_type(positive_int), default=None,
                       help="images per batch (default 16)")
    group.add_argument("--backend", choices=("numpy", "torch"), default=None,
                       help="what runs the convolutions (default numpy)")
    group.add_argument("--maxpool", choices=("winner", "proportional"), default=None,
                       help="how max-pooling redistributes (default winner: winner-take-all)")
    group.add_argument("--overlay", action="store_const", const=True, default=None,
                       help="lay the heatmap over the photo (in grey)")
    group.add_argument("--save-relevance", default=None, metavar="FILE.npy",
                       help="also save the relevance, shape (images, C, H, W), as a NumPy file")


def _class_index(text):
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected a class index (an integer ≥ 0), got {text!r}") from None
    if value < 0:
        raise ValueError(f"expected a class index (an integer ≥ 0), got {value}")
    return value


def _size(text):
    parts = text.split(",")
    if len(parts) not in (1, 2) or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"expected N or H,W (positive integers), got {text!r}")
    sizes = [int(p) for p in parts]
    return (sizes[0], sizes[-1])


def refuse_model_options(args) -> None:
    """Refuse the options of saved models when ``explain`` is given a network file.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``symdtd explain``.

    Raises
    ------
    ValueError
        Naming the first such option given.
    """
    given = [name for name in _MODEL_ONLY if getattr(args, name, None) is not None]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise ValueError(f"{flag} is for saved torch models (MODEL.pt); {args.network!r} is a network file")


def heatmap_paths(output: str | os.PathLike | None, n: int) -> list[Path]:
    """Where the heatmaps go: *output* (default ``heatmap.png``) for one image,
    ``<stem>-1.png``, ``<stem>-2.png``, … for several.

    Parameters
    ----------
    output : str or pathlib.Path or None
        The ``-o`` value.
    n : int
        The number of images.

    Returns
    -------
    list of pathlib.Path
        One path per image.

    Raises
    ------
    ValueError
        A suffix other than ``.png``.

    Examples
    --------
    >>> [str(p) for p in heatmap_paths(None, 1)], [p.name for p in heatmap_paths("out/h.png", 2)]
    (['heatmap.png'], ['h-1.png', 'h-2.png'])
    """
    path = Path(output or "heatmap.png")
    if path.suffix.lower() != ".png":
        raise ValueError(f"-o {str(path)!r}: heatmaps are written as .png")
    if n == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{k}{path.suffix}") for k in range(1, n + 1)]


def _geometry(model, size, first_image):
    """``(channels, (H, W))`` of the model's input, from its first weighted layer and *size*."""
    import torch

    from ..real.photos import load_image

    first = next((m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))), None)
    if isinstance(first, torch.nn.Conv2d):
        channels = first.in_channels
        if size is None:
            size = load_image(first_image).shape[1:]
        return channels, tuple(size)
    channels = load_image(first_image).shape[0]
    if size is None:
        if first is None:
            raise ValueError("the model has no Conv2d or Linear layer; pass --size")
        side = int(round((first.in_features / channels) ** 0.5))
        if channels * side * side != first.in_features:
            raise ValueError(f"cannot infer the input size of a model starting with Linear(in_features="
                             f"{first.in_features}) for {channels}-channel images; pass --size H,W")
        size = (side, side)
    return channels, tuple(size)


def run_model_explain(args) -> int:
    """Run ``symdtd explain MODEL.pt --input IMAGE …``: write one heatmap per image.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of ``symdtd explain``.

    Returns
    -------
    int
        0.

    Raises
    ------
    ValueError
        No images, an image or model that cannot be read, a channel count or
        size the model does not take, a target outside its classes.
    """
    from ..compiler.layer_pass import compile_layers
    from ..core.files import check_output
    from ..core.progress import chunks
    from ..real.photos import load_image, normalise, pixel_box
    from ..real.torch_files import load_torch_model
    from ..see.pictures import save_heatmap_image

    if not args.input:
        raise ValueError("--input is required: give one or more image files (PNG or JPEG)")
    if args.output_neuron is not None:
        raise ValueError("--output-neuron is for network files; use --target with a saved torch model")
    outputs = heatmap_paths(args.output, len(args.input))
    for path in outputs + ([Path(args.save_relevance)] if args.save_relevance else []):
        check_output(path)
    if args.save_relevance and Path(args.save_relevance).suffix.lower() != ".npy":
        raise ValueError(f"--save-relevance {args.save_relevance!r}: give a .npy file")
    for image in args.input:
        if not Path(image).is_file():
            raise FileNotFoundError(f"image file {image!r} not found")
    model = load_torch_model(args.network)
    channels, size = _geometry(model, args.size, args.input[0])
    pixels = np.stack([load_image(image, size, channels=channels) for image in args.input])
    mean = None if args.mean is None else numbers(args.mean, "--mean")
    std = None if args.std is None else numbers(args.std, "--std")
    X = normalise(pixels, mean, std)
    from ..real.fx_import import layers_from_torch

    net = layers_from_torch(model, (channels,) + size, pixel_box((channels,) + size, mean, std),
                            maxpool=args.maxpool or "winner")
    compiled = compile_layers(net, backend=args.backend or "numpy")
    n_classes = int(np.prod(net.layer(net.output).shape))
    if args.target is not None and args.target >= n_classes:
        raise ValueError(f"--target {args.target}: the model has {n_classes} classes (0 to {n_classes - 1})")
    relevance, rows = np.zeros_like(X), []
    for batch in chunks(len(X), args.batch_size or 16, "explain"):
        target = (np.full(len(X[batch]), args.target) if args.target is not None
                  else compiled.forward(X[batch]).reshape(len(X[batch]), -1).argmax(axis=1))
        e = compiled.explain(X[batch], target)
        relevance[batch] = e.relevance
        rows += list(zip(e.target.tolist(), e.output.tolist(), e.relevance.reshape(len(e.target), -1)
                         .sum(axis=1).tolist()))
    for image, path, R, photo, (k, value, total) in zip(args.input, outputs, relevance, pixels, rows):
        save_heatmap_image(R, path, photo if args.overlay else None)
        print(f"wrote {path} ({image}: class {k}, f(x) = {value:.4g}, ΣR = {total:.4g})")
    if args.save_relevance:
        from ..core.files import atomic_path

        with atomic_path(args.save_relevance) as temp, open(temp, "wb") as handle:
            np.save(handle, relevance)
        print(f"wrote {args.save_relevance}")
    if compiled.positive_bias:
        print(f"note: layers with positive biases ({', '.join(compiled.positive_bias[:5])}"
              f"{', …' if len(compiled.positive_bias) > 5 else ''}): their rules assume b ≤ 0, "
              "so the deep Taylor root point leaves the input domain there (relevance is still "
              "passed on in full)", file=sys.stderr)
    return 0
