"""The rows :func:`~symdtd.real.selection.select` works on: the network, the splits, reading *X*.

*X* is a NumPy array or a ``dask.array``. A dask array is never loaded
whole: :func:`read_rows` reads it one row chunk at a time (the chunks the
tasks will use), checks each chunk (NaN, the input domains), and keeps only
what is per row (the predicted output) or per input (the column sums of the
selection rows, for the mean-image baseline). The tasks read their chunk
again where they run (:mod:`symdtd.real.dask_run`).

Examples
--------
>>> import numpy as np
>>> from symdtd import Box, Network
>>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]], input_domain=Box(0, 1))
>>> X = np.array([[1.0, 0.25], [0.5, 0.0], [0.0, 1.0]])
>>> target, mean = read_rows(net, X, [np.array([0, 2]), np.array([1])], mean_of=1)
>>> target.tolist(), mean.tolist()        # one output: index 0; the mean of rows 0 and 2
([0, 0, 0], [0.5, 0.625])
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["split_rows", "check_splits", "check_rows", "as_network", "check_domains",
           "is_dask_array", "row_count", "take_rows", "read_rows"]


def split_rows(n: int, y: ArrayLike | None = None, fraction: float = 0.5,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint selection and held-out row indices, stratified by *y* when given.

    Parameters
    ----------
    n : int
        Number of rows.
    y : array-like, optional
        Labels: each class is split in the same proportion.
    fraction : float
        Share of the rows for selection (0 < fraction < 1).
    seed : int
        Seed of the shuffle.

    Returns
    -------
    selection, held_out : numpy.ndarray of int
        Sorted row indices; together every row once.

    Raises
    ------
    ValueError
        A fraction outside (0, 1), labels of another length, a split that
        leaves a side empty.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1, 2, 2])
    >>> selection, held_out = split_rows(6, y)
    >>> y[selection].tolist(), y[held_out].tolist()     # one of each class on each side
    ([0, 1, 2], [0, 1, 2])
    >>> sorted(selection.tolist() + held_out.tolist())
    [0, 1, 2, 3, 4, 5]
    """
    if not 0 < fraction < 1:
        raise ValueError(f"split fraction must lie strictly between 0 and 1, got {fraction!r}")
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, int) if y is None else np.asarray(y)
    if len(labels) != n:
        raise ValueError(f"y has {len(labels)} labels for {n} rows")
    chosen = []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        chosen.append(rows[:int(round(fraction * len(rows)))])
    selection = np.sort(np.concatenate(chosen))
    held_out = np.setdiff1d(np.arange(n), selection)
    if not len(selection) or not len(held_out):
        raise ValueError(f"a split of {n} rows with fraction {fraction} leaves a side empty")
    return selection, held_out


def check_splits(n: int, selection: ArrayLike, held_out: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Check user-given split indices: integers in ``0..n-1``, both sides non-empty, disjoint.

    Parameters
    ----------
    n : int
        Number of rows.
    selection, held_out : array-like of int
        Row indices of each side.

    Returns
    -------
    selection, held_out : numpy.ndarray of int

    Raises
    ------
    ValueError
        Empty sides, indices out of range, or overlapping splits (the
        shared rows are named).

    Examples
    --------
    >>> check_splits(4, [0, 1], [1, 2])
    Traceback (most recent call last):
    ...
    ValueError: split: the selection and held-out rows overlap in 1 row(s), e.g. [1]; they must be disjoint
    """
    sides = []
    for name, rows in (("selection", selection), ("held-out", held_out)):
        rows = np.asarray(rows)
        if rows.ndim != 1 or not len(rows) or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"split: the {name} rows must be a non-empty 1-D array of integers")
        if rows.min() < 0 or rows.max() >= n:
            raise ValueError(f"split: the {name} rows must lie in 0..{n - 1}")
        sides.append(np.unique(rows))
    shared = np.intersect1d(*sides)
    if len(shared):
        raise ValueError(f"split: the selection and held-out rows overlap in {len(shared)} row(s), "
                         f"e.g. {shared[:5].tolist()}; they must be disjoint")
    return sides[0], sides[1]


def check_rows(X: object, width: int, rows: np.ndarray | None = None) -> np.ndarray:
    """*X* as a float64 array ``(rows, width)`` without NaN or inf.

    Parameters
    ----------
    X : array-like
        The rows (a dask array is refused: see :func:`read_rows`).
    width : int
        The number of inputs of the network.
    rows : numpy.ndarray of int, optional
        The row numbers the messages give *X*'s rows (default 0, 1, …).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Another shape, or NaN/inf (the first bad rows are named).
    TypeError
        A dask array.

    Examples
    --------
    >>> check_rows([[0.0, float("nan")]], 2)
    Traceback (most recent call last):
    ...
    ValueError: X has NaN or inf in 1 row(s), e.g. rows [0]
    """
    if is_dask_array(X):
        raise TypeError("check_rows takes an in-memory array; a dask array is read chunk by chunk "
                        "by read_rows")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != width or not len(X):
        raise ValueError(f"X must have shape (rows ≥ 1, {width}) (one column per input), got {X.shape}")
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if len(bad):
        names = bad if rows is None else np.asarray(rows)[bad]
        raise ValueError(f"X has NaN or inf in {len(bad)} row(s), e.g. rows {names[:5].tolist()}")
    return X



def as_network(model: object) -> object:
    """The neuron-level network of *model*: a Network, a shipped model's name or a LayerNetwork.

    A :class:`~symdtd.network.layer_graph.LayerNetwork` is taken through its
    neuron view (:meth:`~symdtd.network.layer_graph.LayerNetwork.neurons`),
    whose inputs are its pixels in flat order.

    Parameters
    ----------
    model : Network, LayerNetwork or {"mlp", "cnn"}
        The model.

    Returns
    -------
    Network

    Raises
    ------
    TypeError
        Anything else.

    Examples
    --------
    >>> len(as_network("mlp").inputs)
    64
    """
    from ..network.graph import Network
    from ..network.layer_graph import LayerNetwork

    if isinstance(model, str):
        from .models import load_model
        return load_model(model)
    if isinstance(model, LayerNetwork):
        return model.neurons()
    if not isinstance(model, Network):
        raise TypeError(f"model must be a Network, a LayerNetwork or a shipped model's name, "
                        f"got {type(model).__name__}")
    return model


def check_domains(network: object, X: np.ndarray, rows: np.ndarray | None = None) -> None:
    """Refuse rows of *X* outside the network's input domains (the explanation needs them in).

    Parameters
    ----------
    network : Network
        The network.
    X : numpy.ndarray, shape (n, n_inputs)
        The rows (finite).
    rows : numpy.ndarray of int, optional
        The row numbers the message gives *X*'s rows (default 0, 1, …).

    Raises
    ------
    ValueError
        Naming the rows outside, and one value with its input and domain.

    Examples
    --------
    >>> from symdtd import Box, Network
    >>> net = Network.from_dense([[[1.0]], [[1.0]]], input_domain=Box(0, 1))
    >>> check_domains(net, np.array([[0.5], [2.0]]), rows=np.array([10, 11]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: X has values outside the input domains in rows [11]: X[11, 0] = 2.0 for input 'x1' ...
    """
    from ..compiler.batch import numeric_bound

    domains = [network.graph.nodes[p]["domain"] for p in network.inputs]
    low = np.array([numeric_bound(d, 0) for d in domains])
    high = np.array([numeric_bound(d, 1) for d in domains])
    outside = (X < low) | (X > high)
    bad = np.flatnonzero(outside.any(axis=1))
    if len(bad):
        names = bad if rows is None else np.asarray(rows)[bad]
        c = int(np.flatnonzero(outside[bad[0]])[0])
        raise ValueError(f"X has values outside the input domains in rows {names[:5].tolist()}: "
                         f"X[{names[0]}, {c}] = {X[bad[0], c]} for input {network.inputs[c]!r} "
                         f"(domain {domains[c]!r})")


def is_dask_array(X: object) -> bool:
    """Whether *X* is a dask array (without importing Dask when it is not).

    Parameters
    ----------
    X : object
        Anything.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_dask_array(np.zeros(2))
    False
    """
    return type(X).__module__.startswith("dask.") and hasattr(X, "chunks") and hasattr(X, "compute")


def row_count(X: object, width: int) -> int:
    """The number of rows of *X* (NumPy or dask), after checking its shape.

    Parameters
    ----------
    X : array-like or dask.array.Array
        The rows.
    width : int
        The number of inputs of the network.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Not ``(rows ≥ 1, width)``, or a dask array whose row chunks are unknown.

    Examples
    --------
    >>> row_count(np.zeros((3, 2)), 2)
    3
    """
    shape = X.shape if is_dask_array(X) else np.shape(X)
    if len(shape) != 2 or shape[1] != width or not shape[0]:
        raise ValueError(f"X must have shape (rows ≥ 1, {width}) (one column per input), got {shape}")
    if not np.isfinite(shape[0]):
        raise ValueError("X is a dask array of unknown length: call X.compute_chunk_sizes() first")
    return int(shape[0])


def take_rows(X: object, rows: np.ndarray) -> object:
    """The *rows* of *X*: a float64 array, or for a dask array a lazy dask array (nothing read yet).

    Parameters
    ----------
    X : numpy.ndarray or dask.array.Array, shape (n, n_inputs)
        The rows.
    rows : numpy.ndarray of int
        Sorted row indices.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Shape ``(len(rows), n_inputs)``, one chunk.

    Examples
    --------
    >>> take_rows(np.arange(6.0).reshape(3, 2), np.array([0, 2]))
    array([[0., 1.],
           [4., 5.]])
    """
    if is_dask_array(X):
        part = X[rows].astype(np.float64)
        return part.rechunk(part.shape)
    return np.asarray(X[rows], dtype=np.float64)


def read_rows(network: object, X: object, chunks: list, *, mean_of: int = 0,
              scheduler: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read *X* one row chunk at a time: check it, predict it, sum the first chunks' columns.

    Memory holds one chunk of *X* at a time, plus what is per row or per
    input. The column sums are added chunk after chunk in the order given,
    for a NumPy and a dask *X* alike, so both give the same floats.

    Parameters
    ----------
    network : Network
        The network (its compiled form predicts).
    X : numpy.ndarray or dask.array.Array, shape (n, n_inputs)
        The rows (NumPy: already checked by :func:`check_rows`).
    chunks : list of numpy.ndarray of int
        Sorted row indices of each chunk; together each row at most once.
    mean_of : int
        The column mean is taken over the rows of the first *mean_of* chunks.
    scheduler : str, optional
        Dask's scheduler for reading a dask *X* (default: Dask's default,
        e.g. an active ``Client``).

    Returns
    -------
    predicted : numpy.ndarray of int, shape (n,)
        The largest output of each row read (0 elsewhere).
    mean : numpy.ndarray, shape (n_inputs,)
        The column mean of the first *mean_of* chunks' rows (NaN without rows).

    Raises
    ------
    ValueError
        A chunk with NaN or inf, or values outside the input domains (naming
        the rows of *X*).
    """
    from .evaluate import compiled

    model = compiled(network)
    predicted = np.zeros(row_count(X, len(network.inputs)), dtype=np.int64)
    total, count = np.zeros(len(network.inputs)), 0
    lazy = is_dask_array(X)
    for k, rows in enumerate(chunks):
        block = take_rows(X, rows)
        if lazy:
            block = check_rows(block.compute(scheduler=scheduler), len(network.inputs), rows)
            check_domains(network, block, rows)
        predicted[rows] = model.forward(block).argmax(axis=1)
        if k < mean_of:
            total, count = total + block.sum(axis=0), count + len(block)
    return predicted, total / count if count else np.full(len(total), np.nan)
