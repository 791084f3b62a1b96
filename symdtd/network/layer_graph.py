"""A network of layer nodes: a ``networkx.DiGraph`` whose nodes are layers, with shape inference.

:class:`LayerNetwork` holds a DAG of layer nodes (:mod:`symdtd.network.layers`,
:mod:`symdtd.network.pool_layers`): each node is a group of neurons with a
shape, its parameters as arrays and one generic expression. Adding a layer
infers its output shape from its sources and refuses a mismatch with a
one-line error naming the layer. Nothing here loops over neurons except
:meth:`LayerNetwork.neurons`, which derives the neuron view on demand: the
whole network, or a *window* (some neurons of one layer and their receptive
field) as a :class:`~symdtd.network.graph.Network` built through its public
API, so that ``propagate``, ``verify`` and ``render`` work on it
(:mod:`symdtd.network.layer_neurons`).

The rule of a layer's neurons is chosen by the same composites as a
neuron's (:meth:`LayerNetwork.rule_for`, :mod:`symdtd.network.layer_rules`),
from the value classes of its sources (:meth:`LayerNetwork.input_class`); a
layer's ``rule`` overrides it, as ``add_neuron(rule=...)`` does.

Layers come out again through :meth:`LayerNetwork.remove` and
:meth:`LayerNetwork.prune` (:mod:`symdtd.network.layer_prune`).

Examples
--------
>>> import numpy as np
>>> from symdtd.core.domains import Box
>>> from symdtd.network.join_layers import Flatten
>>> from symdtd.network.layers import Conv2d, Dense
>>> from symdtd.network.pool_layers import SumPool2d
>>> net = LayerNetwork()
>>> net.add_input("x", (1, 3, 3), Box(0, 1))
InputLayer('x', shape=(1, 3, 3))
>>> net.add_layer("conv1", Conv2d(np.ones((1, 1, 2, 2)), bias=[-1.0]))
Conv2d('conv1', shape=(1, 2, 2))
>>> _ = net.add_layer("pool1", SumPool2d(2))
>>> _ = net.add_layer("flat", Flatten())
>>> _ = net.add_layer("y", Dense([[2.0]], activation="linear"))
>>> net.forward(np.arange(9.0).reshape(1, 1, 3, 3) / 8).tolist()
[[8.0]]
>>> net.rule_for("conv1").name, net.rule_for("pool1").name, net.rule_for("y").name
('zB', 'z', 'z+')
>>> neurons = net.neurons()
>>> neurons.graph.nodes["conv1_0_0_1"]["expr"]
Max(0, 1.0*x2 + 1.0*x3 + 1.0*x5 + 1.0*x6 - 1.0)
"""
from __future__ import annotations

import networkx as nx
import numpy as np

from ..core.domains import Box, Positive, Real
from .kind_base import MAXPOOL_MODES
from .kind_registry import kind_named
from .layer_base import Layer
from .layer_checks import check_neuron_names, check_new_name, check_sources
from .layer_inputs import InputLayer, check_inputs
from .layer_neurons import expand, neuron_expression
from .layer_prune import prune_layers, remove_layer
from .layer_rules import layer_rule, structure_key

__all__ = ["LayerNetwork", "InputLayer", "EDGE_LIMIT", "neuron_network"]

#: the most neuron-level edges :meth:`LayerNetwork.neurons` builds unless told otherwise
EDGE_LIMIT = 10 ** 6


class LayerNetwork:
    """A DAG of layer nodes; ``graph.nodes[name]["layer"]`` is the node's layer.

    Parameters
    ----------
    maxpool : {"winner", "proportional"}
        How max-pooling layers without a rule of their own redistribute.

    Attributes
    ----------
    graph : networkx.DiGraph
        Edges run from a source layer to the layers reading it; the edge
        attribute ``slot`` is the source's position among the reader's sources.
    output : str
        The layer explained by default; the last one added unless set.
    """

    def __init__(self, maxpool="winner"):
        if maxpool not in MAXPOOL_MODES:
            raise ValueError(f"maxpool must be one of {MAXPOOL_MODES}, got {maxpool!r}")
        self.graph = nx.DiGraph()
        self.maxpool = maxpool
        self.output = None
        self._last = None

    # ----------------------------------------------------------------- build
    def add_input(self, name, shape, domain=None):
        """Add an input layer of per-sample *shape* ``(C, H, W)`` or ``(n,)``.

        *domain* (default ``Positive()``, as :meth:`Network.add_input
        <symdtd.network.graph.Network.add_input>`) holds for every entry; a
        :class:`~symdtd.core.domains.Box` may give per-entry bounds in flat order.
        """
        check_new_name(self, name, is_input=True)
        layer = InputLayer(name, shape, Positive() if domain is None else domain)
        self.graph.add_node(name, layer=layer)
        self._last = name
        return layer

    def add_layer(self, name, layer, sources=None):
        """Add *layer* under *name*, reading *sources* (default: the last layer added).

        Returns
        -------
        Layer
            *layer*, now with its name and shapes.

        Raises
        ------
        ValueError
            A name already used, an unknown source, a shape the layer cannot
            take (named in the message), pooling on inputs that may be negative,
            a concatenation of sources with different value classes.
        """
        check_new_name(self, name)
        if not isinstance(layer, Layer) or isinstance(layer, InputLayer):
            raise TypeError(f"layer {name!r}: expected a Layer, got {type(layer).__name__}")
        if sources is None:
            if not len(self.graph):
                raise ValueError(f"layer {name!r}: add an input first")
            sources = [self._last]
        sources = [sources] if isinstance(sources, str) else list(sources)
        for s in sources:
            if s not in self.graph:
                raise ValueError(f"layer {name!r}: source {s!r} is not in the network")
        if len(set(sources)) != len(sources):
            raise ValueError(f"layer {name!r}: a source is listed twice in {sources}")
        layer.bind(name, sources, [self.layer(s).shape for s in sources])
        try:
            check_sources(self, name, layer, sources)
            check_neuron_names(self, layer)
        except ValueError:
            layer.name = None
            raise
        self.graph.add_node(name, layer=layer)
        self.graph.add_edges_from((s, name, {"slot": k}) for k, s in enumerate(sources))
        self.output = self._last = name
        return layer

    def remove(self, name):
        """Remove layer *name*, which no other layer may read, and return it.

        The last layer added becomes the one :meth:`add_layer` reads by default;
        when *name* was the :attr:`output`, the last remaining layer that is
        not an input becomes the output (None if there is none). See
        :func:`symdtd.network.layer_prune.remove_layer`.

        Raises
        ------
        ValueError
            *name* is not a layer of the network, or other layers read it
            (named in the message).
        """
        layer = remove_layer(self, name)
        rest = list(self.graph)
        self._last = rest[-1] if rest else None
        return layer

    def prune(self, output=None):
        """Remove every layer *output* (default :attr:`output`) does not depend on; return their names.

        *output* becomes the output; the layers go readers before their sources.
        See :func:`symdtd.network.layer_prune.prune_layers`.

        Raises
        ------
        ValueError
            *output* is not a layer of the network.
        """
        return prune_layers(self, output)

    # ------------------------------------------------------------------ read
    def layer(self, name):
        """The layer node *name*."""
        if name not in self.graph:
            raise ValueError(f"{name!r} is not a layer of the network")
        return self.graph.nodes[name]["layer"]

    @property
    def inputs(self):
        """Names of the input layers, in the order they were added."""
        return [n for n, d in self.graph.nodes(data="layer") if isinstance(d, InputLayer)]

    def order(self):
        """Layer names in a topological order (inputs first)."""
        return list(nx.topological_sort(self.graph))

    def input_class(self, name):
        """``"positive"``, ``"box"`` or ``"real"``: the values *name*'s neurons take.

        As :meth:`Network.input_class <symdtd.network.graph.Network.input_class>`;
        a view (flatten, concat) has its sources' class.
        """
        layer = self.layer(name)
        if isinstance(layer, InputLayer):
            return ("real" if isinstance(layer.domain, Real) else
                    "box" if isinstance(layer.domain, Box) else "positive")
        if layer.neuron_kind == "view":
            return self.input_class(layer.sources[0])
        return "positive" if kind_named(layer.neuron_kind).nonnegative else "real"

    def base_input(self, name):
        """The input layer behind *name* when it is an input or a view of one, else None."""
        layer = self.layer(name)
        if isinstance(layer, InputLayer):
            return layer
        if layer.neuron_kind == "view":
            return self.base_input(layer.sources[0])
        return None

    def _sync(self):
        """A value that changes with the network (as ``Network._sync``): cached builds check it."""
        return structure_key(self)

    def rule_for(self, name, composite=None, *, maxpool=None):
        """The rule of layer *name*'s neurons: a Rule, or a pooling rule such as
        :data:`~symdtd.network.pooling.WINNER_TAKE_ALL`.

        The layer's own ``rule``, else *composite*'s choice, else
        :class:`~symdtd.network.composites.PaperDefault`'s, decided by
        :func:`symdtd.network.rule_choice.rule_for` on the one-neuron-per-layer
        network of :func:`~symdtd.network.layer_rules.skeleton` (see
        :mod:`symdtd.network.layer_rules`). *maxpool* overrides the network's mode.
        """
        return layer_rule(self, name, composite, maxpool=maxpool)

    # ------------------------------------------------------------------- run
    def forward(self, X, *, activations=False):
        """The output layer's values for a batch.

        Parameters
        ----------
        X : array-like or dict
            ``(batch, *shape)`` or ``(batch, n)`` flattened (a dict
            ``{input name: array}`` when there are several inputs).
        activations : bool
            Return ``{layer name: array}`` of every layer instead.

        Returns
        -------
        numpy.ndarray or dict
        """
        values = self.check_inputs(X)
        for name in self.order():
            layer = self.layer(name)
            if name not in values:
                values[name] = layer.forward([values[s] for s in layer.sources])
        return values if activations else values[self.output]

    def check_inputs(self, X, dtype=np.float64):
        """``{input name: array (batch, *shape)}`` in *dtype* (float64 or float32).

        See :func:`symdtd.network.layer_inputs.check_inputs`.

        Raises
        ------
        ValueError
            A missing or unknown input, a wrong shape, NaN or inf (the message
            names the input).
        """
        return check_inputs(self, X, dtype)

    # -------------------------------------------------------------- neurons
    def neurons(self, window=None, limit=EDGE_LIMIT, *, output=None):
        """The neuron view: a :class:`~symdtd.network.graph.Network` of the whole net or a window.

        Parameters
        ----------
        window : index, optional
            Which neurons of the *output* layer to expand, as a NumPy index
            into its shape (``7``, ``[3, 5]``, ``(slice(0, 2), 4, 4)``); with
            their receptive field (ancestors only). Default: all of them.
        limit : int
            Refuse to build more edges than this.
        output : str, optional
            The layer the window is in (default :attr:`output`).

        Returns
        -------
        Network
            Inputs ``{input}{k + 1}`` (flat index ``k``), neurons
            ``{layer}_{c}_{u}_{v}`` or ``{layer}_{j}``; its outputs are the window.

        Raises
        ------
        ValueError
            More than *limit* edges (the message gives the number needed), an
            empty window, an index outside the layer.
        """
        return expand(self, output or self.output, window, limit)

    def neuron_expression(self, name, index, symbols=None):
        """The generic expression of layer *name* at one output *index*, expanded.

        The parameters become their values and the source entries the symbols of
        the neuron names (or ``symbols[name]`` when given, e.g. a neuron-level
        network's ``{n: graph.nodes[n]["symbol"]}``); padded entries read 0.
        """
        return neuron_expression(self, name, index, symbols)

    def __repr__(self):
        return (f"LayerNetwork({len(self.graph)} layers, inputs={self.inputs}, "
                f"output={self.output!r})")


def neuron_network(network, caller, limit=EDGE_LIMIT):
    """*network* at neuron level: itself, or a :class:`LayerNetwork`'s whole neuron view.

    The entry points that work neuron by neuron (:func:`symdtd.propagate`,
    :func:`symdtd.verify_network`, :func:`symdtd.render`) call this, so a layer
    network is expanded by :meth:`LayerNetwork.neurons` when its neuron view
    has at most *limit* edges, and refused otherwise.

    Parameters
    ----------
    network : Network or LayerNetwork
    caller : str
        The entry point's name, for the error message.
    limit : int

    Returns
    -------
    Network

    Raises
    ------
    ValueError
        The neuron view would need more than *limit* edges, or the network
        has a layer without a neuron-level form; the message points to
        ``net.neurons(window=...)`` and to the layer-level ``symdtd.compile(net)``.

    Examples
    --------
    >>> from symdtd.network.layers import Dense
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,))
    >>> _ = net.add_layer("y", Dense([[1.0, 2.0]], activation="linear"))
    >>> neuron_network(net, "propagate").graph.number_of_edges()
    2
    >>> neuron_network(net, "propagate", limit=1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: propagate works neuron by neuron: the window needs 2 edges, ... net.neurons(window=...), ...
    """
    if not isinstance(network, LayerNetwork):
        return network
    try:
        return network.neurons(limit=limit)
    except ValueError as exc:
        raise ValueError(f"{caller} works neuron by neuron: {exc}. Pass a window of it, "
                         "net.neurons(window=...), or explain the whole network at layer level "
                         "with symdtd.compile(net)") from None
