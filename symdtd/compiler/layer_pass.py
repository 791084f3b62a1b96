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

The linear maps of dense and convolution layers run on a backend: NumPy
(default) or PyTorch (``backend="torch"``, CPU or GPU via ``device=``); pooling
maps and the elementwise rule factors (lambdified SymPy) run in NumPy.

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

import numpy as np

from ..core.numbers import RealLike
from ..network import layer_ops
from ..network.composites import Composite, WithParameters
from ..network.layer_graph import LayerNetwork
from ..network.pool_layers import MaxPool2d
from ..network.pooling import PoolingRule, WinnerTakeAll
from ..network.rule_choice import as_composite
from ..propagation.arithmetic import zero_denominator
from .batch import check_target, rows_per_chunk
from .layer_results import LayerConservation, LayerExplanation, join_explanations
from .rule_kernels import rule_kernel

__all__ = ["compile_layers", "CompiledLayerNetwork", "LayerExplanation", "LayerConservation",
           "BACKENDS", "DTYPES"]

BACKENDS = ("numpy", "torch")
DTYPES = ("float64", "float32")


def compile_layers(net: LayerNetwork, *, backend: str = "numpy", device: str | None = None,
                   composite: Composite | None = None, maxpool: str | None = None,
                   parameters: Mapping[str, RealLike] | None = None, dtype: str = "float64",
                   absorb_bias: bool = False) -> CompiledLayerNetwork:
    """Compile a :class:`~symdtd.network.layer_graph.LayerNetwork` for batched layer-level DTD.

    Parameters
    ----------
    net : LayerNetwork
    backend : {"numpy", "torch"}
        What runs the dense and convolution maps.
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


def _ops(backend, device):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "numpy":
        if device is not None:
            raise ValueError("device= is for the torch backend")
        return layer_ops
    from .layer_torch import TorchOps  # only when asked: importing torch takes seconds

    return TorchOps(device)


def _dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return dt


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
        self.dtype = _dtype(dtype)
        self.net, self.backend, self.ops = net, backend, _ops(backend, device)
        self.absorb_bias = bool(absorb_bias)
        composite = as_composite(composite, maxpool)
        if parameters is not None:
            composite = WithParameters(parameters, composite, where="compile_layers(parameters=...)")
        self.rules, self._plans, self._winner, self._bplus = {}, {}, set(), {}
        self.positive_bias = []
        for name in net.order():
            layer = net.layer(name)
            if layer.neuron_kind in ("input", "view"):
                continue
            rule = net.rule_for(name, composite)
            self.rules[name] = rule.name
            if isinstance(rule, WinnerTakeAll):
                self._winner.add(name)
            else:
                taylor = rule.taylor_rule if isinstance(rule, PoolingRule) else rule
                self._plans[name] = [self._source_plan(name, s, taylor) for s in layer.sources]
            bias = getattr(layer, "bias", None)
            if layer.neuron_kind in ("relu", "linear") and bias is not None and (bias > 0).any():
                self.positive_bias.append(name)
                shape = (-1,) + (1,) * (len(layer.shape) - 1)
                bplus = np.maximum(bias, 0).reshape(shape).astype(self.dtype)
                self._bplus[name] = np.broadcast_to(bplus, layer.shape)

    def _source_plan(self, name, source, rule):
        """``[(mask or None, RuleKernel, l, h, γ)]``: a source's entries grouped by the binding of their bounds."""
        base, gamma = rule_kernel(rule), None
        if base.parameters:
            if "gamma" not in rule.parameters:
                raise ValueError(f"layer {name!r}: rule {rule.name!r} needs parameter 'gamma'; "
                                 "give the rule a value (rule.with_parameters(gamma=...), "
                                 "GammaAbove(gamma)) or pass compile_layers(..., "
                                 "parameters={'gamma': value})")
            gamma = float(rule.parameters["gamma"])
        shape = self.net.layer(source).shape
        kind = self.net.input_class(source)
        if kind == "box":
            low, high = (b.reshape(shape) for b in self.net.base_input(source).bounds())   # a view: its shape
            lx, hx = np.isinf(low), np.isinf(high)
            low, high = np.where(lx, 0.0, low), np.where(hx, 0.0, high)
        else:
            lx, hx = np.full(shape, kind == "real"), np.ones(shape, bool)
            low, high = np.zeros(shape), np.zeros(shape)
        if not base.uses_bounds:
            lx, hx = np.zeros(shape, bool), np.zeros(shape, bool)
        key = lx * 2 + hx
        plan = []
        for k in np.unique(key):
            kernel = rule_kernel(rule, bool(k & 2), bool(k & 1))
            if not kernel.separable:
                raise ValueError(f"layer {name!r}: rule {rule.name!r} does not split into "
                                 "f(x)·g(w) terms; layer-level propagation needs a separable rule "
                                 "(use the neuron view: symdtd.compile(net.neurons(...)))")
            mask = None if (key == k).all() else (key == k).astype(self.dtype)
            plan.append((mask, kernel, low[None].astype(self.dtype),
                         high[None].astype(self.dtype), gamma))
        return plan

    def __repr__(self):
        return f"CompiledLayerNetwork({self.net!r}, {self.backend}, {self.dtype})"

    # ------------------------------------------------------------------- run
    def forward(self, X, *, activations=False):
        """The output layer's values (or ``{layer: values}``) for a batch, on the backend."""
        values = self._run(self.net.check_inputs(X, self.dtype))[0]
        return values if activations else values[self.net.output]

    def _run(self, values):
        """Activations, the pre-activations ``T_W x`` of dense and convolution layers
        (the ``x·w`` term of a rule's denominator reuses them, as compile does) and
        the winners of max-pooling layers, from the checked inputs *values*."""
        values, pre, winners = dict(values), {}, {}
        for name in self.net.order():
            layer = self.net.layer(name)
            if name in values:
                continue
            inputs = [values[s] for s in layer.sources]
            if hasattr(layer, "weight"):
                pre[name] = z = layer.linear(0, inputs[0], ops=self.ops)
                bias = layer.bias.reshape((-1,) + (1,) * (z.ndim - 2)).astype(z.dtype)
                values[name] = layer.activate(z + bias)
            elif isinstance(layer, MaxPool2d):
                values[name], winners[name] = layer.argmax(inputs[0])
            else:
                values[name] = layer.forward(inputs, ops=self.ops)
        return values, pre, winners

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
            batch size.
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
            return self._explain(values, t, output, return_layers, absorb)
        parts = ((rows, self._explain({k: v[rows] for k, v in values.items()}, t[rows], output,
                                      return_layers, absorb))
                 for rows in (slice(a, a + step) for a in range(0, B, step)))
        return join_explanations(parts, B)

    def _explain(self, values, t, output, return_layers, absorb):
        """:meth:`explain` of checked rows, all at once."""
        net = self.net
        A, pre, winners = self._run(values)
        B = len(t)
        x_f = A[output].reshape(B, -1)[np.arange(B), t]
        R = {output: np.zeros(A[output].shape, self.dtype)}
        R[output].reshape(B, -1)[np.arange(B), t] = x_f
        totals, passed, lost, absorbed, flows = {}, {}, {}, {}, {}
        for name in reversed(net.order()):
            if name not in R:
                continue
            layer, Rl = net.layer(name), R[name]
            totals[name] = Rl.reshape(B, -1).sum(axis=1, dtype=float)
            if layer.neuron_kind == "input":
                continue
            shares, lost[name], absorbed[name] = self._backward(layer, Rl, A, pre.get(name),
                                                                winners.get(name), absorb)
            sums = [s.reshape(B, -1).sum(axis=1, dtype=float) for s in shares]
            passed[name] = sum(sums)
            for source, part in zip(layer.sources, sums):   # a source read twice: both parts
                flows[(source, name)] = flows[(source, name)] + part if (source, name) in flows else part
            for source, share in zip(layer.sources, shares):
                R[source] = share if source not in R else R[source] + share
        inputs = {name: R.get(name, np.zeros_like(A[name])) for name in net.inputs}
        relevance = inputs[net.inputs[0]] if len(inputs) == 1 else inputs
        zero = np.zeros(B)
        return LayerExplanation(relevance, x_f, t, totals, sum(lost.values(), zero), passed,
                                R if return_layers else None, sum(absorbed.values(), zero),
                                lost, absorbed, self.dtype, flows=flows)

    def _check_domains(self, A):
        for name in self.net.inputs:
            low, high = self.net.layer(name).bounds()
            bad = (A[name] < low) | (A[name] > high)
            if bad.any():
                rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))
                raise ValueError(f"input {name!r}: values outside {self.net.layer(name).domain!r} "
                                 f"in rows {rows[:10].tolist()}")

    def _backward(self, layer, R, A, pre, winners, absorb):
        """*layer*'s relevance *R* on its sources (one array each), and the relevance
        it lost and absorbed per row."""
        sources = [A[s] for s in layer.sources]
        none = np.zeros(len(R))
        if layer.neuron_kind == "view":
            if len(sources) == 1:
                return [R.reshape(sources[0].shape)], none, none
            return layer.split(R), none, none
        if layer.name in self._winner:
            return [layer_ops.scatter_winners(R, winners, sources[0].shape[2:])], none, none
        return self._rule_backward(layer, R, sources, pre, absorb)

    def _rule_backward(self, layer, R, sources, pre, absorb):
        ops, parts, factors, const = self.ops, [], [], None
        dtype, B = self.dtype, len(R)
        for s, (x, plan) in enumerate(zip(sources, self._plans[layer.name])):
            for mask, kernel, low, high, gamma in plan:
                for term in kernel.terms:
                    f = np.asarray(term.f_fn(x if term.batch else dtype.type(0), low, high), dtype)
                    if not term.batch and not f.any():
                        continue              # e.g. zB's −l·w⁺ with l = 0: nothing to add
                    shape = x.shape if term.batch else (1,) + x.shape[1:]
                    if f.shape != shape:  # a broadcast view is read-only: a torch backend would copy it
                        f = np.broadcast_to(f, shape)
                    if mask is not None:
                        f = f * mask
                    factors.append((s, f, term.g_fn, gamma))
                    if term.is_xw and mask is None and pre is not None:
                        part = pre            # T_W x: the forward pass computed it
                    else:
                        part = layer.linear(s, f, g=term.g_fn, gamma=gamma, ops=ops)
                    if term.batch:
                        parts.append(part)
                    else:  # the constant terms, folded into one part as compile does
                        const = part if const is None else const + part
        if const is not None:
            parts.append(const)
        Z = parts[0] + sum(parts[1:]) if len(parts) > 1 else np.broadcast_to(parts[0], R.shape).copy()
        Z = np.broadcast_to(Z, R.shape)
        mag = sum(np.abs(p) for p in parts) if len(parts) > 1 else None
        count = layer.fan_in + len(parts)
        bplus = self._bplus.get(layer.name) if absorb else None
        if bplus is not None:         # as the neuron-level compile: b⁺ is one more part
            Z = Z + bplus
            mag, count = (None, count) if mag is None else (mag + bplus, count + 1)
        if mag is None:
            zero = Z == 0
        else:
            zero = zero_denominator(Z, np.broadcast_to(mag, R.shape), count, dtype.name)
        S = np.divide(R, Z, out=np.zeros(R.shape, dtype), where=~zero)
        lost = np.where(zero, R, 0).reshape(B, -1).sum(axis=1, dtype=float)
        absorbed = (np.zeros(B) if bplus is None else
                    (S * bplus).reshape(B, -1).sum(axis=1, dtype=float))
        shares = [np.zeros_like(x) for x in sources]
        for s, f, g, gamma in factors:
            shares[s] += f * layer.linear_t(s, S, g=g, gamma=gamma, ops=ops)
        return shares, lost, absorbed
