"""The fast path of a plain stack of dense layers, which ``compile`` picks by itself.

A network whose every generation is one dense block of one rule, fed only by
the generation below it — an MLP — needs none of the general pass's
bookkeeping (blocks per rule, several source generations, rows grouped by
the generation of their output, blocks skipped when their relevance is 0).
:class:`DenseStack` runs it as a plain loop of matrix products over the
matrices that :mod:`symdtd.compiler.blocks` built at compile time: the
forward weights, and each derived term's modified weights ``g_k(W)`` with its
factor ``f_k(x, l, h)`` lambdified from the rule's derivation
(:mod:`symdtd.compiler.rule_kernels`; no rule is written out here). The
formulas, their order of summation and the zero-denominator rule
(:meth:`Pass.scale <symdtd.compiler.kernels.Pass.scale>`) are those of
:class:`~symdtd.compiler.kernels.Block`, so both paths give the same numbers.

Examples
--------
>>> import numpy as np
>>> from symdtd import Box, Network
>>> from symdtd.compiler.blocks import NetworkBlocks
>>> from symdtd.compiler.rule_kernels import rule_kernel
>>> net = Network.from_dense([[[1, -1], [1, 1]], [[1], [1]]], [[0, -1], [0]],
...                          input_domain=Box(0, 1))
>>> stack = DenseStack.of(NetworkBlocks(net, np.float64, rule_kernel))
>>> stack
DenseStack(2 layers: zB 2, z+ 1)
>>> run = stack.explain(np.array([[1.0, 0.5]]), np.array([0]), absorb_bias=False)
>>> run.R[0], run.x_f
(array([[1. , 0.5]]), array([1.5]))
"""
from __future__ import annotations

import numpy as np

from .kernels import Pass, PassResult, all_above, denominator, zero_floor
from .segments import accumulate

__all__ = ["DenseStack", "StackLayer"]


class StackLayer:
    """One generation of a dense stack: its forward map and its block's derived terms.

    Parameters
    ----------
    gen : Generation
        A generation of :class:`~symdtd.compiler.blocks.NetworkBlocks` that
        :meth:`DenseStack.of` accepted: one dense forward matrix from the
        generation below, one block covering it, separable, without pooling.
    """

    def __init__(self, gen):
        (_, fwd), = gen.fwd
        block, = gen.blocks
        self.W, self.bias, self.keep_p = fwd.M, gen.bias, gen.keep_p
        self.activate = gen.activations[0][0].activate_batch if gen.activations else None
        self.name, self.reuse, self.bplus = block.name, block.reuse, block.bplus
        self.zc, self.zc_abs, self.number = block.zc, block.zc_abs, block.number
        # [f(x, l, h), l, h, g_k(W), a part of Z?] per row-dependent term, in Block's order
        self.terms = [(t.f_fn, s.l, s.h, self.shared(M.M), not skip)
                      for s in block.segments for t, M, _, skip in s.terms]
        consts = [s.const.M for s in block.segments if s.c_e is not None]
        # segments own disjoint source rows, so adding their constant matrices is exact
        C = None if not consts else consts[0] if len(consts) == 1 else sum(consts)
        # stored transposed: the backward pass is its only reader, and a row-major
        # right operand is BLAS's faster matrix-vector product for a small batch
        self.CT = None if C is None else np.ascontiguousarray(C.T)
        self.n_parts = self.reuse + sum(z for *_, z in self.terms) + (self.zc is not None)
        self.count = block.fan_in + self.n_parts
        pair = self.zc is not None and self.n_parts == 2   # Z = (one product) + constants
        self.single = None
        if self.n_parts == 1 and len(self.terms) == 1 and self.terms[0][4] and C is None:
            f, lo, hi, M, _ = self.terms[0]
            self.single = (f, lo, hi, M, M.T)
        floor = zero_floor(self.zc_abs, self.count, self.number) if pair else None
        # one number for the whole layer: every Z above the largest column floor is nonzero
        self.floor = None if floor is None else floor.max(initial=0).item()
        self.finite = pair and self.reuse and gen.index == 1 and self.bounded(block.segments)

    def bounded(self, segments):
        """Whether ``Z = X @ W + c`` stays finite for every checked input row: its
        sources are the network's inputs, each in a finite box, so that
        ``|Z_j| ≤ Σ_i max(|l_i|, |h_i|)·|W_ij| + |c_j|`` (then the quick zero test
        needs no check for ∞)."""
        if len(segments) != 1 or len(segments[0].l) != len(self.W):
            return False
        s = segments[0]
        reach = np.maximum(np.abs(s.l), np.abs(s.h)).astype(np.float64)
        if not np.isfinite(reach).all():
            return False
        bound = reach @ np.abs(self.W.astype(np.float64)) + np.abs(self.zc.astype(np.float64))
        return bool(bound.max(initial=0) < np.finfo(self.number).max / 4)

    def shared(self, M):
        """*M*, or the forward matrix when they are equal (``g(W) = W``): one copy of the
        weights read by both passes stays in the cache (a small batch is bound by
        reading them)."""
        return self.W if M.shape == self.W.shape and np.array_equal(M, self.W) else M

    def forward(self, A):
        """``(P, A_out)``: the pre-activation without bias (kept if Z reuses it) and the activation."""
        P = A @ self.W
        if self.keep_p:
            out = P + self.bias
        else:
            out, P = P, None
            out += self.bias
        if self.activate is not None:
            out = self.activate(out)
        return P, out

    def backward(self, ps, R, A, P, into=None):
        """The relevance of the generation below, from this layer's relevance *R*
        (written into the array *into* when given: a chunk's rows of the result).

        When no positive bias is absorbed and every denominator is clearly
        nonzero (all above 0 where only an exact 0 counts, above the layer's
        floor by :func:`~symdtd.compiler.kernels.all_above` where a rounding
        residue counts too), ``S = R / Z`` directly; otherwise :meth:`Pass.scale
        <symdtd.compiler.kernels.Pass.scale>` runs the zero test and tallies.
        """
        plain = self.bplus is None or not ps.absorb
        if self.single is not None:   # Z is one product (z+, w², …): no lists, no magnitude
            f, lo, hi, M, MT = self.single
            f = f(A, lo, hi)
            Z = f @ M
            # only an exact 0 is a zero here (no magnitude): every Z > 0 (NaN fails) needs no test
            S = R / Z if plain and np.minimum.reduce(Z, axis=None) > 0 else ps.scale(
                R, Z, self.bplus, count=self.count, number=self.number)
            T = np.matmul(S, MT, out=into)
            T *= f
            return T
        F = [f(A, lo, hi) for f, lo, hi, _, _ in self.terms]
        parts = [P] if self.reuse else []
        parts += [f @ M for f, (_, _, _, M, in_z) in zip(F, self.terms) if in_z]
        if self.floor is not None:    # Z = Q + c: one row-dependent part and the constants
            Q = parts[0]
            Z = Q + self.zc
            clear = np.minimum.reduce(Z, axis=None) > self.floor if self.finite \
                else all_above(Z, self.floor)   # a bounded Z needs no check for ∞
            S = R / Z if plain and clear else ps.scale(
                R, Z, self.bplus, mag=np.abs(Q) + self.zc_abs, count=self.count,
                number=self.number)
        else:
            Z, mag = denominator(parts, self.zc, self.zc_abs, R)
            S = ps.scale(R, Z, self.bplus, mag=mag, count=self.count, number=self.number)
        out = None
        for f, (_, _, _, M, _) in zip(F, self.terms):
            T = np.matmul(S, M.T, out=into if out is None else None)
            T *= f
            out = accumulate(out, T)
        if self.CT is not None:
            out = accumulate(out, np.matmul(S, self.CT, out=into if out is None else None))
        if out is None:   # no term at all: every weight is 0
            if into is None:
                return np.zeros((len(R), len(self.W)), R.dtype)
            into[...] = 0
            return into
        return out


class DenseStack:
    """A plain stack of dense layers, explained as a loop of matrix products.

    Build it with :meth:`of`, which returns None for any other network.

    Parameters
    ----------
    layers : list of StackLayer
        Generations 1, 2, … in order.
    out_cols : ndarray of int
        The column of each output in the last generation.
    """

    def __init__(self, layers, out_cols):
        self.layers = layers
        self.out_cols = None if np.array_equal(out_cols, np.arange(len(out_cols))) else out_cols
        self.sizes = [len(layers[0].W)] + [lay.W.shape[1] for lay in layers]
        self.down = layers[::-1]

    @classmethod
    def of(cls, blocks) -> DenseStack | None:
        """The fast path of *blocks* (a :class:`~symdtd.compiler.blocks.NetworkBlocks`),
        or None when it is not a plain dense stack: a generation fed by another
        than the one below, stored sparse, split into blocks (rules), with
        pooling, a mix of activations, a numerator that does not split, or
        outputs outside the last generation."""
        gens = blocks.gens
        if not gens or (blocks.out[:, 0] != len(gens)).any():
            return None
        for gen in gens:
            if (len(gen.fwd) != 1 or gen.fwd[0][0] != gen.index - 1 or not gen.fwd[0][1].dense
                    or gen.maxpool is not None or len(gen.blocks) != 1
                    or any(cols is not None for _, cols in gen.activations)):
                return None
            block = gen.blocks[0]
            if (not block.full or block.maxpool is not None or not block.separable
                    or not block.segments
                    or any(s.src != gen.index - 1 or not s.dense for s in block.segments)):
                return None
        return cls([StackLayer(gen) for gen in gens], blocks.out[:, 1])

    def outputs(self, X):
        """The network's outputs for checked rows *X*, shape ``(batch, n_outputs)``."""
        A = X
        for layer in self.layers:
            A = layer.forward(A)[1]
        return A if self.out_cols is None else A[:, self.out_cols]

    def explain(self, X, t, *, absorb_bias, into=None) -> PassResult:
        """Deep Taylor decomposition of output ``t[r]`` of each row of checked *X*,
        the inputs' relevance written into *into* when given.

        Returns
        -------
        PassResult
        """
        A, P = [X], [None]
        for layer in self.layers:
            p, a = layer.forward(A[-1])
            A.append(a)
            P.append(p)
        ps = Pass(A, P, None, self.sizes, None, absorb_bias)
        batch = len(X)
        rows = np.arange(batch)
        oc = t if self.out_cols is None else self.out_cols[t]
        x_f = A[-1][rows, oc]
        Rg = np.zeros((batch, self.sizes[-1]), X.dtype)
        Rg[rows, oc] = x_f
        R = [Rg]
        last = len(self.layers) - 1
        for k, (layer, a, p) in enumerate(zip(self.down, A[-2::-1], P[:0:-1])):
            Rg = layer.backward(ps, Rg, a, p, into if k == last else None)
            R.append(Rg)
        R.reverse()
        # summed when the report is read (the top generation's total is x_f: it holds x_f alone)
        return PassResult(R, x_f, [None] * len(self.layers), ps)

    def __repr__(self):
        return (f"DenseStack({len(self.layers)} layers: "
                + ", ".join(f"{lay.name} {lay.W.shape[1]}" for lay in self.layers) + ")")
