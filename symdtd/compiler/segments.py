"""The edges of a compiled block from one source generation, as matrices.

A :class:`~symdtd.compiler.kernels.Block` holds one :class:`Segment` per
source generation and binding of the box bounds: its edges
(:class:`SegmentEdges`), the bounds of their sources (:class:`SourceBounds`)
and how its matrices are stored (:class:`Storage`, :func:`use_dense`). A
segment keeps one :class:`Matrix` per row-dependent term ``f_k(X) · g_k(W)``
of its rule and one for all the constant terms together, and computes its
share of ``Z``, of the relevance sent back and of the edge messages
(the formulas are in :mod:`symdtd.compiler.kernels`).

Examples
--------
>>> m = Matrix([0, 1], [1, 0], [2.0, 3.0], (2, 2), np.float64, dense=True)
>>> m.left(np.array([[1.0, 2.0]]))
array([[6., 2.]])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Matrix", "use_dense", "accumulate", "SegmentEdges", "SourceBounds", "Storage", "Segment"]


class Matrix:
    """A block's ``(n_in, n_out)`` matrix, dense or CSR, with the two products needed.

    Built from edge arrays (row, column, value); absent edges are zeros.

    >>> m = Matrix([0, 1], [1, 0], [2.0, 3.0], (2, 2), np.float64, dense=False)
    >>> m.left(np.array([[1.0, 1.0]])), m.left_t(np.array([[1.0, 0.0]]))
    (array([[3., 2.]]), array([[0., 3.]]))
    """

    def __init__(self, rows, cols, values, shape, dtype, dense):
        values = np.asarray(values, dtype=dtype)
        self.shape = shape
        self.dense = dense
        if dense:
            self.M = np.zeros(shape, dtype=dtype)
            self.M[rows, cols] = values
        else:
            import scipy.sparse as sps  # only when a block is sparse: the import costs ~0.2 s

            self.M = sps.csr_array((values, (rows, cols)), shape=shape)
            self.T = sps.csr_array((values, (cols, rows)), shape=shape[::-1])

    def left(self, F):
        """``F @ M`` for a dense batch ``F`` of shape ``(batch, n_in)``."""
        if self.dense:
            return F @ self.M
        return np.asarray(self.T @ F.T).T

    def left_t(self, S):
        """``S @ M.T`` for a dense ``S`` of shape ``(batch, n_out)``."""
        if self.dense:
            return S @ self.M.T
        return np.asarray(self.M @ S.T).T


def use_dense(n_edges, shape, threshold):
    """Store a block's edges as a dense matrix? Yes when they fill at least
    *threshold* of it (BLAS beats ``scipy.sparse`` from ~2–5 % on), or it is
    tiny; a huge matrix (over 2²⁴ entries) must also be ≥ 25 % full. A
    threshold above 1 stores everything sparse.

    >>> use_dense(3920, (784, 100), 0.02), use_dense(500, (10**5, 10**3), 0.0)
    (True, False)
    """
    entries = shape[0] * shape[1]
    density = n_edges / max(1, entries)
    if threshold > 1:
        return False
    return entries <= 4096 or (density >= threshold and (entries <= 2**24 or density >= 0.25))


def accumulate(total, part):
    """``total + part``, in place when *total* already exists."""
    if total is None:
        return part
    total += part
    return total


@dataclass(frozen=True)
class SegmentEdges:
    """The edges of a :class:`Segment`: where they start, end and sit, and their weights.

    Parameters
    ----------
    src : int
        The source generation.
    n_src : int
        How many nodes the source generation has.
    e_src : ndarray of int
        Per edge, its source's column in the source generation.
    e_dst : ndarray of int
        Per edge, its target's column in the block.
    e_id : ndarray of int
        Per edge, its index among the compiled network's edges.
    w : ndarray
        Per edge, its weight.
    """

    src: int
    n_src: int
    e_src: np.ndarray
    e_dst: np.ndarray
    e_id: np.ndarray
    w: np.ndarray


@dataclass(frozen=True)
class SourceBounds:
    """The box bounds of the source generation's nodes and the rule's γ.

    Parameters
    ----------
    l, h : ndarray
        Per source node, its lower and upper bound (as the binding reads them).
    gamma : float or None
        The rule's γ (None for rules without it).
    """

    l: np.ndarray  # noqa: E741 -- the maths' name for the lower bound
    h: np.ndarray
    gamma: float | None = None


@dataclass(frozen=True)
class Storage:
    """How a block's matrices are stored.

    Parameters
    ----------
    n_out : int
        How many neurons (columns) the block has.
    dtype : numpy.dtype
        The float type computed in.
    dense_threshold : float
        The fill above which a matrix is stored dense (see :func:`use_dense`).
    """

    n_out: int
    dtype: np.dtype
    dense_threshold: float


class Segment:
    """A block's edges from one source generation, for one binding of the bounds.

    Holds one :class:`Matrix` per row-dependent term and one for all the
    constant terms together (``Σ_k diag(f_k(l, h)) · g_k(W)``).

    Parameters
    ----------
    kernel : object
        The compiled rule for this binding of the bounds (its terms, or ``q_fn``).
    edges : SegmentEdges
        The segment's edges.
    bounds : SourceBounds
        The source nodes' bounds and γ.
    storage : Storage
        The block's width, float type and dense threshold.
    """

    def __init__(self, kernel, edges: SegmentEdges, bounds: SourceBounds, storage: Storage):
        n_src, e_src, e_dst, w = edges.n_src, edges.e_src, edges.e_dst, edges.w
        l_vec, h_vec, gamma = bounds.l, bounds.h, bounds.gamma
        n_out, dtype = storage.n_out, storage.dtype
        self.kernel, self.src, self.n_src = kernel, edges.src, n_src
        self.e_src, self.e_dst, self.e_id = e_src, e_dst, edges.e_id
        self.l, self.h = l_vec.astype(dtype), h_vec.astype(dtype)
        self.dense = use_dense(len(w), (n_src, n_out), storage.dense_threshold)
        self.zc = self.c_e = None
        self.terms = []  # [term, Matrix, g per edge, skip in Z]
        l_e, h_e = l_vec[e_src], h_vec[e_src]
        if not kernel.separable:
            self.w, self.l_e, self.h_e, self.gamma = w, l_e, h_e, gamma
            idx, ones = np.arange(len(w)), np.ones(len(w))
            self.to_out = Matrix(idx, e_dst, ones, (len(w), n_out), dtype, dense=False)
            self.to_src = Matrix(idx, e_src, ones, (len(w), n_src), dtype, dense=False)
            return
        c_e = np.zeros(len(w))
        for t in kernel.terms:
            g_e = np.broadcast_to(np.asarray(t.g_fn(w, gamma), dtype=float), w.shape)
            if t.batch:
                M = Matrix(e_src, e_dst, g_e, (n_src, n_out), dtype, self.dense)
                self.terms.append([t, M, g_e.astype(dtype), False])
            else:
                c_e = c_e + np.broadcast_to(t.f_fn(0.0, l_e, h_e), w.shape) * g_e
        if c_e.any():
            self.c_e = c_e.astype(dtype)
            self.const = Matrix(e_src, e_dst, c_e, (n_src, n_out), dtype, self.dense)
            self.zc = np.bincount(e_dst, c_e, n_out)

    def f_values(self, A):
        """The row-dependent factors ``f_k(A, l, h)``."""
        return [t.f_fn(A, self.l, self.h) for t, *_ in self.terms]

    def z_parts(self, F):
        """The products ``f_k @ g_k(W)`` of ``Z`` (except the one the forward pass gave)."""
        return [M.left(f) for (_, M, _, skip), f in zip(self.terms, F) if not skip]

    def backward(self, F, S):
        """``Σ_k f_k * (S @ g_k(W).T)`` plus the constant terms' ``S @ C.T``."""
        out = None
        for (_, M, _, _), f in zip(self.terms, F):
            T = M.left_t(S)
            T *= f
            out = accumulate(out, T)
        if self.c_e is not None:
            out = accumulate(out, self.const.left_t(S))
        return out

    def messages(self, F, S):
        """The message on each edge, shape ``(batch, n_edges)``."""
        q = 0 if self.c_e is None else self.c_e
        for (_, _, g_e, _), f in zip(self.terms, F):
            q = q + f[:, self.e_src] * g_e
        return q * S[:, self.e_dst]

    def q_edges(self, A):
        """Non-separable rules: ``q`` on every edge, shape ``(rows, n_edges)``."""
        Q = self.kernel.q_fn(A[:, self.e_src], self.w, self.l_e, self.h_e, self.gamma)
        return np.broadcast_to(Q, (len(A), len(self.w))).astype(A.dtype)
