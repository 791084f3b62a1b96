"""The general pass of a compiled network: generation by generation, block by block.

Any network :mod:`symdtd.compiler.blocks` lays out — skip connections, pooling,
several rules in a generation, outputs in different generations, sparse
storage — runs here; a plain dense stack has a faster path
(:mod:`symdtd.compiler.stack`). The forward pass keeps each generation's
activations (and the pre-activations a block reuses as ``Z``'s ``x·w``
part); the backward pass puts each row's output relevance on its output and
runs the blocks (:class:`~symdtd.compiler.kernels.Block`) from the last
generation down, skipping those that receive no relevance.

Examples
--------
>>> import numpy as np
>>> from symdtd import examples
>>> from symdtd.compiler.blocks import NetworkBlocks
>>> from symdtd.compiler.rule_kernels import rule_kernel
>>> general = Blockwise(NetworkBlocks(examples.skip_dag(), np.float64, rule_kernel))
>>> X = np.array([[1.0, 0.5, 0.25]])
>>> run = general.explain(X, np.array([0]), absorb_bias=False)
>>> bool(run.x_f[0] == general.outputs(X)[0, 0])        # the forward pass's output
True
>>> bool(np.isclose(run.R[0].sum(), run.x_f[0])), len(run.totals)   # conserved; 3 blocks
(True, 3)
"""
from __future__ import annotations

import numpy as np

from .kernels import Pass, PassResult, row_sums
from .segments import accumulate

__all__ = ["Blockwise"]


class Blockwise:
    """The general forward and backward passes over a network's blocks.

    Parameters
    ----------
    blocks : NetworkBlocks
        The network's layout (:class:`~symdtd.compiler.blocks.NetworkBlocks`).
    """

    def __init__(self, blocks):
        self.gens, self.out, self.dtype = blocks.gens, blocks.out, blocks.dtype
        self.sizes = [len(n) for n in blocks.names]
        out_gens = np.unique(self.out[:, 0])
        self.out_gen = int(out_gens[0]) if len(out_gens) == 1 else None

    def forward(self, X):
        """``(A, P, slots)`` per generation: activations, kept pre-activations, pooling winners."""
        A, P, slots = [X], [None], [None]
        for gen in self.gens:
            Pg = None
            for src, M in gen.fwd:
                Pg = accumulate(Pg, M.left(A[src]))
            if Pg is None:
                Pg = np.zeros((len(X), gen.n), self.dtype)
            if gen.keep_p:
                Ag = Pg + gen.bias
            else:
                Ag = Pg
                Ag += gen.bias
            for kind, cols in gen.activations:  # one call per kind, not per neuron
                if cols is None:
                    Ag = kind.activate_batch(Ag)
                else:
                    Ag[:, cols] = kind.activate_batch(Ag[:, cols])
            slots.append(gen.maxpool.forward(A, Ag) if gen.maxpool else None)
            A.append(Ag)
            P.append(Pg if gen.keep_p else None)
        return A, P, slots

    def outputs(self, X):
        """The network's outputs for checked rows *X*, shape ``(batch, n_outputs)``."""
        A = self.forward(X)[0]
        return np.stack([A[g][:, c] for g, c in self.out.tolist()], axis=1)

    def explain(self, X, t, *, absorb_bias, n_edges=None) -> PassResult:
        """The backward pass for output ``t[r]`` of each row of checked *X*.

        *n_edges*: record every edge's message (``batch × n_edges``).
        """
        A, P, slots = self.forward(X)
        sizes = self.sizes
        ps = Pass(A, P, slots, sizes, n_edges, absorb_bias)
        batch = len(X)
        oc = self.out[t, 1]
        if self.out_gen is not None:     # every output in one generation: no grouping of rows
            g, rows = self.out_gen, np.arange(batch)
            x_f = A[g][rows, oc]
            ps.R[g] = np.zeros((batch, sizes[g]), self.dtype)
            ps.R[g][rows, oc] = x_f
        else:
            og = self.out[t, 0]
            x_f = np.empty(batch, self.dtype)
            for g in np.unique(og):
                rows = np.flatnonzero(og == g)
                x_f[rows] = A[g][rows, oc[rows]]
                ps.R[g] = np.zeros((batch, sizes[g]), self.dtype)
                ps.R[g][rows, oc[rows]] = x_f[rows]
        per_gen = []
        for gen in reversed(self.gens):
            Rg = ps.R[gen.index]
            per_gen.append([])
            for block in gen.blocks:
                Rb = None if Rg is None else Rg if block.full else Rg[:, block.cols]
                total = np.zeros(batch) if Rb is None else row_sums(Rb)
                per_gen[-1].append(total)
                if Rb is not None and (total.any() or Rb.any()):  # signed relevance may sum to 0
                    block.run(ps, Rb)
        R = [r if r is not None else np.zeros((batch, n), self.dtype) for r, n in zip(ps.R, sizes)]
        return PassResult(R, x_f, [t for totals in reversed(per_gen) for t in totals], ps)
