"""What a layer-level pass runs at each layer: its rule's terms, bound and grouped, and its constants.

:class:`LayerPlan` is made once by :func:`~symdtd.compiler.layer_pass.compile_layers`:
each layer's rule (chosen by the composites), the winner-take-all max-pooling
layers, and per layer and source the separable terms of the rule's numerator
(:func:`~symdtd.compiler.rule_kernels.rule_kernel`), grouped by how the box
bounds of the source's entries bind (:func:`source_plan`). It also keeps
what does not change from one batch to the next, on the backend
(:func:`backend_ops`): the terms whose ``f`` does not involve ``x`` (zᴮ's
``−l·w⁺ − h·w⁻``, w²'s constant) with their image ``T_{g(W)} f`` folded into
one array per layer, each positive bias part ``b⁺`` and the masks.

Examples
--------
>>> import numpy as np
>>> from symdtd.core.domains import Box
>>> from symdtd.network.layer_graph import LayerNetwork
>>> from symdtd.network.composites import PaperDefault
>>> from symdtd.network.layers import Dense
>>> net = LayerNetwork()
>>> _ = net.add_input("x", (2,), Box(0, 1))
>>> _ = net.add_layer("y", Dense([[1.0, -1.0]], activation="linear"))
>>> plan = LayerPlan(net, PaperDefault(), check_dtype("float64"), backend_ops("numpy", None))
>>> plan.rules
{'y': 'zB'}
>>> [(t.f, t.batch) for t in plan.plans["y"][0][0][1].terms]   # x·w, and h·(−w⁻), l·(−w⁺): constant
[(x, True), (h, False), (l, False)]
"""
from __future__ import annotations

import numpy as np

from ..network import layer_ops
from ..network.layer_base import identity
from ..network.pool_layers import AdaptiveAvgPool2d, MaxPool2d, WindowPool
from ..network.pooling import PoolingRule, WinnerTakeAll
from .rule_kernels import rule_kernel

__all__ = ["LayerPlan", "source_plan", "backend_ops", "check_dtype", "BACKENDS", "DTYPES"]

BACKENDS = ("numpy", "torch")
DTYPES = ("float64", "float32")


def backend_ops(backend, device):
    """The array operations of *backend*: :mod:`symdtd.network.layer_ops` or a
    :class:`~symdtd.compiler.layer_torch.TorchOps` on *device*; ValueError for anything else.

    >>> backend_ops("numpy", None).BACKEND
    'numpy'
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "numpy":
        if device is not None:
            raise ValueError("device= is for the torch backend")
        return layer_ops
    from .layer_torch import TorchOps  # only when asked: importing torch takes seconds

    return TorchOps(device)


def check_dtype(dtype):
    """*dtype* as a NumPy float type of :data:`DTYPES`; ValueError otherwise.

    >>> check_dtype("float32")
    dtype('float32')
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return dt


def source_plan(net, name, source, rule, dtype):
    """``[(mask or None, RuleKernel, l, h, γ)]``: a source's entries grouped by the binding of their bounds.

    A ≥ 0 source binds the box as ``[0, x]``, a real one as ``[x, x]``, a box
    input its finite bounds (an infinite bound is bound to ``x``). Entries that
    bind alike share a kernel; *mask* (in *dtype*) marks them when the source
    has several groups.

    Raises
    ------
    ValueError
        The rule needs γ and has none, or its numerator does not split
        (the message names the layer).
    """
    base, gamma = rule_kernel(rule), None
    if base.parameters:
        if "gamma" not in rule.parameters:
            raise ValueError(f"layer {name!r}: rule {rule.name!r} needs parameter 'gamma'; "
                             "give the rule a value (rule.with_parameters(gamma=...), "
                             "GammaAbove(gamma)) or pass compile_layers(..., "
                             "parameters={'gamma': value})")
        gamma = float(rule.parameters["gamma"])
    shape = net.layer(source).shape
    kind = net.input_class(source)
    if kind == "box" and base.uses_bounds:
        low, high = (b.reshape(shape) for b in net.base_input(source).bounds())   # a view: its shape
        lx, hx = np.isinf(low), np.isinf(high)
        low, high = np.where(lx, 0.0, low)[None], np.where(hx, 0.0, high)[None]
        key = lx * 2 + hx
        groups = [(k, None if (key == k).all() else (key == k).astype(dtype))
                  for k in np.unique(key)]
    else:
        # one group, its bounds unused (bound to x, or not in the rule): one broadcast 0, not
        # arrays of the source's shape (VGG-16's sources hold 15 million entries)
        low = high = np.zeros((1,) * (len(shape) + 1))
        # the key's bits as above: 2 = the low bound is x's own (a real source), 1 = the high
        # bound is (any source but a box); 0 = a rule without bounds
        groups = [((kind == "real") * 2 + 1 if base.uses_bounds else 0, None)]
    plan = []
    for k, mask in groups:
        kernel = rule_kernel(rule, bool(k & 2), bool(k & 1))
        if not kernel.separable:
            raise ValueError(f"layer {name!r}: rule {rule.name!r} does not split into "
                             "f(x)·g(w) terms; layer-level propagation needs a separable rule "
                             "(use the neuron view: symdtd.compile(net.neurons(...)))")
        plan.append((mask, kernel, low.astype(dtype), high.astype(dtype), gamma))
    return plan


class LayerPlan:
    """Each layer's rule and terms for a layer-level pass on one backend and float type.

    Parameters
    ----------
    net : LayerNetwork
    composite : Composite
        Decides each layer's rule (:meth:`LayerNetwork.rule_for <symdtd.network.layer_graph.LayerNetwork.rule_for>`).
    dtype : numpy.dtype
    ops : module or TorchOps
        The backend (:func:`backend_ops`).

    Attributes
    ----------
    rules : dict
        ``{layer: rule name}``.
    winners : set of str
        The winner-take-all max-pooling layers.
    plans : dict
        ``{layer: [source_plan per source]}`` (:func:`source_plan`).
    bplus : dict
        ``{layer: b⁺}`` of the layers with a positive bias somewhere, shaped to
        broadcast over one sample.
    positive_bias : list of str
    keep_pre : set of str
        The layers with a term ``x·w`` on all entries: the forward run keeps
        their ``T_W x`` for it.
    """

    def __init__(self, net, composite, dtype, ops):
        self.net, self.dtype, self.ops = net, dtype, ops
        self.rules, self.plans, self.winners, self.bplus = {}, {}, set(), {}
        self.positive_bias, self.constants = [], {}
        for name in net.order():
            layer = net.layer(name)
            if layer.neuron_kind in ("input", "view"):
                continue
            rule = net.rule_for(name, composite)
            self.rules[name] = rule.name
            if isinstance(rule, WinnerTakeAll):
                self.winners.add(name)
            else:
                taylor = rule.taylor_rule if isinstance(rule, PoolingRule) else rule
                self.plans[name] = [source_plan(net, name, s, taylor, dtype) for s in layer.sources]
            bias = getattr(layer, "bias", None)
            if layer.neuron_kind in ("relu", "linear") and bias is not None and (bias > 0).any():
                self.positive_bias.append(name)
                self.bplus[name] = ops.constant(np.maximum(layer.shaped_bias(), 0), dtype)
        self.keep_pre = {name for name, plans in self.plans.items()
                         if any(self.reuses_forward(net.layer(name), mask, t, gamma)
                                for plan in plans for mask, kernel, _, _, gamma in plan
                                for t in kernel.terms)}

    def reuses_forward(self, layer, mask, term, gamma):
        """Is the term's image ``T_{g(W)} f`` the forward pass's ``T_W x``?

        Only for a layer with one source whose forward pass computes ``T_W x``
        (dense and convolution layers before their bias, sum and average
        pooling), when ``f = x`` on all entries and ``g(W) = W``: the term is
        ``x·w`` (the z rule, zᴮ's first term), or ``g`` leaves these weights
        alone (z⁺ on the positive window weights of average pooling, on a layer
        without negative weights). A residual addition's ``T_W x`` is each
        source on its own, not its output.
        """
        if mask is not None or not (term.f.is_Symbol and term.f.name == "x"):
            return False
        if hasattr(layer, "weight"):
            return term.is_xw or np.array_equal(layer.modified_weight(term.g_fn, gamma, self.dtype),
                                                layer.modified_weight(identity, None, self.dtype))
        if isinstance(layer, (WindowPool, AdaptiveAvgPool2d)) and not isinstance(layer, MaxPool2d):
            return term.is_xw or np.array_equal(
                np.asarray(layer.modified_scale(term.g_fn, gamma, self.dtype)),
                np.asarray(layer.modified_scale(identity, None, self.dtype)))
        return False

    def terms(self, layer):
        """``(terms, constant part)`` of *layer*, made on the first call and kept.

        *terms* lists, in the order of the rule's terms, ``(source, f, g, γ, batch, xw, mask, l, h)``:
        for a term whose ``f`` changes per row (``batch``) the backend's ``f(x, l, h)``
        function, else the constant ``f`` array on the backend; ``xw`` says the term is
        ``x·w`` on all entries (its image is the forward pass's pre-activation).
        The constant part is ``Σ T_{g(W)} f`` over the constant terms (None without
        any; a constant ``f`` that is 0 everywhere, zᴮ's ``l = 0``, is left out).
        """
        if layer.name in self.constants:
            return self.constants[layer.name]
        ops, dtype, terms, const = self.ops, self.dtype, [], None
        for s, plan in enumerate(self.plans[layer.name]):
            shape = (1,) + tuple(layer.input_shapes[s])
            for mask, kernel, low, high, gamma in plan:
                for term, f_fn in zip(kernel.terms, kernel.f_functions(ops.BACKEND)):
                    m = None if mask is None else ops.constant(mask, dtype)
                    if term.batch:
                        terms.append((s, f_fn, term.g_fn, gamma, True,
                                      self.reuses_forward(layer, mask, term, gamma),
                                      m, ops.constant(low, dtype), ops.constant(high, dtype)))
                        continue
                    f = np.asarray(term.f_fn(dtype.type(0), low, high), dtype)
                    if not f.any():
                        continue              # e.g. zB's −l·w⁺ with l = 0: nothing to add
                    if f.shape != shape:
                        f = np.broadcast_to(f, shape)
                    if mask is not None:
                        f = f * mask
                    f = ops.asarray(f, dtype)
                    part = layer.linear(s, f, g=term.g_fn, gamma=gamma, ops=ops)
                    const = part if const is None else const + part   # folded as compile does
                    terms.append((s, f, term.g_fn, gamma, False, False, None, None, None))
        self.constants[layer.name] = terms, const
        return terms, const
