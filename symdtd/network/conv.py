"""Convolutional networks as neuron DAGs: convolution and pooling with shared weights.

:class:`ConvNetBuilder` builds a :class:`~symdtd.network.graph.Network` layer by
layer, like a ``torch.nn.Sequential``, but without PyTorch. Every output
position of a convolution is one neuron; the neurons of a channel share the
kernel, so an edge's ``weight`` is the kernel entry it was cut from. Zero
padding adds no edges (a padded zero contributes nothing to ``z``).

How each layer becomes neurons (kinds as documented in :mod:`symdtd.network.graph`):

=============  ================================================================
layer          neurons
=============  ================================================================
conv2d         ``relu`` (or ``linear`` with ``activation="linear"``)
dense          the same; the last layer is usually ``linear`` (the logits)
sum_pool2d     ``sumpool``: ``x = Σ x_i``
avg_pool2d     ``relu`` with weights ``1/k`` and bias 0: its inputs are ≥ 0,
               so ``max(0, ·)`` is the identity and z⁺ redistributes in
               proportion to the inputs, exactly as sum-pooling does
max_pool2d     ``maxpool`` (winner-take-all or proportional)
flatten        nothing: the names are read in ``(channel, row, column)`` order
=============  ================================================================

Pooling needs inputs ≥ 0 (after a ReLU or a ≥ 0 input domain), as the
pooling rules assume. Node names: inputs ``x1 … xN`` in flattened
``(channel, row, column)`` order (the same names as :meth:`Network.from_dense`
gives a flattened image), neurons ``{layer}_{channel}_{row}_{column}`` (0-based)
or ``{layer}_{k}`` after flattening; layers are named ``conv1``, ``pool1``,
``dense1`` … unless named.

Examples
--------
A 1×3×3 image, one 2×2 kernel, 2×2 sum-pooling, one linear output:

>>> import numpy as np
>>> from symdtd.core.domains import Box
>>> b = ConvNetBuilder((1, 3, 3), Box(0, 1))
>>> b = b.conv2d(np.ones((1, 1, 2, 2)), bias=[-1.0])
>>> b.shape
(1, 2, 2)
>>> net = b.sum_pool2d(2).flatten().dense([[2.0]], activation="linear").build()
>>> net.graph.nodes["conv1_0_0_1"]["expr"]
Max(0, 1.0*x2 + 1.0*x3 + 1.0*x5 + 1.0*x6 - 1.0)
>>> net.forward([np.arange(9) / 8]).tolist()
[[8.0]]
"""
from __future__ import annotations

import numpy as np

from ..core.domains import Box, Positive, Real
from .graph import Network
from .kind_registry import kind_named, registered

__all__ = ["ConvNetBuilder", "conv_output_size"]


def _pair(value, what):
    """``(a, b)`` from an int or a pair of ints."""
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 0 for v in pair):
        raise ValueError(f"{what} must be a non-negative int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(size, kernel, stride, padding):
    """Output length of a convolution or pooling along one axis (PyTorch's floor rule).

    >>> conv_output_size(8, 3, 1, 1), conv_output_size(8, 2, 2, 0), conv_output_size(5, 2, 2, 0)
    (8, 4, 2)
    """
    return (size + 2 * padding - kernel) // stride + 1


class ConvNetBuilder:
    """Build a convolutional ReLU network as a :class:`Network`, layer by layer.

    Parameters
    ----------
    input_shape : tuple
        ``(channels, height, width)``, ``(height, width)`` or ``(n,)``.
    input_domain : Domain, optional
        Shared by all inputs; default ``Real()`` (w² at the input). Give
        ``Box(0, 1)`` for pixels in [0, 1] (zᴮ at the input).
    maxpool : {"winner", "proportional"}
        The network's max-pooling mode.

    Attributes
    ----------
    shape : tuple
        Shape of the current layer's output: ``(C, H, W)`` or ``(n,)``.
    network : Network
        The network built so far.
    """

    def __init__(self, input_shape, input_domain=None, *, maxpool="winner"):
        shape = tuple(int(s) for s in np.atleast_1d(input_shape))
        if len(shape) == 2:
            shape = (1,) + shape
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ValueError(f"input_shape must be (C, H, W), (H, W) or (n,), got {input_shape!r}")
        domain = Real() if input_domain is None else input_domain
        self.network = Network(maxpool=maxpool)
        n = int(np.prod(shape))
        names = np.array([f"x{k + 1}" for k in range(n)], dtype=object).reshape(shape)
        for name in names.ravel():
            self.network.add_input(name, domain)
        self._names = names
        self._nonnegative = isinstance(domain, Positive) or (
            isinstance(domain, Box) and not domain.symbolic and np.min(domain.low) >= 0)
        self._counts = {}

    @property
    def shape(self):
        """Shape of the current layer: ``(C, H, W)`` or ``(n,)`` after flattening."""
        return self._names.shape

    @property
    def nonnegative(self):
        """True when the current layer's values are ≥ 0 (ReLU, pooling, a ≥ 0 input box)."""
        return self._nonnegative

    def _layer_name(self, name, prefix):
        self._counts[prefix] = self._counts.get(prefix, 0) + 1
        name = name or f"{prefix}{self._counts[prefix]}"
        if any(n.startswith(name + "_") for n in self.network.graph):
            raise ValueError(f"layer name {name!r} is already used")
        return name

    def _image(self, what):
        if len(self.shape) != 3:
            raise ValueError(f"{what} needs an image (C, H, W); the current layer is flat {self.shape}")
        return self.shape

    def _check_activation(self, activation, layer):
        kind = kind_named(activation) if activation in registered() else None
        if kind is None or kind.is_input or not kind.weighted:
            raise ValueError(f"{layer}: activation must be 'relu' or 'linear', got {activation!r}")
        self._nonnegative = kind.nonnegative
        return activation

    def conv2d(self, weight, bias=None, *, stride=1, padding=0, activation="relu", name=None):
        """Add a 2-D convolution (cross-correlation, as PyTorch computes it).

        Parameters
        ----------
        weight : array-like, shape (C_out, C_in, kh, kw)
            PyTorch's layout.
        bias : array-like, shape (C_out,), optional
        stride, padding : int or pair
            Zero padding.
        activation : {"relu", "linear"}
        name : str, optional

        Returns
        -------
        ConvNetBuilder
            ``self``, for chaining.
        """
        C, H, W = self._image("conv2d")
        weight = np.asarray(weight, dtype=float)
        if weight.ndim != 4 or weight.shape[1] != C:
            raise ValueError(f"conv2d: weight must have shape (C_out, {C}, kh, kw), got {weight.shape}")
        C_out, _, kh, kw = weight.shape
        bias = np.zeros(C_out) if bias is None else np.asarray(bias, dtype=float).ravel()
        if bias.shape != (C_out,):
            raise ValueError(f"conv2d: bias must have {C_out} entries, got {bias.size}")
        if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
            raise ValueError("conv2d: weight and bias must be finite")
        (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
        if sh == 0 or sw == 0:
            raise ValueError(f"conv2d: stride must be positive, got {stride!r}")
        Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"conv2d: a {kh}×{kw} kernel does not fit the {H}×{W} input")
        kind = self._check_activation(activation, "conv2d")
        layer = self._layer_name(name, "conv")
        out = np.empty((C_out, Ho, Wo), dtype=object)
        wl = weight.tolist()  # Python floats: no NumPy scalars on the edges
        for i in range(Ho):
            for j in range(Wo):
                cells = [(di, dj, i * sh - ph + di, j * sw - pw + dj)
                         for di in range(kh) for dj in range(kw)]
                cells = [c for c in cells if 0 <= c[2] < H and 0 <= c[3] < W]  # padding: no edge
                for o in range(C_out):
                    inputs = {self._names[c, r, s]: wl[o][c][di][dj]
                              for c in range(C) for di, dj, r, s in cells}
                    out[o, i, j] = f"{layer}_{o}_{i}_{j}"
                    self.network.add_neuron(out[o, i, j], inputs, bias=float(bias[o]), kind=kind)
        self._names = out
        return self

    def _pool(self, kernel_size, stride, padding, what):
        C, H, W = self._image(what)
        if not self._nonnegative:
            raise ValueError(f"{what}: pooling needs inputs ≥ 0; add a ReLU before it "
                             "(the current layer is linear or its inputs are real-valued)")
        kh, kw = _pair(kernel_size, "kernel_size")
        sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
        ph, pw = _pair(padding, "padding")
        if min(kh, kw, sh, sw) < 1 or ph > kh // 2 or pw > kw // 2:
            raise ValueError(f"{what}: kernel and stride must be ≥ 1 and padding ≤ half the kernel")
        Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{what}: a {kh}×{kw} window does not fit the {H}×{W} input")
        windows = {}
        for i in range(Ho):
            for j in range(Wo):
                windows[i, j] = [(r, s) for r in range(i * sh - ph, i * sh - ph + kh)
                                 for s in range(j * sw - pw, j * sw - pw + kw)
                                 if 0 <= r < H and 0 <= s < W]
        return (C, Ho, Wo), windows, kh * kw

    def sum_pool2d(self, kernel_size, stride=None, *, name=None):
        """Add sum-pooling ``x = Σ x_i`` over windows (stride default: the kernel size)."""
        shape, windows, _ = self._pool(kernel_size, stride, 0, "sum_pool2d")
        layer = self._layer_name(name, "pool")
        out = np.empty(shape, dtype=object)
        for c in range(shape[0]):
            for (i, j), cells in windows.items():
                out[c, i, j] = f"{layer}_{c}_{i}_{j}"
                self.network.add_sum_pool(out[c, i, j], [self._names[c, r, s] for r, s in cells])
        self._names = out
        return self

    def avg_pool2d(self, kernel_size, stride=None, padding=0, *, divisor=None, name=None):
        """Add average pooling as ReLU neurons with weights ``1/divisor``, bias 0.

        *divisor* defaults to the window size ``kh·kw`` (PyTorch's
        ``count_include_pad=True``: padded cells count, but add no edge).
        """
        shape, windows, size = self._pool(kernel_size, stride, padding, "avg_pool2d")
        divisor = size if divisor is None else divisor
        if not divisor > 0:
            raise ValueError(f"avg_pool2d: divisor must be positive, got {divisor!r}")
        layer = self._layer_name(name, "pool")
        out = np.empty(shape, dtype=object)
        for c in range(shape[0]):
            for (i, j), cells in windows.items():
                out[c, i, j] = f"{layer}_{c}_{i}_{j}"
                self.network.add_neuron(out[c, i, j], {self._names[c, r, s]: 1.0 / divisor
                                                       for r, s in cells}, bias=0.0)
        self._names = out
        return self

    def max_pool2d(self, kernel_size, stride=None, padding=0, *, rule=None, name=None):
        """Add max-pooling; *rule* ``"winner"`` or ``"proportional"`` (default: the network's)."""
        shape, windows, _ = self._pool(kernel_size, stride, padding, "max_pool2d")
        layer = self._layer_name(name, "pool")
        out = np.empty(shape, dtype=object)
        for c in range(shape[0]):
            for (i, j), cells in windows.items():
                out[c, i, j] = f"{layer}_{c}_{i}_{j}"
                self.network.add_max_pool(out[c, i, j], [self._names[c, r, s] for r, s in cells],
                                          rule=rule)
        self._names = out
        return self

    def flatten(self):
        """Read the current layer in ``(channel, row, column)`` order (PyTorch's ``Flatten``)."""
        self._names = self._names.reshape(-1)
        return self

    def dense(self, weight, bias=None, *, activation="relu", name=None, neuron_names=None):
        """Add a fully connected layer; *weight* has shape ``(n_in, n_out)``.

        The current layer is flattened first. Note the layout: scikit-learn's
        ``coefs_`` (``(n_in, n_out)``), the transpose of PyTorch's ``Linear.weight``.
        *neuron_names* names the neurons (e.g. ``["y0", …, "y9"]`` for the
        logits); default ``{layer}_{k}``.
        """
        names = self._names.reshape(-1)
        weight = np.asarray(weight, dtype=float)
        if weight.ndim != 2 or weight.shape[0] != names.size:
            raise ValueError(f"dense: weight must have shape ({names.size}, n_out), got {weight.shape}")
        bias = np.zeros(weight.shape[1]) if bias is None else np.asarray(bias, dtype=float).ravel()
        if bias.shape != (weight.shape[1],):
            raise ValueError(f"dense: bias must have {weight.shape[1]} entries, got {bias.size}")
        if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
            raise ValueError("dense: weight and bias must be finite")
        kind = self._check_activation(activation, "dense")
        layer = self._layer_name(name, "dense")
        if neuron_names is None:
            neuron_names = [f"{layer}_{k}" for k in range(weight.shape[1])]
        elif len(neuron_names) != weight.shape[1]:
            raise ValueError(f"dense: neuron_names has {len(neuron_names)} names for "
                             f"{weight.shape[1]} neurons")
        out = np.array([str(n) for n in neuron_names], dtype=object)
        columns = weight.T.tolist()
        for k, name_k in enumerate(out):
            self.network.add_neuron(name_k, dict(zip(names, columns[k])), bias=float(bias[k]),
                                    kind=kind)
        self._names = out
        return self

    def build(self):
        """The finished :class:`Network`; its outputs are the last layer's neurons."""
        last = [str(n) for n in self._names.ravel()]
        if kind_named(self.network.graph.nodes[last[0]]["kind"]).is_input:
            raise ValueError("build: add at least one layer")
        self.network.outputs = last
        return self.network
