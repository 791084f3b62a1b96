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
from dataclasses import dataclass, field

import numpy as np

from ..core.numbers import RealLike
from ..core.rules import check_parameters
from ..network import layer_ops
from ..network.layer_graph import LayerNetwork
from ..network.pool_layers import MaxPool2d
from ..network.pooling import WINNER_TAKE_ALL
from ..propagation.arithmetic import zero_denominator
from .batch import check_target
from .compiled import rule_kernel

__all__ = ["compile_layers", "CompiledLayerNetwork", "LayerExplanation", "BACKENDS"]

BACKENDS = ("numpy", "torch")


@dataclass
class LayerExplanation:
    """The result of :meth:`CompiledLayerNetwork.explain`.

    Attributes
    ----------
    relevance : ndarray or dict
        Relevance of the input, ``(batch, *shape)`` (a dict per input name when
        there are several inputs).
    output : ndarray, shape (batch,)
        The explained value ``x_f`` per row.
    target : ndarray of int
        The explained neuron per row (flat index into the output layer).
    totals : dict
        ``{layer: (batch,) relevance reaching it}``.
    passed : dict
        ``{layer: (batch,) relevance it passed on to its sources}``; equal to its
        total but for the relevance lost at zero denominators: conservation layer
        by layer.
    lost : ndarray, shape (batch,)
        Relevance held by neurons with a zero denominator.
    layers : dict or None
        ``{layer: relevance array}`` with ``return_layers=True``.
    """

    relevance: object
    output: np.ndarray
    target: np.ndarray
    totals: dict
    lost: np.ndarray
    passed: dict = field(default_factory=dict, repr=False)
    layers: dict | None = field(default=None, repr=False)


def compile_layers(net: LayerNetwork, *, backend: str = "numpy", device: str | None = None,
                   maxpool: str | None = None,
                   parameters: Mapping[str, RealLike] | None = None) -> CompiledLayerNetwork:
    """Compile a :class:`~symdtd.network.layer_graph.LayerNetwork` for batched layer-level DTD.

    Parameters
    ----------
    net : LayerNetwork
    backend : {"numpy", "torch"}
        What runs the dense and convolution maps.
    device : str, optional
        The torch device (``"cpu"``, ``"cuda"``); torch backend only.
    maxpool : {"winner", "proportional"}, optional
        Overrides the network's max-pooling mode.
    parameters : dict, optional
        Rule parameters, e.g. ``{"gamma": 0.25}`` for layers with ``rule="gamma"``.

    Returns
    -------
    CompiledLayerNetwork

    Raises
    ------
    ValueError
        An unknown backend, torch not importable, a rule whose numerator does
        not split, a missing rule parameter, a symbolic box input.
    """
    return CompiledLayerNetwork(net, backend=backend, device=device, maxpool=maxpool,
                                parameters=parameters)


def _ops(backend, device):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "numpy":
        if device is not None:
            raise ValueError("device= is for the torch backend")
        return layer_ops
    from .layer_torch import TorchOps  # only when asked: importing torch takes seconds

    return TorchOps(device)


class CompiledLayerNetwork:
    """A layer network compiled for layer-level propagation; build it with :func:`compile_layers`.

    Attributes
    ----------
    rules : dict
        ``{layer: rule name}`` (``"winner"`` for winner-take-all max-pooling).
    positive_bias : list of str
        Layers with a positive bias somewhere: conservation does not hold there.
    """

    def __init__(self, net, *, backend="numpy", device=None, maxpool=None, parameters=None):
        self.net, self.backend, self.ops = net, backend, _ops(backend, device)
        parameters = check_parameters(parameters, "compile_layers(parameters=...)")
        self.rules, self._plans, self.positive_bias = {}, {}, []
        for name in net.order():
            layer = net.layer(name)
            if layer.neuron_kind in ("input", "view"):
                continue
            rule = net.rule_for(name, maxpool)
            self.rules[name] = rule.name
            if rule is not WINNER_TAKE_ALL:
                self._plans[name] = [self._source_plan(s, rule, parameters) for s in layer.sources]
            bias = getattr(layer, "bias", None)
            if layer.neuron_kind in ("relu", "linear") and bias is not None and (bias > 0).any():
                self.positive_bias.append(name)

    def _source_plan(self, source, rule, parameters):
        """``[(mask or None, RuleKernel, l, h)]``: a source's entries grouped by the binding of their bounds."""
        base = rule_kernel(rule)
        gamma = None
        if base.parameters:
            gamma = float(parameters.get("gamma", rule.parameters.get("gamma", np.nan)))
            if np.isnan(gamma):
                raise ValueError(f"rule {rule.name!r} needs parameter 'gamma'; "
                                 "pass compile_layers(..., parameters={'gamma': value})")
        shape = self.net.layer(source).shape
        kind = self.net.input_class(source)
        if kind == "box":
            low, high = self.net.base_input(source).bounds()
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
                raise ValueError(f"rule {rule.name!r} does not split into f(x)·g(w) terms; "
                                 "layer-level propagation needs a separable rule")
            mask = None if (key == k).all() else (key == k).astype(float)
            plan.append((mask, kernel, low[None], high[None], gamma))
        return plan

    # ------------------------------------------------------------------- run
    def forward(self, X, *, activations=False):
        """The output layer's values (or ``{layer: values}``) for a batch, on the backend."""
        values = self._run(X)[0]
        return values if activations else values[self.net.output]

    def _run(self, X):
        """Activations, the pre-activations ``T_W x`` of dense and convolution layers
        (the ``x·w`` term of a rule's denominator reuses them, as compile does) and
        the winners of max-pooling layers."""
        values, pre, winners = self.net.check_inputs(X), {}, {}
        for name in self.net.order():
            layer = self.net.layer(name)
            if name in values:
                continue
            inputs = [values[s] for s in layer.sources]
            if hasattr(layer, "weight"):
                pre[name] = z = layer.linear(0, inputs[0], ops=self.ops)
                values[name] = layer.activate(z + layer.bias.reshape((-1,) + (1,) * (z.ndim - 2)))
            elif isinstance(layer, MaxPool2d):
                values[name], winners[name] = layer.argmax(inputs[0])
            else:
                values[name] = layer.forward(inputs, ops=self.ops)
        return values, pre, winners

    def explain(self, X, target=None, *, output=None, return_layers=False):
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

        Returns
        -------
        LayerExplanation

        Raises
        ------
        ValueError
            A wrong input shape, a value outside its domain, a bad target.
        """
        net = self.net
        output = output or net.output
        A, pre, winners = self._run(X)
        self._check_domains(A)
        B = len(A[net.inputs[0]])
        n_out = int(np.prod(net.layer(output).shape))
        t = check_target(target, B, [f"{output}[{k}]" for k in range(n_out)])
        x_f = A[output].reshape(B, -1)[np.arange(B), t]
        R = {output: np.zeros((B, n_out))}
        R[output][np.arange(B), t] = x_f
        R[output] = R[output].reshape(A[output].shape)
        lost, totals, passed = np.zeros(B), {}, {}
        for name in reversed(net.order()):
            if name not in R:
                continue
            layer, Rl = net.layer(name), R[name]
            totals[name] = Rl.reshape(B, -1).sum(axis=1)
            if layer.neuron_kind == "input":
                continue
            shares = self._backward(layer, Rl, A, lost, pre.get(name), winners.get(name))
            passed[name] = sum(s.reshape(B, -1).sum(axis=1) for s in shares)
            for source, share in zip(layer.sources, shares):
                R[source] = share if source not in R else R[source] + share
        inputs = {name: R.get(name, np.zeros_like(A[name])) for name in net.inputs}
        relevance = inputs[net.inputs[0]] if len(inputs) == 1 else inputs
        return LayerExplanation(relevance, x_f, t, totals, lost, passed,
                                R if return_layers else None)

    def _check_domains(self, A):
        for name in self.net.inputs:
            low, high = self.net.layer(name).bounds()
            bad = (A[name] < low) | (A[name] > high)
            if bad.any():
                rows = np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))
                raise ValueError(f"input {name!r}: values outside {self.net.layer(name).domain!r} "
                                 f"in rows {rows[:10].tolist()}")

    def _backward(self, layer, R, A, lost, pre, winners):
        """The relevance *R* of *layer* redistributed onto its sources (one array each)."""
        sources = [A[s] for s in layer.sources]
        if layer.neuron_kind == "view":
            if len(sources) == 1:
                return [R.reshape(sources[0].shape)]
            return layer.split(R)
        if isinstance(layer, MaxPool2d) and self.rules[layer.name] == WINNER_TAKE_ALL.name:
            return [layer_ops.scatter_winners(R, winners, sources[0].shape[2:])]
        return self._rule_backward(layer, R, sources, lost, pre)

    def _rule_backward(self, layer, R, sources, lost, pre):
        ops, parts, factors, const = self.ops, [], [], None
        for s, (x, plan) in enumerate(zip(sources, self._plans[layer.name])):
            for mask, kernel, low, high, gamma in plan:
                for term in kernel.terms:
                    f = np.asarray(term.f_fn(x if term.batch else 0.0, low, high), float)
                    if not term.batch and not f.any():
                        continue              # e.g. zB's −l·w⁺ with l = 0: nothing to add
                    f = np.broadcast_to(f, x.shape if term.batch else (1,) + x.shape[1:])
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
        if len(parts) > 1:
            mag = sum(np.abs(p) for p in parts)
            zero = zero_denominator(Z, np.broadcast_to(mag, R.shape), layer.fan_in + len(parts),
                                    "float64")
        else:
            zero = Z == 0
        S = np.divide(R, Z, out=np.zeros(R.shape), where=~zero)
        if zero.any():
            lost += np.where(zero, R, 0).reshape(len(R), -1).sum(axis=1)
        shares = [np.zeros_like(x) for x in sources]
        for s, f, g, gamma in factors:
            shares[s] += f * layer.linear_t(s, S, g=g, gamma=gamma, ops=ops)
        return shares
