"""The neuron view of a layer network: expand layer nodes into a neuron-level ``Network``.

:func:`expand` walks the layers backwards from a *window* (some neurons of one
layer), marking the neurons each needs (its receptive field: ancestors only),
counts the edges, refuses above a limit, and then builds a
:class:`~symdtd.network.graph.Network` through its public API only
(``add_input``, ``add_neuron``, ``add_sum_pool``, ``add_max_pool``) — the
one place where the layer network is walked neuron by neuron.
:func:`neuron_expression` expands a layer's generic index-notation expression
at one output index. Both are used through
:class:`~symdtd.network.layer_graph.LayerNetwork`.

Examples
--------
>>> import numpy as np
>>> from symdtd.network.layer_graph import LayerNetwork
>>> from symdtd.network.layers import Conv2d
>>> net = LayerNetwork()
>>> _ = net.add_input("x", (1, 4, 4))
>>> _ = net.add_layer("conv", Conv2d(np.ones((1, 1, 2, 2))))
>>> window = expand(net, "conv", (0, 0, 0), 10)
>>> window.inputs, window.outputs
(['x1', 'x2', 'x5', 'x6'], ['conv_0_0_0'])
>>> expand(net, "conv", None, 10)
Traceback (most recent call last):
...
ValueError: the window needs 36 edges, more than limit=10; choose a smaller window or raise the limit
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.domains import Box
from .graph import Network
from .pool_layers import WINDOW_MAX

__all__ = ["expand", "neuron_names", "neuron_expression"]

_CHUNK_EDGES = 2 ** 21  # edges computed at a time while walking a layer's window


def neuron_names(net, name, flat):
    """Neuron names of layer *name* at flat indices *flat* (views resolve to their sources)."""
    layer = net.layer(name)
    flat = np.asarray(flat, dtype=np.int64)
    if layer.neuron_kind == "input":
        return np.array([f"{name}{k + 1}" for k in flat.tolist()], dtype=object)
    if layer.neuron_kind == "view":
        which, src = layer.view(flat)
        out = np.empty(len(flat), dtype=object)
        for k, source in enumerate(layer.sources):
            m = which == k
            if m.any():
                out[m] = neuron_names(net, source, src[m])
        return out
    idx = np.unravel_index(flat, layer.shape)
    return np.array(["_".join([name] + [str(i) for i in at]) for at in zip(*(a.tolist() for a in idx))],
                    dtype=object)


def _window_mask(layer, window):
    mask = np.zeros(layer.shape, dtype=bool)
    try:
        mask[... if window is None else window] = True
    except (IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"window {window!r} is not an index into layer {layer.name!r} "
                         f"of shape {layer.shape}: {exc}") from None
    if not mask.any():
        raise ValueError(f"window {window!r} selects no neuron of layer {layer.name!r}")
    return mask.ravel()


def _connections(layer, out):
    """``layer.connections(out)`` in chunks of outputs, so memory stays bounded."""
    fan_in = max(1, sum(len(d) for d, _, _ in layer.connections(out[:1])))
    step = max(1, _CHUNK_EDGES // fan_in)
    for start in range(0, len(out), step):
        yield start, layer.connections(out[start:start + step])


def expand(net, output, window, limit):
    """Build the neuron-level :class:`~symdtd.network.graph.Network` of a window.

    See :meth:`LayerNetwork.neurons <symdtd.network.layer_graph.LayerNetwork.neurons>`.
    """
    out_layer = net.layer(output)
    needed = {output: _window_mask(out_layer, window)}
    order = net.order()
    edges, total = {}, 0
    for name in reversed(order):
        if name not in needed or not needed[name].any() or net.layer(name).neuron_kind == "input":
            continue
        layer = net.layer(name)
        for s in layer.sources:
            needed.setdefault(s, np.zeros(int(np.prod(net.layer(s).shape)), dtype=bool))
        out = np.flatnonzero(needed[name])
        if layer.neuron_kind == "view":
            which, src = layer.view(out)
            for k, s in enumerate(layer.sources):
                needed[s][src[which == k]] = True
            continue
        kept = [[] for _ in layer.sources]
        for start, conns in _connections(layer, out):
            for k, (dst, src, w) in enumerate(conns):
                needed[layer.sources[k]][src] = True
                total += len(dst)
                if total <= limit:
                    # float64 whatever the layer keeps (float32 weights are float64 numbers)
                    kept[k].append((dst + start, src, w.astype(np.float64, copy=False)))
        edges[name] = kept if total <= limit else None
    if total > limit:
        raise ValueError(f"the window needs {total} edges, more than limit={limit}; "
                         "choose a smaller window or raise the limit")
    network = Network(maxpool=net.maxpool)
    for name in order:
        layer = net.layer(name)
        if name not in needed or not needed[name].any() or layer.neuron_kind == "view":
            continue
        out = np.flatnonzero(needed[name])
        if layer.neuron_kind == "input":
            _add_inputs(network, layer, out)
        else:
            _add_neurons(net, network, layer, out, edges[name])
    network.outputs = [str(n) for n in neuron_names(net, output, np.flatnonzero(needed[output]))]
    return network


def _add_inputs(network, layer, out):
    domain = layer.domain
    per_input = isinstance(domain, Box) and not domain.symbolic and domain.per_input
    low, high = layer.bounds() if per_input else (None, None)
    for k in out.tolist():
        d = Box(float(low.flat[k]), float(high.flat[k])) if per_input else domain
        network.add_input(f"{layer.name}{k + 1}", d)


def _add_neurons(net, network, layer, out, kept):
    names = neuron_names(net, layer.name, out)
    dst, src_names, weights = [], [], []
    for k, source in enumerate(layer.sources):
        if kept[k]:
            d, s, w = (np.concatenate(a) for a in zip(*kept[k]))
            dst.append(d)
            src_names.append(neuron_names(net, source, s))
            weights.append(w)
    dst, src_names, weights = np.concatenate(dst), np.concatenate(src_names), np.concatenate(weights)
    order = np.argsort(dst, kind="stable")  # per neuron: sources in order, cells row-major
    dst, src_names, weights = dst[order], src_names[order].tolist(), weights[order].tolist()
    bounds = np.searchsorted(dst, np.arange(len(out) + 1))
    bias = getattr(layer, "bias", None)
    biases = (np.zeros(len(out)) if bias is None else
              bias[np.unravel_index(out, layer.shape)[0]]).tolist()
    kind, rule = layer.neuron_kind, layer.rule
    for j, neuron in enumerate(names.tolist()):
        a, b = bounds[j], bounds[j + 1]
        if kind == "sumpool":
            network.add_sum_pool(neuron, src_names[a:b], rule=rule)
        elif kind == "maxpool":
            network.add_max_pool(neuron, src_names[a:b], rule=rule)
        else:
            network.add_neuron(neuron, dict(zip(src_names[a:b], weights[a:b])), bias=biases[j],
                               kind=kind, rule=rule)


def neuron_expression(net, name, index, symbols=None):
    """Layer *name*'s generic expression expanded at output *index* (an int tuple or flat int).

    See :meth:`LayerNetwork.neuron_expression
    <symdtd.network.layer_graph.LayerNetwork.neuron_expression>`.
    """
    layer = net.layer(name)
    index = np.unravel_index(index, layer.shape) if np.isscalar(index) else tuple(index)
    if len(index) != len(layer.shape) or not all(0 <= i < n for i, n in zip(index, layer.shape)):
        raise ValueError(f"index {index!r} is outside layer {name!r} of shape {layer.shape}")
    rhs = layer.expression().rhs.subs(dict(zip(layer.index_symbols(), map(int, index))))
    params = layer.parameters() if hasattr(layer, "parameters") else {}
    shapes = dict(zip(layer.sources, layer.input_shapes))

    def inside(entry):
        return all(0 <= int(i) < n for i, n in zip(entry.indices, shapes[str(entry.base)]))

    for m in rhs.atoms(WINDOW_MAX):  # max over the window's cells that exist (padding never wins)
        term, *limits = m.args
        cells = [term.subs(dict(zip([lim[0] for lim in limits], at)))
                 for at in np.ndindex(*[int(lim[2] - lim[1] + 1) for lim in limits])]
        rhs = rhs.xreplace({m: sp.Max(*[t for t in cells
                                        if inside(next(iter(t.atoms(sp.Indexed))))])})
    rhs = rhs.doit()
    values = {}
    for entry in rhs.atoms(sp.Indexed):
        base, at = str(entry.base), tuple(int(i) for i in entry.indices)
        if base in params:
            values[entry] = sp.Float(float(params[base][at]))
        elif not inside(entry):
            values[entry] = sp.Integer(0)      # zero padding
        else:
            flat = int(np.ravel_multi_index(at, shapes[base]))
            neuron = str(neuron_names(net, base, [flat])[0])
            values[entry] = symbols[neuron] if symbols else sp.Symbol(neuron)
    return rhs.xreplace(values)
