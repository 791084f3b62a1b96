r"""Compiled relevance propagation at layer level: each layer's linear map run as a whole.

The same derived rules as :func:`symdtd.compile`, without unrolling a layer
into neurons. A rule's numerator splits into separable terms
``q_ij = Σ_k f_k(x_i, l_i, h_i) · g_k(w_ij, γ)`` (:func:`~symdtd.compiler.compiled.rule_kernel`,
from the derivation). The relevance formula of ``docs/maths.md``,

.. math::

    R_i = \sum_j \frac{q_{ij}}{\sum_{i'} q_{i'j}} R_j ,

then reads, for a layer whose linear map is ``T`` (``(T_W x)_j = Σ_i w_ij x_i``,
a matrix product, a convolution, a window sum) and ``T_{g(W)}`` the same map
with every weight replaced by ``g(w)``:

.. math::

    Z = \sum_k T_{g_k(W)}\, f_k(x, l, h), \qquad S = R_\text{out} / Z, \qquad
    R_\text{in} = \sum_k f_k(x, l, h) \odot T^\top_{g_k(W)}\, S ,

because ``Σ_i q_ij = Σ_k (T_{g_k(W)} f_k)_j`` and
``Σ_j q_ij S_j = Σ_k f_k(x_i) (T^T_{g_k(W)} S)_i``. ``Tᵀ`` is the transposed map:
``S @ g(W)`` for a dense layer, the transposed convolution for a convolution,
the window scatter for pooling. Terms whose ``f`` does not involve ``x``
(zᴮ's ``−l·w⁺ − h·w⁻``, w²'s constant) are computed once and broadcast over the
batch. Winner-take-all max-pooling sends each window's relevance to its first
maximum; views (flatten, concat) pass relevance through.

As in :func:`symdtd.compile`, ``Z`` counts as zero by
:func:`~symdtd.propagation.arithmetic.zero_denominator` (its parts computed
apart may cancel to rounding level), a zero denominator passes nothing on, and
the relevance it held is reported as lost. The bounds are bound as
``propagate`` binds them: a ≥ 0 source acts as the box ``[0, x]``, a real one
as ``[x, x]``.

The whole pass runs on a backend: NumPy (default, :mod:`symdtd.network.layer_ops`)
or PyTorch (``backend="torch"``, CPU or GPU via ``device=``,
:class:`~symdtd.compiler.layer_torch.TorchOps`). With torch every array of the
pass is a tensor on the device, from the checked input to the results, which
come back as NumPy: the linear maps, pooling and its winners, concatenation,
the elementwise rule factors ``f_k`` (lambdified from the same SymPy
expressions for torch), the zero test and the division. The module is split in
three: :mod:`symdtd.compiler.layer_plan` (each layer's rule, terms and
constants, made once), :mod:`symdtd.compiler.layer_step` (the forward run and
one layer's backward step) and this one (compiling, explaining a batch).

Each layer's rule is chosen by the composites of :func:`symdtd.compile` and
:func:`symdtd.propagate` (``composite=``; :mod:`symdtd.network.layer_rules`),
γ and other parameters read from the rule instance. Every array is in
``dtype`` (float64 or float32) from the input check to the result.
``absorb_bias=True`` adds ``b⁺ = max(0, b)`` to each denominator of a dense or
convolution layer, as ``propagate(absorb_bias=True)`` does; the share
``b⁺ / Z · R`` stays with the bias and is reported per layer and row
(:class:`~symdtd.compiler.layer_results.LayerExplanation`).

Examples
--------
>>> import numpy as np
>>> from symdtd.core.domains import Box
>>> from symdtd.network.layer_graph import LayerNetwork
>>> from symdtd.network.layers import Dense
>>> net = LayerNetwork()
>>> _ = net.add_input("x", (2,), Box(0, 1))
>>> _ = net.add_layer("h", Dense([[1.0, 1.0], [-1.0, 1.0]], [0.0, -1.0]))  # (n_out, n_in)
>>> _ = net.add_layer("y", Dense([[1.0, 1.0]], activation="linear"))
>>> e = compile_layers(net).explain(np.array([[1.0, 0.5], [0.25, 0.0]]))
>>> e.relevance
array([[1.  , 0.5 ],
       [0.25, 0.  ]])
>>> e.output
array([1.5 , 0.25])
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext

import numpy as np

from ..core.numbers import RealLike
from ..network.composites import Composite, WithParameters
from ..network.layer_graph import LayerNetwork
from ..network.rule_choice import as_composite
from .batch import check_finite, check_target, rows_per_chunk
from .layer_plan import BACKENDS, DTYPES, LayerPlan, backend_ops, check_dtype
from .layer_results import LayerConservation, LayerExplanation, join_explanations
from .layer_step import backward_step, run_layers

__all__ = ["compile_layers", "CompiledLayerNetwork", "LayerExplanation", "LayerConservation",
           "BACKENDS", "DTYPES"]


def compile_layers(net: LayerNetwork, *, backend: str = "numpy", device: str | None = None,
                   composite: Composite | None = None, maxpool: str | None = None,
                   parameters: Mapping[str, RealLike] | None = None, dtype: str = "float64",
                   absorb_bias: bool = False) -> CompiledLayerNetwork:
    """Compile a :class:`~symdtd.network.layer_graph.LayerNetwork` for batched layer-level DTD.

    Parameters
    ----------
    net : LayerNetwork
    backend : {"numpy", "torch"}
        What runs the pass (every array of it).
    device : str, optional
        The torch device (``"cpu"``, ``"cuda"``); torch backend only.
    composite : Composite, optional
        Which rule each layer uses (:mod:`symdtd.network.composites`, decided
        per layer: :mod:`symdtd.network.layer_rules`); default
        :class:`~symdtd.network.composites.PaperDefault`. A layer's own
        ``rule`` overrides it.
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule on top of *composite*.
    parameters : dict, optional
        Rule parameters, e.g. ``{"gamma": 0.25}``, set on every rule that takes
        them: a shortcut for ``composite=WithParameters(parameters, composite)``.
    dtype : {"float64", "float32"}
        The float type of every array of the pass.
    absorb_bias : bool
        Put ``b⁺ = max(0, b)`` in the denominators of dense and convolution
        layers, as ``propagate(absorb_bias=True)``.

    Returns
    -------
    CompiledLayerNetwork

    Raises
    ------
    ValueError
        An unknown backend or dtype, torch not importable, a rule a layer
        cannot take or whose numerator does not split, a missing rule
        parameter, a symbolic box input (the message names the layer).

    Examples
    --------
    >>> from symdtd.core.domains import Positive
    >>> from symdtd.network.composites import GammaAbove
    >>> from symdtd.network.layers import Dense
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,), Positive())
    >>> _ = net.add_layer("y", Dense([[1.0, -1.0]], activation="linear"))
    >>> model = compile_layers(net, composite=GammaAbove(1), dtype="float32")
    >>> model.rules, model.explain([[2.0, 1.0]]).relevance  # q = 2·(1 + 1), 1·(−1): x_f = 1 split 4/3, −1/3
    ({'y': 'gamma'}, array([[ 1.3333334 , -0.33333334]], dtype=float32))
    """
    return CompiledLayerNetwork(net, backend=backend, device=device, composite=composite,
                                maxpool=maxpool, parameters=parameters, dtype=dtype,
                                absorb_bias=absorb_bias)


class CompiledLayerNetwork:
    """A layer network compiled for layer-level propagation; build it with :func:`compile_layers`.

    Attributes
    ----------
    rules : dict
        ``{layer: rule name}`` (``"winner"`` / ``"proportional"`` for max-pooling).
    positive_bias : list of str
        Layers with a positive bias somewhere: their root point leaves the
        domain, so conservation holds there only with ``absorb_bias=True``.
    dtype : numpy.dtype
    absorb_bias : bool
    """

    def __init__(self, net, *, backend="numpy", device=None, composite=None, maxpool=None,
                 parameters=None, dtype="float64", absorb_bias=False):
        self.dtype = check_dtype(dtype)
        self.net, self.backend, self.ops = net, backend, backend_ops(backend, device)
        self.absorb_bias = bool(absorb_bias)
        composite = as_composite(composite, maxpool)
        if parameters is not None:
            composite = WithParameters(parameters, composite, where="compile_layers(parameters=...)")
        self.plan = LayerPlan(net, composite, self.dtype, self.ops)
        self.rules, self.positive_bias = self.plan.rules, self.plan.positive_bias

    def __repr__(self):
        return f"CompiledLayerNetwork({self.net!r}, {self.backend}, {self.dtype})"

    # ------------------------------------------------------------------- run
    def _inference(self):
        """torch's ``inference_mode`` (no autograd records) on the torch backend."""
        return self.ops.torch.inference_mode() if self.backend == "torch" else nullcontext()

    def _inputs(self, values):
        return {k: self.ops.asarray(v, self.dtype) for k, v in values.items()}

    def forward(self, X, *, activations=False):
        """The output layer's values (or ``{layer: values}``) for a batch, on the backend, as NumPy."""
        with self._inference():
            values = run_layers(self.net, self.ops, self._inputs(self.net.check_inputs(X, self.dtype)),
                                set())[0]
            if not activations:
                return self.ops.numpy(values[self.net.output])
            return {k: self.ops.numpy(v) for k, v in values.items()}

    def explain(self, X, target=None, *, output=None, return_layers=False, batch_size=None,
                absorb_bias=None):
        """Deep Taylor decomposition of one neuron of the *output* layer per row.

        Parameters
        ----------
        X : array-like or dict
            As for :meth:`LayerNetwork.forward <symdtd.network.layer_graph.LayerNetwork.forward>`;
            values must lie in the input domains.
        target : int or array-like, optional
            Flat index into the output layer, or one per row; optional when it
            has a single neuron.
        output : str, optional
            The layer explained (default the network's output).
        return_layers : bool
            Also return every layer's relevance.
        batch_size : int, optional
            Rows propagated at a time, so that working memory is bounded by the
            chunk (only the results grow with the batch); the results are those
            of one pass over all rows, up to the last bit of a matrix product
            (BLAS may order a product's sums by its number of rows). Default:
            all rows at once.
        absorb_bias : bool, optional
            Overrides the ``absorb_bias`` given to :func:`compile_layers`.

        Returns
        -------
        LayerExplanation

        Raises
        ------
        ValueError
            A wrong input shape, a value outside its domain, a bad target or
            batch size; an overflow of the float arithmetic (naming the rows).
        """
        net = self.net
        output = output or net.output
        values = net.check_inputs(X, self.dtype)
        self._check_domains(values)
        B = len(values[net.inputs[0]])
        n_out = int(np.prod(net.layer(output).shape))
        t = check_target(target, B, [f"{output}[{k}]" for k in range(n_out)])
        step = B if batch_size is None else rows_per_chunk(batch_size, 1, 1)
        absorb = self.absorb_bias if absorb_bias is None else bool(absorb_bias)
        if step >= B:
            result = self._explain(values, t, output, return_layers, absorb)
        else:
            parts = ((rows, self._explain({k: v[rows] for k, v in values.items()}, t[rows],
                                          output, return_layers, absorb))
                     for rows in (slice(a, a + step) for a in range(0, B, step)))
            result = join_explanations(parts, B)
        # the output and the inputs' totals: finite unless the float arithmetic overflowed
        check_finite(result.output + sum(result.totals[name] for name in net.inputs
                                         if name in result.totals), self.dtype)
        return result

    def _explain(self, values, t, output, return_layers, absorb):
        """:meth:`explain` of checked rows, all at once."""
        with self._inference():
            return self._explain_rows(self._inputs(values), t, output, return_layers, absorb)

    def _explain_rows(self, values, t, output, return_layers, absorb):
        net, ops = self.net, self.ops
        A, pre, winners = run_layers(net, ops, values, self.plan.keep_pre)
        B = len(t)
        x_f = ops.take(A[output], t)
        R = {output: ops.one_hot(A[output], t, x_f)}
        totals, passed, lost, absorbed, flows = {}, {}, {}, {}, {}
        summed = {}    # {layer: row sums of R[layer]} when R[layer] is one share, summed already
        for name in reversed(net.order()):
            if name not in R:
                continue
            layer, Rl = net.layer(name), R[name]
            totals[name] = summed.pop(name) if name in summed else ops.row_sum(Rl)
            if layer.neuron_kind == "input":
                continue
            shares, lost[name], absorbed[name] = backward_step(self.plan, layer, Rl, A, pre, winners,
                                                               absorb)
            sums = [ops.row_sum(s) for s in shares]
            passed[name] = sum(sums)
            for source, part in zip(layer.sources, sums):   # a source read twice: both parts
                flows[(source, name)] = flows[(source, name)] + part if (source, name) in flows else part
            for source, share, part in zip(layer.sources, shares, sums):
                if source in R:
                    R[source] = R[source] + share
                    summed.pop(source, None)
                else:
                    R[source], summed[source] = share, part
            if not return_layers:
                del R[name]          # passed on: only the inputs' relevance is returned
        host = ops.numpy
        inputs = {name: host(R[name]) if name in R else np.zeros(A[name].shape, self.dtype)
                  for name in net.inputs}
        relevance = inputs[net.inputs[0]] if len(inputs) == 1 else inputs
        totals, passed, lost, absorbed, flows = ({k: host(v) for k, v in d.items()}
                                                 for d in (totals, passed, lost, absorbed, flows))
        zero = np.zeros(B)
        layers = {k: host(v) for k, v in R.items()} if return_layers else None
        return LayerExplanation(relevance, host(x_f), t, totals, sum(lost.values(), zero), passed,
                                layers, sum(absorbed.values(), zero), lost, absorbed, self.dtype,
                                flows=flows)

    def _check_domains(self, A):
        for name in self.net.inputs:
            low, high = self.net.layer(name).bounds()
            bad = (A[name] < low) | (A[name] > high)
            if bad.any():
                rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))
                raise ValueError(f"input {name!r}: values outside {self.net.layer(name).domain!r} "
                                 f"in rows {rows[:10].tolist()}")
