"""Import trained models: scikit-learn MLPs and PyTorch models.

scikit-learn and PyTorch are optional extras, imported inside the function
that needs them (``pip install symdtd[sklearn]``, ``pip install symdtd[torch]``).
The weights are copied into a :class:`~symdtd.network.graph.Network` in float64
(or, with ``from_torch(..., granularity="layer")``, a
:class:`~symdtd.network.layer_graph.LayerNetwork` read by
:func:`~symdtd.real.fx_import.layers_from_torch`); the imported network's
``forward`` is the framework's prediction before the output activation (the
logits of a classifier).

Nothing is dropped silently: an unsupported layer or activation raises a
``TypeError`` that names it and lists what is supported, and
:func:`positive_biases` lists the neurons whose positive bias takes the
deep Taylor root point out of the domain (trained models have many;
``explain(..., absorb_bias=True)`` puts ``b⁺`` in the denominators instead).

The shipped digits models (:mod:`symdtd.real.models`) need neither extra.

Examples
--------
>>> from symdtd import Network, Box
>>> net = Network.from_dense([[[1.0, -1.0]], [[1.0], [1.0]]], [[0.5, -1.0], [0.0]],
...                          input_domain=Box(0, 1))
>>> positive_biases(net)
['h1_1']
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.domains import Domain, Real
from ..network.conv import ConvNetBuilder
from ..network.graph import Network
from ..network.kind_registry import positive_bias
from ..network.layer_graph import EDGE_LIMIT, LayerNetwork
from .fx_import import layers_from_torch
from .torch_modules import TrainingModeWarning, batchnorm_stats, require_extra, warn_training

__all__ = ["from_sklearn", "from_torch", "positive_biases", "TORCH_LAYERS",
           "TrainingModeWarning", "GRANULARITIES"]

#: what :func:`from_torch` builds: a neuron-level Network or a LayerNetwork
GRANULARITIES = ("neuron", "layer")

#: the torch.nn layers :func:`from_torch` reads
TORCH_LAYERS = ("Linear", "Conv2d", "ReLU", "AvgPool2d", "MaxPool2d", "Flatten",
                "BatchNorm1d", "BatchNorm2d", "Dropout", "Identity")


def positive_biases(network: Network) -> list[str]:
    """ReLU and linear neurons with a bias ``> 0``, in insertion order.

    For these the root point of z⁺/zᴮ leaves the input domain (see the maths page, docs/maths.md);
    messages still conserve unless the denominator is zero. Trained models
    have many; ``explain(..., absorb_bias=True)`` puts ``b⁺`` in the
    denominators instead.

    Parameters
    ----------
    network : Network
        Any network, imported or built by hand.

    Returns
    -------
    list of str
        The names of the neurons whose bias is positive (empty when there is none).

    Examples
    --------
    >>> from symdtd import Network
    >>> net = Network.from_dense([[[1.0, -1.0]], [[1.0], [1.0]]], [[0.5, -1.0], [0.0]])
    >>> positive_biases(net)
    ['h1_1']
    """
    return [n for n, data in network.graph.nodes(data=True)
            if positive_bias(data["kind"], float(data["bias"]))]


def from_sklearn(model: object, input_domain: Domain | None = None, *,
                 output_names: Sequence[str] | None = None, maxpool: str = "winner") -> Network:
    """A :class:`Network` from a fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor``.

    Parameters
    ----------
    model : sklearn.neural_network.MLPClassifier or MLPRegressor
        Fitted, with ``activation="relu"`` (typed ``object`` so that
        scikit-learn is imported only when this function is called).
    input_domain : Domain, optional
        Of every input; default ``Real()`` (w² at the input). Give ``Box(0, 1)``
        for pixels in [0, 1].
    output_names : list of str, optional
        Default: ``y{class}`` for a classifier (``y0 … y9`` for digits; one
        output, the positive class's logit, in the binary case), ``y1 …``
        for a regressor.
    maxpool : {"winner", "proportional"}, default "winner"
        The network's max-pooling rule (an MLP has no pooling; kept for
        symmetry with :func:`from_torch` and stored on the network).

    Returns
    -------
    Network
        ReLU hidden layers; a linear output layer giving the values before
        scikit-learn's output activation (softmax or logistic: the logits).

    Raises
    ------
    ImportError
        scikit-learn is missing.
    TypeError
        Not an MLP, or an activation other than ReLU.
    ValueError
        The model is not fitted.
    """
    nn = require_extra("sklearn.neural_network", "sklearn")
    if not isinstance(model, (nn.MLPClassifier, nn.MLPRegressor)):
        raise TypeError(f"from_sklearn supports MLPClassifier and MLPRegressor with "
                        f"activation='relu', got {type(model).__name__}")
    if model.activation != "relu":
        raise TypeError(f"{type(model).__name__} has activation={model.activation!r}; "
                        "deep Taylor decomposition needs activation='relu'")
    if not hasattr(model, "coefs_"):
        raise ValueError(f"the {type(model).__name__} is not fitted; call fit() first")
    n_out = model.coefs_[-1].shape[1]
    if output_names is None and isinstance(model, nn.MLPClassifier):
        classes = list(model.classes_)
        classes = classes[-1:] if n_out == 1 and len(classes) == 2 else classes
        output_names = [f"y{c}" for c in classes]
        if len(set(output_names)) != n_out:
            output_names = None
    return Network.from_dense([np.asarray(W, dtype=float) for W in model.coefs_],
                              [np.asarray(b, dtype=float) for b in model.intercepts_],
                              Real() if input_domain is None else input_domain,
                              output_names=output_names, maxpool=maxpool)


def _unsupported(module, where, why=None):
    name = type(module).__name__
    return TypeError(f"{where}: {why or f'layer {name} is not supported'}; from_torch reads "
                     f"torch.nn.Sequential models of {', '.join(TORCH_LAYERS)} "
                     "(ReLU as the only activation) at neuron level; granularity='layer' reads more")


def _flat_modules(nn, model):
    """The Sequential's layers in order, nested Sequentials expanded, with a path each."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"from_torch reads a torch.nn.Sequential, got {type(model).__name__}: "
                        "a custom forward() (e.g. residual connections) cannot be read from the "
                        "modules; rebuild it with symdtd.network.conv.ConvNetBuilder or Network")
    out = []
    for name, module in model.named_children():
        if isinstance(module, nn.Sequential):
            out += [(f"{name}.{n}", m) for n, m in _flat_modules(nn, module)]
        else:
            out.append((name, module))
    return out


def _fold_batchnorm(nn, bn, weight, bias, where):
    """``BN(W x + b)`` with running statistics (eval mode) as ``W' x + b'``."""
    try:
        gamma, beta, mean, var, eps = batchnorm_stats(bn, where)
    except TypeError as err:
        raise _unsupported(bn, where, str(err).partition(": ")[2]) from None
    scale = gamma / np.sqrt(var + eps)
    shape = (-1,) + (1,) * (weight.ndim - 1)
    return weight * scale.reshape(shape), (bias - mean) * scale + beta


def from_torch(model: object, input_shape: Sequence[int], input_domain: Domain | None = None, *,
               granularity: str = "neuron", output_names: Sequence[str] | None = None,
               maxpool: str = "winner", limit: int = EDGE_LIMIT) -> Network | LayerNetwork:
    """A :class:`Network` (or a :class:`~symdtd.network.layer_graph.LayerNetwork`) from a PyTorch model.

    With ``granularity="layer"`` any model ``torch.fx`` can trace is read as a
    layer network by :func:`~symdtd.real.fx_import.layers_from_torch` (residual
    blocks, concatenation, functional ReLU, BatchNorm, adaptive pooling; see
    :data:`~symdtd.real.fx_graph.FX_SUPPORTED`). With ``"neuron"`` (the default)
    a ``torch.nn.Sequential`` is read directly into neurons: ``Linear``,
    ``Conv2d`` (stride, zero padding; no dilation or groups), ``ReLU``,
    ``AvgPool2d`` and ``MaxPool2d`` (no ``ceil_mode``; after a ReLU),
    ``Flatten``, ``BatchNorm1d/2d`` right after a ``Linear`` or ``Conv2d``
    (folded into it, with the running statistics: the model's ``eval()``
    behaviour), ``Dropout`` and ``Identity`` (identities at inference), the
    convolutions as neurons with shared weights
    (:class:`~symdtd.network.conv.ConvNetBuilder`); any other module is read
    as a layer network and expanded into neurons (``.neurons(limit=limit)``).

    Parameters
    ----------
    model : torch.nn.Module
        The model to import (typed ``object`` so that PyTorch is imported
        only when this function is called); nested ``Sequential`` blocks are
        read in order.
    input_shape : tuple of int
        One sample's shape without the batch axis: ``(C, H, W)`` or ``(n,)``.
    input_domain : Domain, optional
        Default ``Real()``; ``Box(0, 1)`` for pixels in [0, 1].
    granularity : {"neuron", "layer"}, default "neuron"
        A neuron-level :class:`Network` or a layer network.
    output_names : list of str, optional
        Names of the last layer's neurons (it must be ``Linear``; ``Sequential``
        models at neuron level only).
    maxpool : {"winner", "proportional"}, default "winner"
        How max-pooling neurons share relevance: all to the first largest
        input, or in proportion to the inputs.
    limit : int, default :data:`~symdtd.network.layer_graph.EDGE_LIMIT`
        The most edges a neuron-level expansion of a non-``Sequential`` model may have.

    Returns
    -------
    Network or LayerNetwork
        Inputs ``x1 …`` in PyTorch's flattening order ``(C, H, W)``.

    Raises
    ------
    ImportError
        PyTorch is missing.
    TypeError
        A layer, activation or operation that is not supported (named, with
        the list), a model ``torch.fx`` cannot trace.
    ValueError
        An unknown granularity, a neuron expansion above *limit* (use
        ``granularity="layer"``), shapes that do not fit (naming the layer).

    Warns
    -----
    TrainingModeWarning
        The model is in training mode (``model.train()``): the network is
        what ``model.eval()`` computes, which then differs from the model's
        own (training-mode) outputs.
    """
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    torch = require_extra("torch", "torch")
    nn = torch.nn
    if granularity == "layer" or (isinstance(model, nn.Module) and not isinstance(model, nn.Sequential)):
        if output_names is not None:
            raise ValueError("output_names is read for torch.nn.Sequential models at "
                             "granularity='neuron' only")
        layered = layers_from_torch(model, input_shape, input_domain, maxpool=maxpool)
        if granularity == "layer":
            return layered
        try:
            return layered.neurons(limit=limit)
        except ValueError as err:
            raise ValueError(f"from_torch: {err}; or import it with granularity='layer'") from None
    warn_training(model)
    # identities at inference; dropped first so that Linear, Dropout, ReLU still fuse
    layers = [(n, m) for n, m in _flat_modules(nn, model)
              if not isinstance(m, (nn.Dropout, nn.Identity))]
    b = ConvNetBuilder(input_shape, input_domain, maxpool=maxpool)
    k = 0
    while k < len(layers):
        name, m = layers[k]
        where = f"layer {name} ({type(m).__name__})"
        k += 1
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            weight = m.weight.detach().double().numpy()
            bias = (m.bias.detach().double().numpy() if m.bias is not None
                    else np.zeros(weight.shape[0]))
            bn_type = nn.BatchNorm2d if isinstance(m, nn.Conv2d) else nn.BatchNorm1d
            if k < len(layers) and isinstance(layers[k][1], bn_type):
                weight, bias = _fold_batchnorm(nn, layers[k][1], weight, bias, where)
                k += 1
            relu = k < len(layers) and isinstance(layers[k][1], nn.ReLU)
            k += relu
            activation = "relu" if relu else "linear"
            if isinstance(m, nn.Linear):
                last = k == len(layers)
                b.dense(weight.T, bias, activation=activation, name=None,
                        neuron_names=output_names if last else None)
            else:
                _check_conv(m, where)
                b.conv2d(weight, bias, stride=m.stride, padding=_conv_padding(m, where),
                         activation=activation)
        elif isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
            _check_pool(nn, m, where)
            if not b.nonnegative:
                raise _unsupported(m, where, "pooling needs inputs ≥ 0: put a ReLU before it")
            if isinstance(m, nn.AvgPool2d):
                kh, kw = np.broadcast_to(m.kernel_size, 2)
                divisor = m.divisor_override or int(kh * kw)
                if not m.count_include_pad and np.any(m.padding):
                    raise _unsupported(m, where, "AvgPool2d(count_include_pad=False) with padding")
                b.avg_pool2d(m.kernel_size, m.stride, m.padding, divisor=divisor)
            else:
                b.max_pool2d(m.kernel_size, m.stride, m.padding)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise _unsupported(m, where, "Flatten with start_dim != 1 or end_dim != -1")
            b.flatten()
        elif isinstance(m, nn.ReLU):
            # a ReLU not after Linear/Conv2d: the identity on values ≥ 0, else unsupported
            if not b.nonnegative:
                raise _unsupported(m, where, "a ReLU on values that may be negative must "
                                             "follow a Linear or Conv2d layer")
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            raise _unsupported(m, where, f"{type(m).__name__} must directly follow a Linear or "
                                         "Conv2d layer to be folded into it")
        else:
            raise _unsupported(m, where)
    net = b.build()
    if output_names is not None and net.outputs != list(output_names):
        raise ValueError("output_names: the last layer must be Linear to be named")
    return net


def _check_conv(m, where):
    if tuple(m.dilation) != (1, 1) or m.groups != 1 or m.padding_mode != "zeros":
        raise _unsupported(m, where, "Conv2d with dilation, groups or a padding mode other "
                                     "than 'zeros'")


def _conv_padding(m, where):
    if m.padding == "valid":
        return 0
    if m.padding == "same":
        kh, kw = m.kernel_size
        if (kh % 2 == 0 or kw % 2 == 0) or tuple(m.stride) != (1, 1):
            raise _unsupported(m, where, "Conv2d(padding='same') needs odd kernels and stride 1")
        return (kh // 2, kw // 2)
    return tuple(m.padding)


def _check_pool(nn, m, where):
    if m.ceil_mode:
        raise _unsupported(m, where, f"{type(m).__name__}(ceil_mode=True)")
    if isinstance(m, nn.MaxPool2d) and (np.any(np.asarray(m.dilation) != 1) or m.return_indices):
        raise _unsupported(m, where, "MaxPool2d with dilation or return_indices")
