"""Compile a network to batched NumPy propagation: ``symdtd.compile(network)``.

The rules are not hand-coded: each rule's numerator comes from
:func:`symdtd.derive`, split into separable terms and lambdified by
:mod:`symdtd.compiler.rule_kernels` (:func:`~symdtd.compiler.rule_kernels.rule_kernel`).
:class:`CompiledNetwork` groups the neurons into blocks (:mod:`symdtd.compiler.blocks`)
— one per topological generation and rule — whose weights are dense matrices
where the block is dense and ``scipy.sparse`` ones where it is not (skip
connections, pooling, arbitrary DAGs); :mod:`symdtd.compiler.kernels` runs them:

* forward: ``P = Σ_src A_src @ W``, ``A = max(0, P + b)`` (ReLU columns);
* backward: ``Z = Σ_k f_k(A_src) @ g_k(W)`` (the ``x·w`` term reuses ``P``),
  ``S = R / Z`` (0 where ``Z = 0``), ``R_src += Σ_k f_k(A_src) * (S @ g_k(W).T)``.

The answers are those of ``propagate(..., arithmetic="exact")`` — same
rules, same zero-denominator, bound and positive-bias conventions — in
floating point. A zero denominator gives 0 (never NaN or inf). Zero is
decided by :func:`symdtd.propagation.arithmetic.zero_denominator`, the rule
``propagate`` uses too: ``|Z| ≤ n·u·Σ|part|`` (``u`` the unit roundoff,
``n`` the fan-in plus the number of parts), i.e. parts computed apart that
cancel to rounding level, as ``X @ W`` and zᴮ's folded ``−l·w⁺ − h·w⁻`` do
at a box corner where every ``q`` is 0. A numerator that does not split (a user direction such as
``x·1[x w > 0]``) is evaluated edge by edge over the batch instead:
correct, but slower (``batch × edges`` work and memory).

Examples
--------
>>> import numpy as np
>>> from symdtd import Network, Box, compile
>>> net = Network.from_dense([[[1, -1], [1, 1]], [[1], [1]]], [[0, -1], [0]],
...                          input_domain=Box(0, 1))
>>> model = compile(net)
>>> X = np.array([[1.0, 0.5], [0.25, 0.0]])
>>> model.forward(X)
array([[1.5 ],
       [0.25]])
>>> e = model.explain(X)
>>> e.relevance
array([[1.  , 0.5 ],
       [0.25, 0.  ]])
>>> e.conservation.residual
array([0., 0.])
>>> [(t.f, t.g) for t in rule_kernel("zB").terms]
[(x, w), (h, -Min(0, w)), (l, -Max(0, w))]
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import DTypeLike

from ..core import progress
from ..core.numbers import RealLike
from ..network.composites import Composite, WithParameters
from ..network.graph import Network
from ..network.layer_graph import LayerNetwork
from ..network.rule_choice import as_composite
from .batch import (
    BatchExplanation,
    ConservationReport,
    check_finite,
    check_inputs,
    check_target,
    even_chunks,
    join_chunks,
    numeric_bound,
    rows_per_chunk,
    warn_negative_outputs,
)
from .blocks import DENSE_THRESHOLD, NetworkBlocks
from .blockwise import Blockwise
from .kernels import BlockTotals, row_sums
from .layer_pass import CompiledLayerNetwork, compile_layers
from .rule_kernels import RuleKernel, lambdify, rule_kernel
from .separable import Term, split_separable
from .stack import DenseStack

# the kernel names are defined in rule_kernels and separable; they stay importable from here
__all__ = ["compile", "CompiledNetwork", "BatchExplanation", "ConservationReport",
           "RuleKernel", "Term", "rule_kernel", "split_separable", "lambdify", "CHUNK_ELEMENTS"]

#: float64 values (rows × (inputs + neurons)) per chunk of ``explain``/``forward``, so that
#: memory is flat in rows; the budget is in bytes: float32 chunks hold twice the values
CHUNK_ELEMENTS = 2 ** 20


def compile(network: Network | LayerNetwork, dtype: DTypeLike = np.float64, *,
            composite: Composite | None = None, maxpool: str | None = None,
            parameters: Mapping[str, RealLike] | None = None,
            dense_threshold: float = DENSE_THRESHOLD, backend: str = "numpy",
            device: str | None = None) -> CompiledNetwork | CompiledLayerNetwork:
    """Compile *network* to batched NumPy forward and explanation passes.

    One network, two granularities: a neuron-level
    :class:`~symdtd.network.graph.Network` compiles to a
    :class:`CompiledNetwork`; a :class:`~symdtd.network.layer_graph.LayerNetwork`
    to the layer-level pass, ``compile_layers(network, backend=, device=,
    composite=, maxpool=, parameters=, dtype=)``
    (:class:`~symdtd.compiler.layer_pass.CompiledLayerNetwork`).

    Parameters
    ----------
    network : Network or LayerNetwork
        Numeric weights and biases (numbers or exact ``Rational``).
    dtype : {numpy.float64, numpy.float32}
        The floating-point type of every array.
    composite : Composite, optional
        Which rule each neuron uses (:mod:`symdtd.network.composites`);
        default :class:`~symdtd.network.composites.PaperDefault`. Rule
        parameters (γ) are read from the rule instances, as ``propagate`` does.
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule on top of *composite*.
    parameters : dict, optional
        Rule parameters, e.g. ``{"gamma": 0.5}``, set on every rule that takes
        them: a shortcut for ``composite=WithParameters(parameters, composite)``.
    dense_threshold : float
        Density (edges / matrix entries) from which a block's weights are
        stored as a dense matrix rather than a sparse one (neuron level only).
    backend : {"numpy", "torch"}
        What runs a layer network's dense and convolution maps (layer networks only).
    device : str, optional
        The torch device of the torch backend (layer networks only).

    Returns
    -------
    CompiledNetwork or CompiledLayerNetwork

    Raises
    ------
    ValueError
        A symbolic weight or bias, a cycle, a neuron without inputs, a rule
        parameter missing, a box rule on an input with a symbolic ``Box()``;
        ``backend``/``device`` other than the defaults for a neuron-level network.

    Examples
    --------
    >>> from symdtd import Box
    >>> from symdtd.network import LayerNetwork
    >>> from symdtd.network.layers import Dense
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,), Box(0, 1))
    >>> _ = net.add_layer("y", Dense([[1.0, 1.0]], activation="linear"))
    >>> compile(net)
    CompiledLayerNetwork(LayerNetwork(2 layers, inputs=['x'], output='y'), numpy, float64)
    >>> compile(net.neurons())
    CompiledNetwork(2 inputs, 1 outputs, 1 generations, 1 blocks, float64)
    """
    if isinstance(network, LayerNetwork):
        return compile_layers(network, backend=backend, device=device, composite=composite,
                              maxpool=maxpool, parameters=parameters, dtype=dtype)
    if backend != "numpy" or device is not None:
        raise ValueError("backend= and device= are for layer networks (symdtd.network.LayerNetwork); "
                         "a neuron-level Network compiles to NumPy")
    return CompiledNetwork(network, dtype, composite=composite, maxpool=maxpool,
                           parameters=parameters, dense_threshold=dense_threshold)


class CompiledNetwork:
    """A network compiled to NumPy; build it with :func:`compile`.

    Parameters
    ----------
    network : Network
        Numeric weights and biases (numbers or exact ``Rational``).
    dtype : {numpy.float64, numpy.float32}
        The floating-point type of every array.
    composite : Composite, optional
        Which rule each neuron uses; default the paper's choice.
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule on top of *composite*.
    parameters : dict, optional
        Rule parameters (e.g. ``{"gamma": 0.5}``) set on every rule that takes them.
    dense_threshold : float
        Density from which a block's weights are stored as a dense matrix.

    Attributes
    ----------
    inputs, outputs : list of str
        Input columns of ``X`` and the outputs ``target`` indexes.
    dtype : numpy.dtype
    positive_bias : list of str
        Neurons with a positive bias: their root point leaves the domain.
    rules : dict
        ``neuron -> rule name`` (``"winner"`` for winner-take-all pooling).
    n_edges : int
    """

    def __init__(self, network, dtype=np.float64, *, composite=None, maxpool=None,
                 parameters=None, dense_threshold=DENSE_THRESHOLD):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        composite = as_composite(composite, maxpool)
        if parameters is not None:
            composite = WithParameters(parameters, composite, where="compile(parameters=...)")
        self._blocks = blocks = NetworkBlocks(network, self.dtype, rule_kernel,
                                              composite=composite,
                                              dense_threshold=dense_threshold)
        self.inputs, self.outputs = blocks.inputs, blocks.outputs
        self.positive_bias, self.rules, self.n_edges = (blocks.positive_bias, blocks.rules,
                                                        blocks.n_edges)
        self._names, self._gens = blocks.names, blocks.gens
        self._domains = [network.graph.nodes[p]["domain"] for p in self.inputs]
        self._low = np.array([numeric_bound(d, 0) for d in self._domains])
        self._high = np.array([numeric_bound(d, 1) for d in self._domains])
        if len(self._low) and (self._low == self._low[0]).all() and (self._high == self._high[0]).all():
            self._low, self._high = float(self._low[0]), float(self._high[0])  # one box: scalars
        # per-network plans, so that an explain call does no bookkeeping of its own
        self._width = sum(len(n) for n in self._names)    # values per row (chunk_rows)
        self._labels = [f"generation {b.gen}: {b.name} ({len(b.cols)} neurons)"
                        for gen in self._gens for b in gen.blocks]
        self._general = Blockwise(blocks)
        self._stack = DenseStack.of(blocks)    # None unless a plain dense stack (an MLP)

    # ------------------------------------------------------------------- run
    def forward(self, X, *, chunk_size=None):
        """The outputs for a batch.

        Parameters
        ----------
        X : array-like, shape (batch, n_inputs)
            Columns in the order of :attr:`inputs` (a 1-D array is one row).
            Values outside the input domains are allowed here (not NaN/inf).
        chunk_size : int, optional
            Rows computed at a time (default: :meth:`chunk_rows`).

        Returns
        -------
        numpy.ndarray, shape (batch, len(outputs))
        """
        X = check_inputs(X, self.inputs, self._domains, self._low, self._high, self.dtype,
                         domain=False)
        step = self.chunk_rows(chunk_size)
        if chunk_size is None:
            step = even_chunks(len(X), step)
        out = np.empty((len(X), len(self.outputs)), self.dtype)
        run = self._stack or self._general
        for start in range(0, len(X), step):
            out[start:start + step] = run.outputs(X[start:start + step])
        return out

    def explain(self, X, target=None, *, return_neurons=False, return_edges=False,
                absorb_bias=False, chunk_size=None):
        """Deep Taylor decomposition of one output per row onto the inputs.

        Parameters
        ----------
        X : array-like, shape (batch, n_inputs)
            Columns in the order of :attr:`inputs` (a 1-D array is one row);
            every value must lie in its input's domain.
        target : int, str or array-like, optional
            Index into :attr:`outputs` (or an output's name), or one per row.
            Optional when there is a single output.
        return_neurons : bool
            Also return every neuron's relevance.
        return_edges : bool
            Also return every edge's message (``batch × edges`` memory).
        absorb_bias : bool
            Put ``b⁺`` in the denominators, as ``propagate(absorb_bias=True)``.
        chunk_size : int, optional
            Rows propagated at a time, so that working memory does not grow
            with the batch (only the results do); default :meth:`chunk_rows`.
            The results do not depend on it.

        Returns
        -------
        BatchExplanation

        Raises
        ------
        ValueError
            Wrong width or dtype of ``X``, NaN or inf in ``X``, a value outside
            its input's domain, a ``target`` out of range, a ``chunk_size``
            that is not a positive integer; the message names the argument
            and the offending rows. Also when the float arithmetic overflowed
            (weights near the float type's largest value), naming the rows.

        Warns
        -----
        NegativeOutputWarning
            Naming the rows whose explained output is negative (``x_f < 0``,
            e.g. a logit that did not win): the root search assumes ``x_f > 0``.
        """
        X = check_inputs(X, self.inputs, self._domains, self._low, self._high, self.dtype)
        t = check_target(target, len(X), self.outputs)
        step = self.chunk_rows(chunk_size, return_edges=return_edges)
        if chunk_size is None:
            step = even_chunks(len(X), step)
        if step >= len(X):
            result = self._explain(X, t, return_neurons=return_neurons,
                                   return_edges=return_edges, absorb_bias=absorb_bias)
        else:
            options = {"return_neurons": return_neurons, "return_edges": return_edges,
                       "absorb_bias": absorb_bias}
            # each chunk writes its inputs' relevance straight into the result's rows
            relevance = np.empty((len(X), len(self.inputs)), self.dtype)
            chunks = ((rows, self._explain(X[rows], t[rows], into=relevance[rows], **options))
                      for rows in progress.chunks(len(X), step, "explain"))
            result = join_chunks(chunks, len(X), relevance)
        check_finite(result.conservation.residual, self.dtype)
        warn_negative_outputs(result.output, t, self.outputs)  # once, with the batch's rows
        return result

    def chunk_rows(self, chunk_size=None, *, return_edges=False):
        """Rows per chunk of :meth:`explain` and :meth:`forward`: *chunk_size* (a
        positive integer) or ``max(1, CHUNK_ELEMENTS // width)``, ``width`` the inputs
        plus neurons (plus edges with *return_edges*): ~40 MB of float64 work arrays.
        The budget is in bytes: in float32, twice as many rows.

        >>> from symdtd import examples
        >>> compile(examples.xor()).chunk_rows(), compile(examples.xor()).chunk_rows(100)
        (209715, 100)
        """
        if chunk_size is None and not return_edges:   # the common case, cheaply
            return max(1, CHUNK_ELEMENTS * 8 // (self._width * self.dtype.itemsize))
        width = self._width + (self.n_edges if return_edges else 0)
        return rows_per_chunk(chunk_size, width, CHUNK_ELEMENTS * 8 // self.dtype.itemsize)

    def _explain(self, X, t, *, return_neurons, return_edges, absorb_bias, into=None):
        """:meth:`explain` on checked rows, all at once: a plain dense stack by its
        fast path (:class:`~symdtd.compiler.stack.DenseStack`), the rest block by block
        (:class:`~symdtd.compiler.blockwise.Blockwise`). The inputs' relevance is
        written into the array *into* when given."""
        if self._stack is not None and not return_edges:
            run = self._stack.explain(X, t, absorb_bias=absorb_bias, into=into)
        else:
            run = self._general.explain(X, t, absorb_bias=absorb_bias,
                                        n_edges=self.n_edges if return_edges else None)
            if into is not None:
                into[...] = run.R[0]
                run.R[0] = into
        R, x_f, ps = run.R, run.x_f, run.ps
        output = x_f.astype(np.float64)
        report = ConservationReport(row_sums(R[0]) - output, output, ps.lost, ps.zero_count,
                                    ps.absorbed, BlockTotals(self._labels, run.totals, R[1:]),
                                    list(self.positive_bias), self.dtype)
        neurons = np.concatenate(R[1:], axis=1) if return_neurons else None
        return BatchExplanation(R[0], x_f, t, self.inputs, self.outputs, report, neurons,
                                [n for names in self._names[1:] for n in names] if return_neurons
                                else None, ps.edges, self.edge_names() if return_edges else None)

    # --------------------------------------------------------------- display
    def edge_names(self):
        """``[(source, target), …]`` in the order of the ``edges`` columns."""
        return self._blocks.edge_names()

    @property
    def kernels(self):
        """``{(rule name, binding): RuleKernel}`` of the rules in use."""
        return dict(self._blocks.kernels)

    def source(self):
        """The generated NumPy source of every rule kernel in use (for teaching)."""
        return "\n\n".join(k.source() for k in self._blocks.kernels.values())

    def describe(self):
        """One line per block: generation, rule, size, and each source's storage.

        >>> from symdtd import examples
        >>> print(compile(examples.skip_dag()).describe())
        generation 1: zB, 2 neurons
            from generation 0: 3×2 dense, 3 edges
            from generation 0: 3×2 dense, 2 edges, h=x
        generation 2: z+, 1 neurons
            from generation 1: 2×1 dense, 2 edges
        generation 3: zB, 1 neurons
            from generation 0: 3×1 dense, 1 edges
            from generation 1: 2×1 dense, 1 edges, h=x
            from generation 2: 1×1 dense, 1 edges, h=x

        A plain dense stack (an MLP) says that :meth:`explain` takes its fast path
        (:class:`~symdtd.compiler.stack.DenseStack`) when no edge messages are asked for:

        >>> print(compile(examples.xor()).describe().splitlines()[-1])
        explained as a plain dense stack (fast path; return_edges=True takes the general one)
        """
        text = self._blocks.describe()
        if self._stack is not None:
            text += ("\nexplained as a plain dense stack (fast path; return_edges=True takes "
                     "the general one)")
        return text

    def __repr__(self):
        n_blocks = sum(len(g.blocks) for g in self._gens)
        return (f"CompiledNetwork({len(self.inputs)} inputs, {len(self.outputs)} outputs, "
                f"{len(self._gens)} generations, {n_blocks} blocks, {self.dtype})")
