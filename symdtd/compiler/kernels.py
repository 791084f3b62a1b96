"""Numeric kernels of compiled networks: blocks of neurons as matrix products.

:mod:`symdtd.compiler.compiled` turns each rule's derived numerator into separable,
lambdified terms ``f_k(x, l, h) · g_k(w, γ)``, and :mod:`symdtd.compiler.blocks` groups
the network's neurons into blocks (topological generation × rule). The
objects here run those blocks on arrays — no SymPy — with these formulas
(the compile guide explains them)::

    Z     = Σ_k f_k(X) @ g_k(W)            (denominators, one per neuron)
    S     = R / Z                          (0 where Z = 0)
    R_in  = Σ_k f_k(X) * (S @ g_k(W).T)    (relevance of the inputs)

Terms whose ``f`` does not involve ``x`` (``−l·w⁺``, ``−h·w⁻``, the ``1`` of
the w² rule) are constants per input and are folded into one matrix
``C = Σ_k diag(f_k(l, h)) · g_k(W)``. A numerator that does not split is
evaluated edge by edge over the batch (in row chunks): correct, but it
costs ``batch × edges`` time and memory instead of matrix products.

The batch results and the checks of ``X`` and ``target`` live in
:mod:`symdtd.compiler.batch`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..propagation.arithmetic import zero_denominator

__all__ = ["Matrix", "SegmentEdges", "SourceBounds", "Storage", "Segment", "Block", "MaxPool", "Pass"]


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


# --------------------------------------------------------------------- runtime
# The objects below are built by symdtd.blocks and run on arrays only.

def accumulate(total, part):
    """``total + part``, in place when *total* already exists."""
    if total is None:
        return part
    total += part
    return total


class Pass:
    """The state of one batched backward pass: relevance per generation and tallies."""

    def __init__(self, A, P, slots, sizes, n_edges, absorb):
        batch = len(A[0])
        self.A, self.P, self.slots, self.sizes, self.absorb = A, P, slots, sizes, absorb
        self.dtype = A[0].dtype
        self.R = [None] * len(A)
        self.lost = np.zeros(batch)
        self.zero_count = np.zeros(batch, dtype=np.int64)
        self.absorbed = np.zeros(batch)
        self.edges = None if n_edges is None else np.zeros((batch, n_edges), self.dtype)

    def add(self, gen, part, rows=None):
        """Add a contribution to the relevance of generation *gen* (all or some rows)."""
        if part is None:  # every term vanished on these edges
            return
        if rows is None:
            self.R[gen] = accumulate(self.R[gen], part)
            return
        if self.R[gen] is None:
            self.R[gen] = np.zeros((len(self.A[0]), self.sizes[gen]), self.dtype)
        self.R[gen][rows] += part

    def scale(self, Rb, Z, bplus, rows=slice(None), mag=None, count=1):
        """``S = R / Z`` with 0 where ``Z`` is zero; tallies lost and absorbed relevance.

        *mag* (``Σ |part|`` of the *count* roundings that formed ``Z``) lets
        :func:`~symdtd.propagation.arithmetic.zero_denominator` tell a rounding residue of
        parts that cancel from a real denominator; without it ``Z`` must be 0.
        """
        if self.absorb and bplus is not None:
            Z += bplus
            mag, count = (None, count) if mag is None else (mag + bplus, count + 1)
        if mag is None:
            zero = Z == 0
        else:
            zero = zero_denominator(Z, mag, count, Z.dtype.name)
        S = np.divide(Rb, Z, out=np.zeros_like(Z), where=~zero)
        if zero.any():
            held = np.where(zero, Rb, 0)
            self.lost[rows] += held.sum(axis=1)
            self.zero_count[rows] += np.count_nonzero(held, axis=1)
        if self.absorb and bplus is not None:
            self.absorbed[rows] += S @ bplus
        return S


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


class Block:
    """The neurons of one topological generation that share a rule.

    ``rule`` is a :class:`~symdtd.core.rules.Rule` or a pooling rule
    (:mod:`symdtd.network.pooling`): winner-take-all max-pooling runs on the
    generation's :class:`MaxPool` table (passed as *maxpool*), the first of
    the largest inputs taking everything as
    :meth:`WinnerTakeAll.shares <symdtd.network.pooling.WinnerTakeAll.shares>` says.
    """

    def __init__(self, gen, cols, n_gen, rule, segments, bplus, dtype, maxpool=None,
                 affine=True):
        self.gen, self.cols, self.rule, self.segments = gen, cols, rule, segments
        self.full = len(cols) == n_gen
        self.maxpool = maxpool
        self.name = rule.name
        self.separable = all(s.kernel.separable for s in segments)
        zc = sum(s.zc for s in segments if s.zc is not None)
        self.zc = None if np.isscalar(zc) else zc.astype(dtype)
        self.bplus = bplus.astype(dtype) if bplus is not None and bplus.any() else None
        # the most products summed into one Z: bounds its rounding error
        fan_in = np.zeros(len(cols), np.int64)
        for s in segments:
            fan_in += np.bincount(s.e_dst, minlength=len(cols))
        self.fan_in = int(fan_in.max(initial=0))
        self.reuse = bool(segments) and self.separable and affine and all(
            any(t.is_xw for t, *_ in s.terms) for s in segments)
        if self.reuse:  # Z's x·w part is the forward pre-activation
            for s in segments:
                next(entry for entry in s.terms if entry[0].is_xw)[3] = True

    def run(self, ps, Rb):
        """Redistribute the block's relevance *Rb* onto its sources."""
        if self.maxpool is not None:
            return self._winner(ps, Rb)
        if not self.separable:
            return self._edgewise(ps, Rb)
        parts = []
        if self.reuse:
            P = ps.P[self.gen]
            parts.append(P if self.full else P[:, self.cols])  # P is not needed afterwards
        F = [s.f_values(ps.A[s.src]) for s in self.segments]
        parts += [p for s, f in zip(self.segments, F) for p in s.z_parts(f)]
        if self.zc is not None:
            parts.append(self.zc)
        # parts computed apart can cancel (x·w against −l·w⁺ − h·w⁻ at a box corner):
        # their magnitude tells a rounding residue from a real denominator
        mag = sum(np.abs(p) for p in parts) if len(parts) > 1 else None
        if parts and parts[0].ndim == 2:
            Z, rest = parts[0], parts[1:]
        else:  # only constant parts, or none at all (a block whose weights are all 0)
            Z, rest = np.zeros(Rb.shape, Rb.dtype), parts
        for p in rest:
            Z += p
        S = ps.scale(Rb, Z, self.bplus, mag=mag, count=self.fan_in + len(parts))
        for s, f in zip(self.segments, F):
            ps.add(s.src, s.backward(f, S))
            if ps.edges is not None:
                ps.edges[:, s.e_id] = s.messages(f, S)

    def _edgewise(self, ps, Rb):
        # q on every edge: batch × edges memory, so walk the batch in chunks
        n_edges = sum(len(s.e_id) for s in self.segments)
        step = max(1, 2 ** 22 // max(1, n_edges))
        for start in range(0, len(Rb), step):
            rows = slice(start, start + step)
            Q = [s.q_edges(ps.A[s.src][rows]) for s in self.segments]
            Z = np.zeros(Rb[rows].shape, Rb.dtype)
            parts = [s.to_out.left(q) for s, q in zip(self.segments, Q)]
            for p in parts:
                Z += p
            mag = sum(np.abs(p) for p in parts) if len(parts) > 1 else None
            S = ps.scale(Rb[rows], Z, self.bplus, rows, mag=mag,
                         count=self.fan_in + len(parts))
            for s, q in zip(self.segments, Q):
                M = q * S[:, s.e_dst]
                ps.add(s.src, s.to_src.left(M), rows)
                if ps.edges is not None:
                    ps.edges[rows, s.e_id] = M

    def _winner(self, ps, Rb):
        mp, pos = self.maxpool, self.maxpool.position[self.cols]
        slot = ps.slots[self.gen][:, pos]
        where = mp.idx[pos, slot]                      # column of the concatenated sources
        rows = np.broadcast_to(np.arange(len(Rb))[:, None], where.shape)
        for src, offset, n in mp.sources:
            mask = (where >= offset) & (where < offset + n)
            if mask.any():
                flat = rows[mask] * n + (where[mask] - offset)
                part = np.bincount(flat, Rb[mask], len(Rb) * n).reshape(len(Rb), n)
                ps.add(src, part.astype(Rb.dtype))
        if ps.edges is not None:
            ps.edges[rows, mp.edge_idx[pos, slot]] = Rb


class MaxPool:
    """Max-pooling neurons of one generation: a padded table of their inputs.

    ``idx[k]`` lists neuron ``k``'s inputs (in predecessor order, so ties go
    to the first) as columns of the concatenated source generations, padded
    with a column of ``kind.neutral`` (``-inf``). *kind* is the selecting
    :class:`~symdtd.network.kinds.NeuronKind` (max-pooling), which chooses.
    """

    def __init__(self, cols, n_gen, sources, idx, edge_idx, kind):
        self.cols, self.sources, self.idx, self.edge_idx = cols, sources, idx, edge_idx
        self.kind = kind
        self.position = np.full(n_gen, -1)
        self.position[cols] = np.arange(len(cols))

    def forward(self, A, out):
        """Write the maxima into *out*'s pooling columns; return the winning slots."""
        batch = len(out)
        pad = np.full((batch, 1), self.kind.neutral, out.dtype)
        V = np.concatenate([A[src] for src, _, _ in self.sources] + [pad], axis=1)[:, self.idx]
        slot = self.kind.choose_batch(V)
        out[:, self.cols] = np.take_along_axis(V, slot[..., None], axis=2)[..., 0]
        return slot
