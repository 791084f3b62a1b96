"""Relevance maps of a whole dataset as a chunked ``dask.array``: :func:`explain_dataset`.

Each row chunk is explained by the compiled network
(:func:`symdtd.compile`, cached per network and composite) when Dask
computes it, so memory is bounded by the chunk size, not by the number of
rows. Next to the relevance maps come, per row, the explained output ``x_f``
and the conservation residual ``Σ_p R_p − x_f``.
:meth:`DatasetExplanation.write` stores the maps chunk by chunk as ``.npy``
files (or a Zarr array, when Zarr is installed).

Needs Dask (``pip install 'symdtd[dask]'``).

Examples
--------
>>> import numpy as np
>>> from symdtd import Network
>>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
>>> maps = explain_dataset(net, np.array([[1.0, 0.25], [0.5, 0.0]]), chunk_rows=1)
>>> maps.relevance.chunks
((1, 1), (2,))
>>> maps.relevance.compute()
array([[1.5, 0. ],
       [1.5, 0. ]])
>>> float(abs(maps.residual).max().compute()) < 1e-12
True
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ..core.numbers import check_positive_int
from ..network.composites import Composite

__all__ = ["explain_dataset", "DatasetExplanation"]


def _explain_block(X, target, *, network, composite, absorb_bias):
    """One chunk: ``[relevance | output | residual]`` as one float64 block."""
    from .evaluate import compiled

    model = compiled(network, composite=composite)
    X = np.asarray(X, dtype=np.float64)
    t = model.forward(X).argmax(axis=1) if target is None else np.asarray(target).reshape(-1)
    e = model.explain(X, t, absorb_bias=absorb_bias)
    return np.column_stack([e.relevance, e.output, e.conservation.residual])


@dataclass
class DatasetExplanation:
    """The lazy result of :func:`explain_dataset`; nothing is computed until asked.

    Its fields are the constructor's parameters.

    Parameters
    ----------
    relevance : dask.array.Array, shape (rows, n_inputs)
        ``[x_f]_p`` per row and input.
    output : dask.array.Array, shape (rows,)
        The explained output ``x_f`` per row.
    residual : dask.array.Array, shape (rows,)
        ``Σ_p R_p − x_f`` per row (0 up to rounding when relevance is conserved;
        with ``absorb_bias=True`` minus what positive biases absorbed).
    """

    relevance: object
    output: object
    residual: object

    def write(self, directory: str | os.PathLike, *, fmt: str = "npy", scheduler: str = "threads",
              client: object = None) -> list[Path]:
        """Compute the chunks one by one and write them to *directory*.

        Parameters
        ----------
        directory : str or pathlib.Path
            Created if missing.
        fmt : {"npy", "zarr"}
            ``"npy"``: per chunk ``k``, ``relevance_{k:05d}.npy``, ``output_{k:05d}.npy``
            and ``residual_{k:05d}.npy``; ``"zarr"``: one Zarr store per array
            (needs Zarr).
        scheduler : str
            Dask scheduler without *client* (default the threaded one).
        client : dask.distributed.Client, optional
            Compute on this cluster (the directory must be shared with it).

        Returns
        -------
        list of pathlib.Path
            The files (or Zarr stores) written.

        Raises
        ------
        ValueError
            An unknown *fmt*.
        ImportError
            ``fmt="zarr"`` without Zarr installed.
        """
        import dask

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {"relevance": self.relevance, "output": self.output, "residual": self.residual}
        if fmt == "zarr":
            try:
                import zarr  # noqa: F401
            except ImportError:
                raise ImportError("fmt='zarr' needs Zarr: pip install zarr (or use fmt='npy')") from None
            paths = [directory / f"{name}.zarr" for name in arrays]
            stores = [a.to_zarr(str(p), compute=False) for a, p in zip(arrays.values(), paths)]
            _compute(dask, stores, scheduler, client)
            return paths
        if fmt != "npy":
            raise ValueError(f"fmt must be 'npy' or 'zarr', got {fmt!r}")
        tasks = []
        for name, array in arrays.items():
            for k, block in enumerate(array.to_delayed().ravel()):
                tasks.append(dask.delayed(_save)(directory / f"{name}_{k:05d}.npy", block))
        return list(_compute(dask, tasks, scheduler, client))


def _save(path, block):
    np.save(path, block)
    return path


def _compute(dask, tasks, scheduler, client):
    if client is not None:
        return client.gather(client.compute(tasks))
    return dask.compute(*tasks, scheduler=scheduler)


def explain_dataset(model: object, X: ArrayLike, *, composite: Composite | None = None,
                    target: int | ArrayLike | None = None, absorb_bias: bool = False,
                    chunk_rows: int | None = 256) -> DatasetExplanation:
    """Relevance maps of every row of *X* as chunked dask arrays, computed chunk by chunk.

    Parameters
    ----------
    model : Network, LayerNetwork or {"mlp", "cnn"}
        The network (a LayerNetwork through its neuron view), or a shipped
        digits model's name.
    X : array-like or dask.array.Array, shape (rows, n_inputs)
        The rows; a NumPy array is chunked by *chunk_rows*, a dask array
        keeps its row chunks unless *chunk_rows* is given.
    composite : Composite, optional
        The rules (e.g. ``select(...).best_composite``); default the paper's.
    target : int or array-like, optional
        The explained output: one index, or one per row; default the
        predicted output (the largest) of each row.
    absorb_bias : bool
        Positive biases absorb their share (as ``explain(absorb_bias=True)``).
    chunk_rows : int or None
        Rows per chunk (None: a dask array's own chunks).

    Returns
    -------
    DatasetExplanation
        ``relevance``, ``output`` and ``residual`` as dask arrays.

    Raises
    ------
    ValueError
        *X* of the wrong width, a NumPy *X* with NaN or inf (a dask array's
        chunks are checked when computed), a *target* of the wrong length.
    ImportError
        Dask is not installed.
    """
    try:
        import dask.array as da
    except ImportError:
        raise ImportError("explain_dataset needs Dask: pip install 'symdtd[dask]'") from None
    from .selection_rows import as_network, check_rows

    network = as_network(model)
    if composite is not None and not isinstance(composite, Composite):
        raise TypeError(f"composite must be a Composite, got {type(composite).__name__}")
    width = len(network.inputs)
    if chunk_rows is not None:
        chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    if isinstance(X, da.Array):
        if X.ndim != 2 or X.shape[1] != width:
            raise ValueError(f"X must have shape (rows, {width}), got {X.shape}")
        X = X.rechunk((chunk_rows or X.chunks[0], width))
    else:
        X = da.from_array(check_rows(X, width), chunks=(chunk_rows or 256, width))
    if target is not None and np.ndim(target):
        t = np.asarray(target, dtype=np.int64)
        if t.shape != (X.shape[0],):
            raise ValueError(f"target must be one index or {X.shape[0]} of them, got shape {t.shape}")
        target = da.from_array(t.reshape(-1, 1), chunks=(X.chunks[0], 1))
    elif target is not None:
        target = da.full((X.shape[0], 1), int(target), chunks=(X.chunks[0], 1), dtype=np.int64)
    blocks = da.map_blocks(_explain_block, X, target, network=network, composite=composite,
                           absorb_bias=absorb_bias, dtype=np.float64,
                           chunks=(X.chunks[0], (width + 2,)))
    return DatasetExplanation(blocks[:, :width], blocks[:, width], blocks[:, width + 1])
