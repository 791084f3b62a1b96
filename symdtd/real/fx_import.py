"""Import any traceable PyTorch model as a :class:`~symdtd.network.layer_graph.LayerNetwork` via ``torch.fx``.

:func:`layers_from_torch` traces the model with :func:`torch.fx.symbolic_trace`
(read as in eval mode) and walks the traced graph node by node, building one
layer node per fx node (:mod:`symdtd.network.layers`,
:mod:`symdtd.network.pool_layers`, :mod:`symdtd.network.join_layers`). The
layers are named after the fx nodes (``layer1_0_conv1``, ``add_1``), so a
model's module paths stay recognisable.

Fusion follows what a deep Taylor neuron is, ``max(0, Σ x w + b)``: a
``BatchNorm`` right after a ``Linear`` or ``Conv2d`` (its only reader) is
folded into it with the running statistics, and a ReLU that is the only
reader of a linear map or of a residual sum becomes that layer's
``activation="relu"``. A ReLU elsewhere is the identity when its input is
≥ 0 and otherwise a layer of its own (weight 1 per channel); a BatchNorm
elsewhere is a per-channel affine layer. Dropout and Identity are identities.
What is not supported raises a ``TypeError`` naming the fx node (its module
path or function) and listing :data:`FX_SUPPORTED`; shape errors are the
``ValueError`` of :meth:`LayerNetwork.add_layer
<symdtd.network.layer_graph.LayerNetwork.add_layer>`, naming the layer.

Examples
--------
>>> import pytest
>>> from symdtd import Box
>>> torch = pytest.importorskip("torch")
>>> class Block(torch.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.conv = torch.nn.Conv2d(2, 2, 3, padding=1)
...         self.fc = torch.nn.Linear(2, 3)
...     def forward(self, x):
...         h = torch.relu(self.conv(x) + x)
...         return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(h, 1), 1))
>>> net = layers_from_torch(Block().eval(), (2, 5, 5), Box(0, 1))
>>> net.order()
['x', 'conv', 'add', 'adaptive_avg_pool2d', 'flatten', 'fc']
>>> net.layer("conv").activation, net.layer("add").activation
('linear', 'relu')
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.domains import Domain, Real
from ..network.join_layers import Add, Concat, Flatten
from ..network.layer_graph import LayerNetwork
from ..network.layer_ops import pair
from ..network.layers import Conv2d, Dense, fold_batchnorm
from ..network.norm_layers import LocalResponseNorm
from ..network.pool_layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .fx_graph import FX_SUPPORTED, FxGraph
from .fx_shapes import FxShapes
from .torch_modules import batchnorm_stats, conv_padding, eval_mode, require_extra, warn_training, weight_view

__all__ = ["layers_from_torch", "FX_SUPPORTED"]


def layers_from_torch(model: object, input_shape: Sequence[int], input_domain: Domain | None = None, *,
                      maxpool: str = "winner") -> LayerNetwork:
    """A :class:`~symdtd.network.layer_graph.LayerNetwork` from any ``torch.fx``-traceable model.

    Parameters
    ----------
    model : torch.nn.Module
        Read as in eval mode (BatchNorm's running statistics, no dropout);
        typed ``object`` so that PyTorch is imported only when this is called.
        Its ``forward`` takes one tensor and returns one tensor.
    input_shape : tuple of int
        One sample's shape without the batch axis: ``(C, H, W)`` or ``(n,)``.
    input_domain : Domain, optional
        Default ``Real()``; ``Box(0, 1)`` for pixels in [0, 1].
    maxpool : {"winner", "proportional"}, default "winner"
        How max-pooling layers share relevance.

    Returns
    -------
    LayerNetwork
        Layers named after the fx nodes; its output is the model's output.

    Raises
    ------
    ImportError
        PyTorch is missing.
    TypeError
        Not a module, not traceable (data-dependent control flow), several
        inputs or outputs, an operation that is not supported (named, with
        :data:`FX_SUPPORTED`).
    ValueError
        An input shape or a channel count that does not fit (the message
        names the layer).

    Warns
    -----
    TrainingModeWarning
        The model is in training mode; it is read as in eval mode.

    Examples
    --------
    >>> import numpy as np, pytest
    >>> from symdtd import Box
    >>> torch = pytest.importorskip("torch")
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
    ...                             torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 2))
    >>> net = layers_from_torch(model.eval(), (1, 4, 4), Box(0, 1))
    >>> net
    LayerNetwork(4 layers, inputs=['x'], output='4')
    >>> x = torch.rand(3, 1, 4, 4, dtype=torch.float64)
    >>> bool(np.allclose(net.forward(x.numpy()), model.double()(x).detach().numpy()))
    True
    """
    torch = require_extra("torch", "torch")
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"from_torch reads a torch.nn.Module, got {type(model).__name__}")
    warn_training(model, stacklevel=3)
    if torch.fx.Tracer().is_leaf_module(model, ""):
        model = torch.nn.Sequential(model)        # a bare Linear or Conv2d: trace it as a block
    with eval_mode(model):
        try:
            traced = torch.fx.symbolic_trace(model)
        except Exception as err:  # noqa: BLE001 — every tracing failure becomes one clear line
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise TypeError(f"from_torch: {type(model).__name__} cannot be traced by torch.fx "
                            f"({type(err).__name__}: {first}); data-dependent control flow is not "
                            "supported (tensors in if/for/while)") from None
        net = LayerNetwork(maxpool=maxpool)
        _Reader(torch, traced, net, tuple(input_shape), Real() if input_domain is None else input_domain).read()
    return net


class _Reader(FxShapes, FxGraph):
    """One walk over a traced graph: ``env`` maps each fx node to its value (a layer
    name for a tensor, :data:`BATCH`, an int, a tuple of them)."""

    def __init__(self, torch, traced, net, input_shape, domain):
        super().__init__(torch, traced)
        self.net, self.input_shape, self.domain = net, input_shape, domain
        self.env = {}

    # --------------------------------------------------------------- walk
    def read(self):
        for node in self.traced.graph.nodes:
            if node in self.env:
                continue                          # fused into the layer before it
            if node.op == "placeholder":
                self.placeholder(node)
            elif node.op == "output":
                return self.output(node)
            elif node.op == "get_attr":
                raise self.unsupported(node, "a parameter or buffer used directly (e.g. F.linear(x, "
                                             "self.weight)) is not supported")
            else:
                kind, args = self.kind(node)
                getattr(self, "on_" + kind)(node, args)

    def value(self, arg):
        return self.env[arg] if isinstance(arg, self.torch.fx.Node) else arg

    def tensor(self, arg, node):
        """The layer name of a tensor argument; TypeError when it is a constant or a size."""
        value = self.value(arg)
        if not isinstance(value, str):
            raise self.unsupported(node, f"expects a tensor, got {value!r} (a constant or a size)")
        return value

    def shape(self, name):
        return self.net.layer(name).shape

    def add(self, node, layer, sources, name=None):
        """Add *layer* under *node*'s name (``_0`` of a Sequential becomes ``0``); its name."""
        if name is None:
            name = node.name.lstrip("_") or node.name
            name = node.name if name != node.name and (name in self.names or name in self.net.graph) else name
        try:
            self.net.add_layer(name, layer, sources)
        except ValueError as err:
            raise ValueError(f"from_torch: {self.where(node)}: {err}") from None
        return name

    # ----------------------------------------------------- ends of the graph
    def placeholder(self, node):
        if self.net.inputs:
            raise TypeError(f"from_torch: the model's forward takes more than one argument "
                            f"({node.name!r} is the second); one input tensor is supported")
        name = "x"          # its neurons are x1, x2, … as from_torch names them
        while name in self.names - {node.name}:
            name += "x"
        try:
            self.net.add_input(name, self.input_shape, self.domain)
        except ValueError as err:
            raise ValueError(f"from_torch: input_shape: {err}") from None
        self.env[node] = name

    def output(self, node):
        out = node.args[0]
        if not isinstance(out, self.torch.fx.Node):
            raise TypeError(f"from_torch: the model returns a {type(out).__name__}; one tensor "
                            "output is needed (return only the logits)")
        name = self.tensor(out, node)
        if name in self.net.inputs:
            raise TypeError("from_torch: the model returns its input unchanged; there is nothing to explain")
        self.net.prune(name)    # layers of unused branches go; the output is the model's
        return self.net

    # ------------------------------------------------------------- fusion
    def fused(self, node, sources, make, batchnorm=None):
        """Add ``make(bn, activation)`` under *node*'s name, with the BatchNorm (of type
        *batchnorm*) and the ReLU that follow it as its only readers folded in."""
        chain, bn = self.follow(node), None
        nxt = self.only_user(chain[-1])
        if batchnorm is not None and nxt is not None and nxt.op == "call_module" and \
                isinstance(self.modules[nxt.target], batchnorm):
            bn = (self.modules[nxt.target], self.where(nxt))
            chain += self.follow(nxt)
            nxt = self.only_user(chain[-1])
        relu = nxt is not None and self.is_kind(nxt, "relu")
        if relu:
            chain += self.follow(nxt)
        try:
            layer = make(bn, "relu" if relu else "linear")
        except ValueError as err:
            raise ValueError(f"from_torch: {self.where(node)}: {err}") from None
        name = self.add(node, layer, sources)
        for n in chain:
            self.env[n] = name

    def nonneg(self, name):
        """Whether the values of layer *name* are ≥ 0 (a ReLU on them is the identity)."""
        kind = self.net.input_class(name)
        if kind == "positive":
            return True
        base = self.net.base_input(name)
        if kind == "box" and base is not None and not base.domain.symbolic:
            return bool(np.min(base.bounds()[0]) >= 0)
        return False

    # ------------------------------------------------------------ layers
    def on_linear(self, node, args):
        m = args["module"]
        weight, bias = weight_view(m.weight), None if m.bias is None else weight_view(m.bias)
        self.fused(node, [self.tensor(args["input"], node)],
                   lambda bn, act: _folded(Dense(weight, bias, activation=act), bn),
                   self.torch.nn.BatchNorm1d)

    def on_conv(self, node, args):
        m, where = args["module"], self.where(node)
        if m.padding_mode != "zeros":
            raise self.unsupported(node, f"padding_mode={m.padding_mode!r} (only zero padding)")
        padding = conv_padding(m.padding, m.kernel_size, m.stride, m.dilation, where)
        weight, bias = weight_view(m.weight), None if m.bias is None else weight_view(m.bias)
        self.fused(node, [self.tensor(args["input"], node)],
                   lambda bn, act: _folded(Conv2d(weight, bias, stride=m.stride, padding=padding,
                                                  dilation=m.dilation, groups=m.groups, activation=act), bn),
                   self.torch.nn.BatchNorm2d)

    def on_batchnorm(self, node, args):
        """A BatchNorm not right after a linear map: a per-channel affine layer (weight 1 per channel)."""
        src, m = self.tensor(args["input"], node), args["module"]
        flat = len(self.shape(src)) == 1
        if flat != isinstance(m, self.torch.nn.BatchNorm1d):
            raise self.unsupported(node, f"{type(m).__name__} on a per-sample shape {self.shape(src)}")
        n = self.shape(src)[0]
        stats = (m, self.where(node))
        if flat:
            self.fused(node, [src], lambda bn, act: _folded(Dense(np.eye(n), activation=act), stats))
        else:
            self.fused(node, [src], lambda bn, act: _folded(
                Conv2d(np.ones((n, 1, 1, 1)), groups=n, activation=act), stats))

    def on_relu(self, node, args):
        src = self.tensor(args["input"], node)
        if self.nonneg(src):
            self.env[node] = src                     # the identity on values ≥ 0
        else:
            shape = self.shape(src)
            layer = (Dense(np.eye(shape[0])) if len(shape) == 1 else
                     Conv2d(np.ones((shape[0], 1, 1, 1)), groups=shape[0]))
            self.env[node] = self.add(node, layer, [src])
        if args["inplace"] and isinstance(args["input"], self.torch.fx.Node):
            self.env[args["input"]] = self.env[node]     # later readers see the ReLU's values

    def on_add(self, node, args):
        a, b = (self.value(args[k]) for k in ("input", "other"))
        if not (isinstance(a, str) and isinstance(b, str)):
            raise self.unsupported(node, f"adds {a!r} and {b!r}; only tensor + tensor is supported")
        if args["alpha"] != 1:
            raise self.unsupported(node, f"torch.add with alpha={args['alpha']!r}")
        self.fused(node, [a, b], lambda bn, act: Add(activation=act))
        if node.op == "call_method" and node.target == "add_":
            self.env[args["input"]] = self.env[node]

    def on_cat(self, node, args):
        tensors = [self.tensor(t, node) for t in args["tensors"]]
        ndim = len(self.shape(tensors[0])) + 1
        if args["dim"] % ndim != 1:
            raise self.unsupported(node, f"concatenation along dim={args['dim']} (only the channels, dim=1)")
        self.env[node] = tensors[0] if len(tensors) == 1 else self.add(node, Concat(), tensors)

    def on_maxpool(self, node, args):
        src = self.tensor(args["input"], node)
        if pair(args["dilation"], "dilation", 1) != (1, 1) or args["return_indices"]:
            raise self.unsupported(node, "max-pooling with dilation or return_indices")
        self.env[node] = self.add(node, MaxPool2d(**self.window(node, args)), [src])

    def on_avgpool(self, node, args):
        src = self.tensor(args["input"], node)
        layer = AvgPool2d(**self.window(node, args), divisor=args["divisor_override"],
                          count_include_pad=args["count_include_pad"])
        self.env[node] = self.add(node, layer, [src])

    def window(self, node, args):
        """``kernel_size``, ``stride``, ``padding`` and ``ceil_mode`` of a pooling, checked."""
        try:
            kernel = pair(args["kernel_size"], "kernel_size", 1)
            stride = kernel if args["stride"] in (None, [], ()) else pair(args["stride"], "stride", 1)
            padding = pair(args["padding"], "padding")
        except ValueError as err:
            raise self.unsupported(node, str(err)) from None
        if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
            raise self.unsupported(node, f"padding {padding} more than half the kernel {kernel}")
        return dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=bool(args["ceil_mode"]))

    def on_adaptive(self, node, args):
        src = self.tensor(args["input"], node)
        size = args["output_size"]
        size = (size, size) if isinstance(size, int) or size is None else tuple(size)
        size = tuple(n if s is None else s for s, n in zip(size, self.shape(src)[1:]))
        self.env[node] = self.add(node, AdaptiveAvgPool2d(size), [src])

    def on_lrn(self, node, args):
        layer = LocalResponseNorm(args["size"], alpha=args["alpha"], beta=args["beta"], k=args["k"])
        self.env[node] = self.add(node, layer, [self.tensor(args["input"], node)])

    def on_mean(self, node, args):
        src = self.tensor(args["input"], node)
        ndim = len(self.shape(src)) + 1
        dims = args["dim"] if isinstance(args["dim"], (tuple, list)) else [args["dim"]]
        if ndim != 4 or args["dtype"] is not None or sorted(d % 4 for d in dims if d is not None) != [2, 3]:
            raise self.unsupported(node, "a mean other than over the image axes (2, 3)")
        name = self.add(node, AdaptiveAvgPool2d(1), [src])
        if not args["keepdim"]:
            name = self.add(node, Flatten(), [name], name=self.fresh(node.name + "_flat"))
        self.env[node] = name

    def fresh(self, name):
        while name in self.names or name in self.net.graph:
            name += "_"
        return name


def _folded(layer, bn):
    """*layer* with the BatchNorm ``(module, where)`` folded in (as is when *bn* is None)."""
    if bn is None:
        return layer
    module, where = bn
    return fold_batchnorm(layer, *batchnorm_stats(module, where))
