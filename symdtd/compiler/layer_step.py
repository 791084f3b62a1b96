r"""The two halves of a layer-level pass on a backend: the forward run and one layer's backward step.

:func:`run_layers` computes every layer's values on the backend (NumPy or
torch tensors), keeping what the backward step reuses: the pre-activations
``T_W x`` of dense and convolution layers and the winners of max-pooling.
:func:`backward_step` sends one layer's relevance to its sources by
:mod:`symdtd.compiler.layer_pass`'s formula

.. math::

    Z = \sum_k T_{g_k(W)}\, f_k(x, l, h), \qquad S = R_\text{out} / Z, \qquad
    R_\text{in} = \sum_k f_k(x, l, h) \odot T^\top_{g_k(W)}\, S ,

with the terms and constants of a :class:`~symdtd.compiler.layer_plan.LayerPlan`,
the zero test :func:`~symdtd.propagation.arithmetic.zero_denominator`
(the same function on arrays and tensors; skipped when the bound of
:func:`none_zero` already rules every zero out, the common case) and every
array operation asked of the backend ``plan.ops``.

Examples
--------
>>> import numpy as np
>>> from symdtd.core.domains import Positive
>>> from symdtd.network.composites import PaperDefault
>>> from symdtd.network.layer_graph import LayerNetwork
>>> from symdtd.network.layers import Dense
>>> from symdtd.compiler.layer_plan import LayerPlan, backend_ops, check_dtype
>>> net = LayerNetwork()
>>> _ = net.add_input("x", (2,), Positive())
>>> _ = net.add_layer("y", Dense([[1.0, 3.0]], activation="linear"))
>>> plan = LayerPlan(net, PaperDefault(), check_dtype("float64"), backend_ops("numpy", None))
>>> values, pre, winners = run_layers(net, plan.ops, {"x": np.array([[1.0, 1.0]])})
>>> values["y"]
array([[4.]])
>>> shares, lost, absorbed = backward_step(plan, net.layer("y"), values["y"], values, pre, winners, False)
>>> shares[0]                            # z+: 4 split as 1·1 : 1·3
array([[1., 3.]])
"""
from __future__ import annotations

import numpy as np

from ..network.pool_layers import MaxPool2d
from ..propagation.arithmetic import UNIT_ROUNDOFF, zero_denominator

__all__ = ["run_layers", "backward_step", "none_zero"]


def none_zero(Z, parts, count, number):
    """True when no entry of *Z* can count as zero for :func:`~symdtd.propagation.arithmetic.zero_denominator`.

    That test calls ``Z`` zero where ``|Z| ≤ count·u·Σ_k |p_k|``. Entry by
    entry ``Σ_k |p_k| ≤ Σ_k max |p_k|``, so ``min |Z|`` above
    ``count·u·Σ_k max |p_k|`` (doubled: the test's own rounding in float32)
    rules every zero out with a few reductions instead of an elementwise
    magnitude. It only ever answers "no zero"; False means: run the full test.

    Parameters
    ----------
    Z : numpy.ndarray or torch.Tensor
        The denominators.
    parts : list of arrays or tensors
        The parts added to form *Z* (broadcastable to it).
    count : int
        Fan-in plus number of parts, as for ``zero_denominator``.
    number : {"float64", "float32"}

    Returns
    -------
    bool

    Examples
    --------
    >>> import numpy as np
    >>> p, c = np.array([[1.0, 2.0]]), np.array([[-0.5, -2.0 + 2.0 ** -50]])
    >>> none_zero(p + c, [p, c], 3, "float64")              # 2⁻⁵⁰ is within rounding of 0
    False
    >>> none_zero(p + c, [p, c], 3, "float64") or bool(zero_denominator(p + c, abs(p) + abs(c), 3).any())
    True
    >>> none_zero(np.array([[0.5, 1.0]]), [p, c], 3, "float64")
    True
    """
    bound = 2 * count * UNIT_ROUNDOFF[number] * sum(max(float(p.max()), -float(p.min())) for p in parts)
    return float(abs(Z).min()) > bound


def run_layers(net, ops, values, keep_pre=None):
    """``(values, pre, winners)`` of every layer from the inputs' *values* (on the backend *ops*).

    Parameters
    ----------
    net : LayerNetwork
    ops : module or TorchOps
    values : dict
        ``{input: array}`` already on the backend.
    keep_pre : set of str, optional
        The dense and convolution layers whose ``T_W x`` is kept (default all);
        the others add their bias inside the map.

    Returns
    -------
    values : dict
        Every layer's output.
    pre : dict
        ``T_W x`` of the dense and convolution layers (without the bias), and of the
        average-pooling layers in *keep_pre* (their values).
    winners : dict
        Each max-pooling layer's winners (flat indices in one ``H×W`` plane).
    """
    values, pre, winners = dict(values), {}, {}
    for name in net.order():
        layer = net.layer(name)
        if name in values:
            continue
        inputs = [values[s] for s in layer.sources]
        if hasattr(layer, "weight"):
            if keep_pre is None or name in keep_pre:
                pre[name] = z = layer.linear(0, inputs[0], ops=ops)
                z = z + ops.constant(layer.shaped_bias(), z.dtype)
            else:
                z = layer.affine(inputs[0], ops)
            values[name] = ops.relu_(z) if layer.activation == "relu" else z   # z: a new array
        elif isinstance(layer, MaxPool2d):
            values[name], winners[name] = layer.argmax(inputs[0], ops)
        else:
            values[name] = layer.forward(inputs, ops=ops)
            if keep_pre is not None and name in keep_pre:   # a pooling layer: its values are T_W x
                pre[name] = values[name]
    return values, pre, winners


def backward_step(plan, layer, R, A, pre, winners, absorb):
    """*layer*'s relevance *R* on its sources (one array each), and the relevance it lost
    and absorbed per row.

    Parameters
    ----------
    plan : LayerPlan
    layer : Layer
    R : array
        The layer's relevance, ``(batch, *layer.shape)``.
    A : dict
        Every layer's values (:func:`run_layers`).
    pre, winners : dict
        From :func:`run_layers`.
    absorb : bool
        Put ``b⁺`` in the denominators.

    Returns
    -------
    shares : list
        One array per source.
    lost, absorbed : array
        Per row, float64 (NumPy zeros for layers that neither lose nor absorb).
    """
    ops, sources = plan.ops, [A[s] for s in layer.sources]
    none = np.zeros(len(R))
    if layer.neuron_kind == "view":
        if len(sources) == 1:
            return [R.reshape(sources[0].shape)], none, none
        return layer.split(R, ops), none, none
    if layer.name in plan.winners:
        return [ops.scatter_winners(R, winners[layer.name], sources[0].shape[2:])], none, none
    return _rule_step(plan, layer, R, sources, pre.get(layer.name), absorb)


def _rule_step(plan, layer, R, sources, pre, absorb):
    ops, dtype = plan.ops, plan.dtype
    terms, const = plan.terms(layer)
    parts, factors = [], []
    for s, f, g, gamma, batch, xw, mask, low, high in terms:
        if batch:
            x = sources[s]
            f = f(x, low, high)
            if mask is not None:
                f = f * mask
            parts.append(pre if xw and pre is not None else layer.linear(s, f, g=g, gamma=gamma, ops=ops))
        factors.append((s, f, g, gamma))
    if const is not None:
        parts.append(const)
    Z = parts[0] + sum(parts[1:]) if len(parts) > 1 else parts[0]   # (1, …) if only constant: broadcast
    rounded = parts if len(parts) > 1 else None   # the parts the zero test's magnitude sums
    count = layer.fan_in + len(parts)
    bplus = plan.bplus.get(layer.name) if absorb else None
    if bplus is not None:         # as the neuron-level compile: b⁺ is one more part
        Z = Z + bplus
        rounded, count = (None, count) if rounded is None else (rounded + [bplus], count + 1)
    if rounded is not None and none_zero(Z, rounded, count, dtype.name):
        S, lost = R / Z, np.zeros(len(R))    # the common case: no element test, no mask
    else:
        zero = (Z == 0 if rounded is None else
                zero_denominator(Z, sum(abs(p) for p in rounded), count, dtype.name))
        S = ops.safe_divide(R, Z, zero)
        lost = ops.lost(R, zero)
    absorbed = np.zeros(len(R)) if bplus is None else ops.row_sum(S * bplus)
    shares = [None] * len(sources)
    for s, f, g, gamma in factors:
        part = layer.linear_t(s, S, g=g, gamma=gamma, ops=ops)
        part *= f                 # a new array from the transposed map: multiplied in place
        if shares[s] is None:
            shares[s] = part
        else:
            shares[s] += part
    return [ops.zeros_like(x) if share is None else share
            for x, share in zip(sources, shares)], lost, absorbed
