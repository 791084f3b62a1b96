"""Batch results of compiled networks and the checks of their arguments.

:meth:`CompiledNetwork.explain <symdtd.compiler.compiled.CompiledNetwork.explain>`
returns a :class:`BatchExplanation` (relevance per row and input, optionally
per neuron and per edge) with a :class:`ConservationReport` (``Σ_p R_p =
x_f − lost − absorbed`` row by row). :func:`check_inputs` and
:func:`check_target` turn the user's ``X`` and ``target`` into arrays, or
raise a ValueError naming the argument and the offending rows. All of these
are also importable from :mod:`symdtd.compiler.kernels` and :mod:`symdtd.compiler.compiled`.

Examples
--------
>>> import numpy as np
>>> check_target("y2", 3, ["y1", "y2"])
array([1, 1, 1])
>>> X = check_inputs([[0.5, 1]], ["a", "b"], ["[0, 1]", "[0, 1]"], 0, 1, np.float32)
>>> X, X.dtype
(array([[0.5, 1. ]], dtype=float32), dtype('float32'))
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..core.domains import Box
from ..propagation.arithmetic import NegativeOutputWarning

__all__ = ["BatchExplanation", "ConservationReport", "check_inputs", "check_target",
           "check_finite", "even_chunks", "join_chunks", "rows_per_chunk", "warn_negative_outputs"]


# ------------------------------------------------------------------ checks
def check_inputs(X, inputs, domains, low, high, dtype, domain=True):
    """``X`` as a C-contiguous *dtype* array of shape ``(batch, len(inputs))``.

    Raises ValueError naming ``X`` and the offending rows for a wrong dtype
    or width, NaN or inf, and (with *domain*) values outside ``[low, high]``.

    >>> check_inputs([[0.5, 2]], ["a", "b"], ["[0, 1]", "[0, 1]"], 0, 1, np.float64)
    Traceback (most recent call last):
    ...
    ValueError: X has values outside the input domains in rows [0]: X[0, 1] = 2.0 ...
    """
    arr = X if type(X) is np.ndarray else np.asarray(X)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"X must be a real numeric array (float or int), got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    n = len(inputs)
    if arr.ndim != 2 or arr.shape[1] != n or arr.shape[0] == 0:
        raise ValueError(f"X must have shape (batch, {n}), one column per input "
                         f"{_few(inputs)}, got shape {np.shape(X)}")
    given = arr
    if arr.dtype != dtype or not arr.flags.c_contiguous:
        with np.errstate(over="ignore"):
            arr = np.ascontiguousarray(arr, dtype=dtype)
    if domain and type(low) is float and type(high) is float and math.isfinite(low) \
            and math.isfinite(high):
        # one finite box for every input (the common case): two reductions decide it all,
        # since NaN fails both comparisons and ±inf lies outside the box; for [0, h] one
        ok = (low == 0.0 and high >= 0.0 and _below(arr, high)) or (
            bool(np.minimum.reduce(arr, axis=None) >= low)
            and bool(np.maximum.reduce(arr, axis=None) <= high))
    else:
        lo, hi = arr.min(axis=0), arr.max(axis=0)
        ok = np.isfinite(lo).all() and np.isfinite(hi).all()
        if ok and domain:
            ok = (lo >= low).all() and (hi <= high).all()
    if not ok:
        bad, what = ~np.isfinite(arr), "NaN or inf"
        if not bad.any():
            bad, what = (arr < low) | (arr > high), "values outside the input domains"
        r, c = np.argwhere(bad)[0]
        value = arr[r, c]
        if not np.isfinite(value) and np.isfinite(given[r, c]):
            value = f"{given[r, c]} (not finite as {np.dtype(dtype)})"
        raise ValueError(f"X has {what} in rows {_few(np.flatnonzero(bad.any(axis=1)))}: "
                         f"X[{r}, {c}] = {value} for input {inputs[c]!r} "
                         f"(domain {domains[c]!r})")
    return arr


_UINT = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def _below(arr, high):
    """Every value of the float array *arr* in ``[+0, high]``, by one reduction.

    Nonnegative floats are ordered as their bit patterns read as unsigned
    integers; a negative value (``-0.0`` too), NaN or inf reads as larger than
    ``high``'s pattern, so False here only sends the array to the full check.
    """
    uint = _UINT.get(arr.dtype)
    return uint is not None and int(np.maximum.reduce(arr.view(uint), axis=None)) <= _bits(
        high, arr.dtype)


@functools.lru_cache(maxsize=64)
def _bits(value, dtype):
    """The bit pattern of *value* as a float of *dtype*, as a Python int."""
    return int(np.array(value, dtype).view(_UINT[dtype]))


def check_target(target, batch, outputs):
    """``target`` as one output index per row; ValueError naming the bad rows.

    >>> check_target(["y2", "y1"], 2, ["y1", "y2"])
    array([1, 0])
    """
    n = len(outputs)
    if target is None:
        if n != 1:
            raise ValueError(f"target is required: the network has {n} outputs "
                             f"{_few(outputs)}")
        return np.zeros(batch, dtype=np.int64)
    if type(target) is np.ndarray and target.dtype.kind in "iu" and target.shape == (batch,) \
            and batch:   # the common case, one index per row: one copy and one reduction
        arr = target.astype(np.int64)
        if batch <= 16:   # a few rows: Python's min and max cost less than a reduction
            rows = arr.tolist()
            if 0 <= min(rows) and max(rows) < n:
                return arr
        elif np.maximum.reduce(arr.view(np.uint64)) < n:   # a negative index reads as huge
            return arr
    arr = np.asarray(target)
    if arr.dtype.kind in "UO":
        index = {o: k for k, o in enumerate(outputs)}
        unknown = [v for v in arr.ravel().tolist() if v not in index]
        if unknown:
            raise ValueError(f"target {unknown[0]!r} is not an output; outputs are "
                             f"{_few(outputs)}")
        arr = np.vectorize(index.get, otypes=[np.int64])(arr)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"target must be an output index (int) or one per row, "
                         f"got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = np.full(batch, int(arr))
    if arr.shape != (batch,):
        raise ValueError(f"target must be one index or one per row (shape ({batch},)), "
                         f"got shape {arr.shape}")
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(f"target out of range 0..{n - 1} in rows {_few(rows)} "
                         f"(e.g. {arr[rows[0]]}); the outputs are {_few(outputs)}")
    return arr.astype(np.int64)


@dataclass
class ConservationReport:
    """Conservation of a batch: ``Σ_p R_p = x_f − lost − absorbed`` per row.

    Its fields are the constructor's parameters.

    Parameters
    ----------
    residual : ndarray, shape (batch,)
        ``Σ_p R_p − x_f`` over the inputs ``p``.
    output : ndarray
        ``x_f`` per row.
    lost : ndarray
        Relevance held by neurons whose denominator was zero.
    zero_denominators : ndarray of int
        How many neurons per row had a zero denominator and relevance to pass.
    absorbed : ndarray
        Relevance absorbed by positive biases (``absorb_bias=True``).
    blocks : sequence of (str, ndarray)
        Relevance entering each block (generation × rule), per row: a list,
        or a :class:`~symdtd.compiler.kernels.BlockTotals` that sums it when
        first read.
    positive_bias : list of str
        Neurons whose positive bias takes the root out of the domain.
    dtype : numpy.dtype
        The float type computed in, which sets the default tolerance of :meth:`conserved`.
    """

    residual: np.ndarray
    output: np.ndarray
    lost: np.ndarray
    zero_denominators: np.ndarray
    absorbed: np.ndarray
    blocks: list
    positive_bias: list
    dtype: np.dtype = field(default=np.dtype(np.float64), repr=False)

    def conserved(self, rtol=None):
        """Per row: ``|residual + lost + absorbed| ≤ rtol · max(1, |x_f|)``
        (default ``rtol`` 1e-9 for float64, 1e-4 for float32)."""
        rtol = rtol if rtol is not None else (1e-9 if self.dtype == np.float64 else 1e-4)
        gap = np.abs(self.residual + self.lost + self.absorbed)
        return gap <= rtol * np.maximum(1.0, np.abs(self.output))

    def __str__(self):
        lines = [f"rows: {len(self.residual)}, max |residual| = {np.abs(self.residual).max():.3g}",
                 f"rows with zero denominators: {int(np.count_nonzero(self.zero_denominators))}, "
                 f"lost {self.lost.sum():.6g}, absorbed {self.absorbed.sum():.6g}",
                 f"rows conserved (beyond lost/absorbed): {int(self.conserved().sum())}"]
        lines += [f"  {label}: total {tot.sum():.6g}" for label, tot in self.blocks]
        if self.positive_bias:
            lines.append(f"positive bias (root leaves the domain): {_few(self.positive_bias)}")
        return "\n".join(lines)


@dataclass
class BatchExplanation:
    """The result of :meth:`CompiledNetwork.explain`.

    Its fields are the constructor's parameters.

    Parameters
    ----------
    relevance : ndarray, shape (batch, n_inputs)
        ``[x_f]_p`` per row and input, columns in ``inputs`` order.
    output : ndarray, shape (batch,)
        ``x_f`` per row.
    target : ndarray of int
        The explained output per row (index into ``outputs``).
    inputs, outputs : list of str
        The network's input and output names, in column order.
    conservation : ConservationReport
        How well each row conserves relevance.
    neurons, neuron_names : ndarray (batch, n_neurons) and list, or None
        With ``return_neurons=True``.
    edges, edge_names : ndarray (batch, n_edges) and list of (u, v), or None
        With ``return_edges=True``.
    """

    relevance: np.ndarray
    output: np.ndarray
    target: np.ndarray
    inputs: list
    outputs: list
    conservation: ConservationReport
    neurons: np.ndarray | None = None
    neuron_names: list | None = None
    edges: np.ndarray | None = None
    edge_names: list | None = None

    def __len__(self):
        return len(self.relevance)

    def node(self, name):
        """Relevance of one input (or, with ``return_neurons``, neuron) per row."""
        if name in self.inputs:
            return self.relevance[:, self.inputs.index(name)]
        if self.neuron_names is None or name not in self.neuron_names:
            raise ValueError(f"no relevance for {name!r}: not an input"
                             + ("" if self.neuron_names else "; use return_neurons=True"))
        return self.neurons[:, self.neuron_names.index(name)]

    def message(self, source, target):
        """The message on edge ``source -> target`` per row (``return_edges=True``)."""
        if self.edge_names is None:
            raise ValueError("no messages: use return_edges=True")
        try:
            return self.edges[:, self.edge_names.index((source, target))]
        except ValueError:
            raise ValueError(f"no edge {source!r} -> {target!r}") from None


def rows_per_chunk(chunk_size, width, elements):
    """*chunk_size* checked (a positive integer), or by default (None) as many rows
    of *width* values as fit in *elements* values (at least 1).

    >>> rows_per_chunk(None, 1000, 2**20), rows_per_chunk(7, 1000, 2**20)
    (1048, 7)
    >>> rows_per_chunk(0, 1000, 2**20)
    Traceback (most recent call last):
    ...
    ValueError: chunk_size must be a positive integer or None, got 0
    """
    if chunk_size is None:
        return max(1, elements // max(1, width))
    if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, (int, np.integer)):
        raise TypeError(f"chunk_size must be a positive integer or None, "
                        f"got {type(chunk_size).__name__}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size}")
    return int(chunk_size)


def even_chunks(n, step):
    """Rows per chunk for *n* rows in as few chunks of at most *step* rows as
    possible, all of (nearly) one size.

    A short last chunk costs more than its rows: 1,024 rows in chunks of 878 and
    146 took 2–3 % longer than in two of 512 on the 784-300-100-10 MLP (minimum
    of 60 runs; BLAS runs a product of few rows less efficiently).

    >>> even_chunks(1024, 878), even_chunks(1024, 2000), even_chunks(35, 10)
    (512, 1024, 9)
    """
    if step >= n:
        return n
    count = -(-n // step)
    return -(-n // count)


def join_chunks(chunks, batch, relevance=None):
    """One :class:`BatchExplanation` from the explanations of consecutive row chunks.

    Parameters
    ----------
    chunks : iterable of (slice, BatchExplanation)
        The rows each chunk covers (``slice(start, stop)``, in order, covering
        ``0 … batch``) and its explanation. Each chunk is copied into the
        result as soon as it arrives, so only one is alive at a time.
    batch : int
    relevance : ndarray, optional
        The result's ``relevance`` array, shape ``(batch, n_inputs)``. A chunk
        whose relevance already lies in it (it was computed into its rows) is
        not copied.

    Examples
    --------
    >>> import numpy as np
    >>> def part(rows):
    ...     n = rows.stop - rows.start
    ...     report = ConservationReport(np.zeros(n), np.ones(n), np.zeros(n),
    ...                                 np.zeros(n, int), np.zeros(n), [("b", np.ones(n))], [])
    ...     return rows, BatchExplanation(np.full((n, 2), rows.start), np.ones(n),
    ...                                   np.zeros(n, int), ["a", "b"], ["y"], report)
    >>> joined = join_chunks([part(slice(0, 2)), part(slice(2, 3))], 3)
    >>> joined.relevance[:, 0].tolist(), joined.conservation.blocks[0][1].tolist()
    ([0, 0, 2], [1.0, 1.0, 1.0])
    """
    out = None
    for rows, part in chunks:
        if out is None:
            out = _empty_like(part, batch, relevance)
        for name in ("relevance", "output", "target", "neurons", "edges"):
            if getattr(out, name) is not None and not (
                    name == "relevance" and np.may_share_memory(part.relevance, out.relevance)):
                getattr(out, name)[rows] = getattr(part, name)
        c, pc = out.conservation, part.conservation
        for name in ("residual", "output", "lost", "zero_denominators", "absorbed"):
            getattr(c, name)[rows] = getattr(pc, name)
        for (_, total), (_, part_total) in zip(c.blocks, pc.blocks):
            total[rows] = part_total
    return out


def _empty_like(part, batch, relevance=None):
    """An explanation like *part* (one chunk) with room for *batch* rows (its
    relevance in the array *relevance* when given)."""
    def room(a):
        return None if a is None else np.empty((batch,) + a.shape[1:], a.dtype)

    c = part.conservation
    report = ConservationReport(*(room(getattr(c, name)) for name in (
        "residual", "output", "lost", "zero_denominators", "absorbed")),
        [(label, room(total)) for label, total in c.blocks], list(c.positive_bias), c.dtype)
    relevance = room(part.relevance) if relevance is None else relevance
    return BatchExplanation(relevance, room(part.output), room(part.target),
                            part.inputs, part.outputs, report, room(part.neurons),
                            part.neuron_names, room(part.edges), part.edge_names)


def check_finite(summary, dtype):
    """Refuse an explanation whose float arithmetic overflowed.

    *summary* holds one float64 figure per row that is finite whenever every
    output and relevance of the row is (its conservation residual, or its
    output plus the inputs' total): weights near the float type's largest
    value can overflow the forward pass to ∞, and ∞ − ∞ then leaks NaN into
    the relevance. One reduction decides the common case.

    Raises
    ------
    ValueError
        Naming the rows and the float type, and what to do instead.

    >>> check_finite(np.array([0.0, 1e-7]), np.float32)
    >>> check_finite(np.array([0.0, np.nan, np.inf]), np.float32)
    Traceback (most recent call last):
    ...
    ValueError: the float32 arithmetic overflowed in rows [1, 2]: ...
    """
    if math.isfinite(np.add.reduce(summary)):
        return
    rows = np.flatnonzero(~np.isfinite(summary))
    if len(rows):   # (a sum of huge finite figures may overflow on its own)
        raise ValueError(f"the {np.dtype(dtype).name} arithmetic overflowed in rows {_few(rows)}: "
                         "their output or relevance is not finite; compile with "
                         "dtype=np.float64, or scale the weights down")


def warn_negative_outputs(x_f, target, outputs, stacklevel=3):
    """Warn (:class:`~symdtd.propagation.arithmetic.NegativeOutputWarning`) naming the rows with ``x_f < 0``.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_negative_outputs(np.array([1.0, -0.5]), np.array([0, 1]), ["y1", "y2"])
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    x_f < 0 in rows [1] (outputs ['y2']): the root search assumes x_f > 0, ...
    """
    few = _few
    if len(x_f) <= 16:   # a few rows: Python lists cost less than NumPy calls
        rows = [r for r, v in enumerate(x_f.tolist()) if v < 0]
        if not rows:
            return
        targets = np.asarray(target).tolist()
        names = sorted({outputs[targets[r]] for r in rows})
        if len(rows) <= 5:   # lists of Python ints and names: _few would print them whole
            few = repr
    else:
        if not np.fmin.reduce(x_f) < 0:
            return   # the common case: no negative output, seen by one reduction
        rows = np.flatnonzero(x_f < 0)
        # the outputs met, by counting (a set built row by row costs more)
        met = np.flatnonzero(np.bincount(np.asarray(target)[rows], minlength=len(outputs)))
        names = sorted(outputs[i] for i in met.tolist())
    warnings.warn(f"x_f < 0 in rows {few(rows)} (outputs {few(names)}): " + _NEGATIVE,
                  NegativeOutputWarning, stacklevel=stacklevel)


_NEGATIVE = "the root search assumes x_f > 0, so their relevance redistributes a negative value"


# ------------------------------------------------------------------ helpers
def as_floats(values, what):
    try:
        arr = np.array(values, dtype=float)
    except (TypeError, ValueError, OverflowError):
        for k, v in enumerate(values):
            try:
                float(v)
            except OverflowError:
                raise ValueError(f"{what(k)} is too large for float64") from None
            except (TypeError, ValueError):
                raise ValueError(f"{what(k)} is {v!r}; compile needs numbers, "
                                 "not symbols") from None
        raise
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        raise ValueError(f"{what(bad[0])} is not finite ({arr[bad[0]]})")
    return arr


def _few(items, k=5):
    if isinstance(items, np.ndarray):   # a row list: its head only, as Python numbers
        head, n = items[:k].tolist(), len(items)
    else:
        items = list(items)
        head, n = [i.item() if hasattr(i, "item") else i for i in items[:k]], len(items)
    return "[" + ", ".join(map(repr, head)) + (f", … ({n} in all)]" if n > k else "]")


def numeric_bound(domain, side):
    """The numeric low (*side* 0) or high (1) bound of an input *domain*;
    a symbolic ``Box()`` is unbounded."""
    if isinstance(domain, Box) and domain.symbolic:
        return (-np.inf, np.inf)[side]
    low, high = domain.bounds(1)
    return float((low, high)[side][0])
