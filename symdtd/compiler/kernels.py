"""Numeric kernels of compiled networks: blocks of neurons as matrix products.

:mod:`symdtd.compiler.rule_kernels` turns each rule's derived numerator into separable,
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

The matrices and the edges of one source generation (:class:`~symdtd.compiler.segments.Segment`)
are in :mod:`symdtd.compiler.segments`; here are the blocks that run them
(:class:`Block`, :class:`MaxPool`) and the state of one backward pass
(:class:`Pass`). The batch results and the checks of ``X`` and ``target``
live in :mod:`symdtd.compiler.batch`.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from ..propagation.arithmetic import UNIT_ROUNDOFF, zero_denominator
from .segments import accumulate

__all__ = ["Block", "MaxPool", "Pass", "PassResult", "BlockTotals", "denominator", "zero_floor",
           "all_above", "all_true", "row_sums"]


# --------------------------------------------------------------------- runtime
# The objects below are built by symdtd.blocks and run on arrays only.

class Pass:
    """The state of one batched backward pass: relevance per generation and tallies."""

    def __init__(self, A, P, slots, sizes, n_edges, absorb):
        batch = len(A[0])
        self.A, self.P, self.slots, self.sizes, self.absorb = A, P, slots, sizes, absorb
        self.dtype = A[0].dtype
        self.R = [None] * len(A)
        self.lost, self.absorbed = np.zeros((2, batch))   # two rows of one array: one call
        self.zero_count = np.zeros(batch, dtype=np.int64)
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

    def scale(self, Rb, Z, bplus, rows=slice(None), mag=None, count=1, number=None):
        """``S = R / Z`` with 0 where ``Z`` is zero; tallies lost and absorbed relevance.

        *mag* (``Σ |part|`` of the *count* roundings that formed ``Z``) lets
        :func:`~symdtd.propagation.arithmetic.zero_denominator` tell a rounding residue of
        parts that cancel from a real denominator; without it ``Z`` must be 0.
        *number* is the name of ``Z``'s float type (default: read from ``Z``).
        """
        absorb = self.absorb and bplus is not None
        if absorb:
            Z += bplus
            mag, count = (None, count) if mag is None else (mag + bplus, count + 1)
        if mag is None:
            nonzero = Z != 0
        else:
            nonzero = ~zero_denominator(Z, mag, count, number or Z.dtype.name)
        if all_true(nonzero):   # the common case: no zero denominator
            S = Rb / Z
        else:
            S = np.divide(Rb, Z, out=np.zeros(Z.shape, Z.dtype), where=nonzero)
            held = np.where(nonzero, 0, Rb)
            self.lost[rows] += held.sum(axis=1)
            self.zero_count[rows] += np.count_nonzero(held, axis=1)
        if absorb:
            self.absorbed[rows] += S @ bplus
        return S


def denominator(parts, zc, zc_abs, R):
    """``(Z, magnitude)``: the parts of a block's denominator and its constants summed.

    Parts computed apart can cancel (``x·w`` against ``−l·w⁺ − h·w⁻`` at a box
    corner): their magnitude ``Σ |part|`` (None for a single part) tells a
    rounding residue from a real denominator. The first part is summed into
    in place. *R* (the block's relevance) gives the shape and type of a
    denominator without row-dependent parts.

    >>> denominator([np.array([[1.0, -2.0]])], np.array([-1.0, 1.0]), np.array([1.0, 1.0]),
    ...             np.zeros((1, 2)))
    (array([[ 0., -1.]]), array([[2., 3.]]))
    """
    mag = None
    if len(parts) + (zc is not None) > 1:
        mag = np.abs(parts[0]) if parts else np.zeros(R.shape, R.dtype)
        for p in parts[1:]:
            mag += np.abs(p)
        if zc is not None:
            mag += zc_abs
    if parts:
        Z = parts[0]
        for p in parts[1:]:
            Z += p
    else:  # only constant parts, or none at all (a block whose weights are all 0)
        Z = np.zeros(R.shape, R.dtype)
    if zc is not None:
        Z += zc
    return Z, mag


def zero_floor(constant_abs, count, number):
    """Per column, a ``|Z|`` above which a denominator of two parts is never zero.

    For ``Z = P + c`` (one row-dependent part and a constant ``c`` per
    column), :func:`~symdtd.propagation.arithmetic.zero_denominator` calls
    ``Z`` zero when ``|Z| ≤ k·(|P| + |c|)``, ``k = count·u``. Since
    ``|P| ≤ |Z|/(1 − u) + |c|``, every ``|Z| > 3·k·|c|`` is nonzero whatever
    ``P`` was, as long as ``k ≤ 0.01`` (rounding of the test included). Returns
    None when ``k`` is larger (the full test is then always used).

    >>> zero_floor(np.array([1.0, 0.0]), 100, "float64")
    array([3.33066907e-14, 0.00000000e+00])
    """
    k = count * UNIT_ROUNDOFF[number]
    return None if k > 0.01 else (3 * k * np.asarray(constant_abs, np.float64)).astype(number)


def all_above(Z, floor):
    """Every entry of *Z* finite and above the number *floor*, by two reductions.

    A denominator above the largest column of :func:`zero_floor` needs no
    zero test. NaN fails both comparisons; a negative entry only sends ``Z``
    to the full test.

    >>> all_above(np.array([[0.5, 2.0]]), 0), all_above(np.array([[0.5, np.inf]]), 0)
    (True, False)
    """
    return bool(np.minimum.reduce(Z, axis=None) > floor
                and np.maximum.reduce(Z, axis=None) < np.inf)


def all_true(mask):
    """``mask.all()`` for a boolean array, by the faster of two NumPy routes for its size.

    >>> all_true(np.array([True, True])), all_true(np.ones((300, 300), bool))
    (True, True)
    """
    if mask.size <= 4096:   # a reduction's fixed cost dominates small arrays
        return bool(np.count_nonzero(mask) == mask.size)
    return bool(np.logical_and.reduce(mask, axis=None))


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def row_sums(a):
    """``Σ_j a[:, j]`` per row as float64, by a BLAS matrix-vector product with ones.

    The relevance totals of :class:`~symdtd.compiler.batch.ConservationReport` are
    summed this way on every path (several times faster than a reduction that
    casts float32 to float64); the sum is rounded in *a*'s float type, like
    the relevance it adds up.

    >>> row_sums(np.array([[1.0, 2.0], [0.5, 0.25]], np.float32))
    array([3.  , 0.75])
    """
    return (a @ _ones(a.shape[1], a.dtype)).astype(np.float64, copy=False)


class BlockTotals(Sequence):
    """``[(label, total), …]``: the relevance entering each block per row, summed on first use.

    A :class:`~symdtd.compiler.batch.ConservationReport`'s ``blocks``. A total
    given as None is ``row_sums`` of the block's relevance, computed when the
    list is first read (the dense stack's hidden layers: two NumPy calls per
    layer saved on every explain call whose report is not read, a tenth of a
    one-row call); the relevance arrays are then released.

    Parameters
    ----------
    labels : list of str
    totals : list of ndarray or None
        Float64, one figure per row.
    relevance : list of ndarray
        Indexed like *totals*: the block's relevance, read where *totals* has None.

    Examples
    --------
    >>> blocks = BlockTotals(["h", "y"], [None, np.array([3.0])], [np.array([[1.0, 2.0]]), None])
    >>> len(blocks), blocks[0][0], blocks[0][1]
    (2, 'h', array([3.]))
    """

    def __init__(self, labels, totals, relevance):
        self.labels, self.pending = list(labels), (list(totals), list(relevance))
        self.items = None

    def summed(self):
        """The list of ``(label, total)``, summing the pending totals once."""
        if self.items is None:
            totals, relevance = self.pending
            self.items = [(label, row_sums(relevance[k]) if t is None else t)
                          for k, (label, t) in enumerate(zip(self.labels, totals))]
            self.pending = None
        return self.items

    def __getitem__(self, k):
        return self.summed()[k]

    def __len__(self):
        return len(self.labels)

    def __eq__(self, other):
        return isinstance(other, Sequence) and self.summed() == list(other)

    def __repr__(self):
        return repr(self.summed())


class PassResult:
    """What one backward pass computed: relevance per generation, outputs, totals, tallies.

    Parameters
    ----------
    R : list of ndarray
        Relevance of each generation, inputs first, shape ``(batch, n_g)``.
    x_f : ndarray
        The explained output per row (the network's float type).
    totals : list of ndarray or None
        The relevance entering each block per row (float64), in the order of
        the generations and of their blocks; None for a total left to
        :class:`BlockTotals` (that block's relevance is ``R[k + 1]``).
    ps : Pass
        The pass's tallies: ``lost``, ``zero_count``, ``absorbed`` and ``edges``.
    """

    def __init__(self, R, x_f, totals, ps):
        self.R, self.x_f, self.totals, self.ps = R, x_f, totals, ps


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
        self.zc_abs = None if self.zc is None else np.abs(self.zc)   # its part of Σ |part|
        self.number = np.dtype(dtype).name
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
        for s, f in zip(self.segments, F):
            parts += s.z_parts(f)
        n_parts = len(parts) + (self.zc is not None)
        Z, mag = denominator(parts, self.zc, self.zc_abs, Rb)
        S = ps.scale(Rb, Z, self.bplus, mag=mag, count=self.fan_in + n_parts, number=self.number)
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
