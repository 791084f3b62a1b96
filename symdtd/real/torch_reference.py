r"""A hand-written PyTorch reference of deep Taylor decomposition: modified weights × gradient.

This is what Zennit and the LRP tutorials do, written here straight from the
relevance formulas of ``docs/maths.md`` and independent of symdtd's own
propagation (it reads no symdtd module), so that the layer-level compiled
pass can be checked against it and timed beside it.

The composite is the paper's default for images: **zᴮ** on the first linear
layer (the one reading the input, pixels in a box ``[l, h]``), **z⁺** on every
other convolution and linear layer, **winner-take-all** max-pooling, and the
**z rule** through the linear operations without weights of their own
(average and adaptive average pooling, residual addition, concatenation,
flatten, dropout in eval mode). For a layer ``z_j = Σ_i x_i w_ij + b_j`` with
relevance ``R_j`` on its output,

.. math::

    z^+:\quad R_i = x_i \sum_j \frac{w^+_{ij}}{\sum_{i'} x_{i'} w^+_{i'j}} R_j ,
    \qquad
    z^\mathcal{B}:\quad R_i = \sum_j \frac{x_i w_{ij} - l_i w^+_{ij} - h_i w^-_{ij}}
        {\sum_{i'} x_{i'} w_{i'j} - l_{i'} w^+_{i'j} - h_{i'} w^-_{i'j}} R_j .

Both are a gradient: if each tensor ``t`` carries ``c_t`` with ``R_t = t ⊙ c_t``
(at the output ``c`` is the one-hot target, so ``R = x_f``), then for z⁺
``c_x = W⁺ᵀ (R / (W⁺ x))``, which is the gradient of ``ẑ(x) = W⁺ x`` weighted
by ``R / ẑ``. A forward hook on each layer therefore returns
``z + (ẑ − ẑ.detach()) ⊙ (z / ẑ).detach()``: its value is the layer's real
output ``z`` (so every later layer, ReLU mask and max-pool winner is the
model's own), and its gradient is ``W⁺ᵀ (c ⊙ z / ẑ) = W⁺ᵀ (R / ẑ)``, as the
ReLU after it passes ``c`` where ``z > 0`` and ``R = relu(z)·c``. Where
``ẑ = 0`` nothing passes. Through a ReLU, a max-pool (the gradient goes to the
winner) and the weightless linear operations plain autograd is exactly the
z rule, e.g. ``R_a = a·c`` and ``R_b = b·c`` for ``relu(a + b)``. zᴮ adds the
bounds ``l`` and ``h`` as leaf tensors: ``R = x ⊙ ∂x + l ⊙ ∂l + h ⊙ ∂h``.

A ``BatchNorm2d`` registered right after a ``Conv2d`` with as many channels
(torchvision's ResNet and GoogLeNet, :mod:`symdtd.real.architectures`) is
folded into it for the rule: ``W' = s·W``, ``b' = (b − μ)·s + β`` with
``s = γ / √(σ² + ε)``, and the hook sits on the BatchNorm.

Examples
--------
>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1)).eval()
>>> with torch.no_grad():
...     _ = model[0].weight.copy_(torch.tensor([[1.0, 1.0], [-1.0, 1.0]]))
...     _ = model[0].bias.copy_(torch.tensor([0.0, -1.0]))
...     _ = model[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
...     _ = model[2].bias.zero_()
>>> R, y = dtd_reference(model, torch.tensor([[1.0, 0.5]]), 0, low=0.0, high=1.0)
>>> R
tensor([[1.0000, 0.5000]])
>>> y
tensor([1.5000])
"""
from __future__ import annotations

__all__ = ["dtd_reference"]


def _fold_pairs(model, nn):
    """``{batchnorm: conv}`` for each BatchNorm2d registered right after a Conv2d of its width."""
    pairs, previous = {}, None
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and isinstance(previous, nn.Conv2d) \
                and previous.out_channels == m.num_features:
            pairs[m] = previous
        if not isinstance(m, (nn.Sequential, nn.ModuleList)) and next(m.children(), None) is None:
            previous = m
    return pairs


def _folded(conv, bn):
    """``(weight, bias)`` of *conv* with *bn* folded in."""
    s = bn.weight.detach() / (bn.running_var + bn.eps).sqrt()
    bias = conv.bias.detach() if conv.bias is not None else 0.0
    return conv.weight.detach() * s.reshape(-1, 1, 1, 1), (bias - bn.running_mean) * s + bn.bias.detach()


def dtd_reference(model: object, x: object, target: object = None, *, low: object = 0.0,
                  high: object = 1.0) -> tuple:
    """Relevance of the input by zᴮ (first layer), z⁺ (above) and winner-take-all pooling, by autograd.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode, of the dtype of *x*; built of ``Conv2d``, ``Linear``,
        ``BatchNorm2d`` (after a ``Conv2d``), ``ReLU``, max and average
        pooling, and weightless tensor operations (addition, ``torch.cat``,
        ``torch.flatten``). The first ``Conv2d`` or ``Linear`` to run on the
        input tensor itself gets zᴮ.
    x : torch.Tensor
        The batch, ``(batch, *input shape)``, values in ``[low, high]``.
    target : int or sequence of int, optional
        The explained output per row (one for all rows); default the
        largest output of each row.
    low, high : float or torch.Tensor
        The box of the input (broadcastable to one row).

    Returns
    -------
    relevance : torch.Tensor
        Same shape and dtype as *x*.
    output : torch.Tensor
        The explained output ``x_f`` per row.

    Raises
    ------
    ValueError
        No linear layer reads the input, or the model is in training mode.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.ReLU(), torch.nn.Flatten(),
    ...                             torch.nn.Linear(8, 3)).double().eval()
    >>> x = torch.rand(4, 1, 3, 3, dtype=torch.float64)
    >>> R, y = dtd_reference(model, x, [0, 1, 2, 0])
    >>> R.shape, y.shape
    (torch.Size([4, 1, 3, 3]), torch.Size([4]))
    """
    import torch

    nn, F = torch.nn, torch.nn.functional
    if model.training:
        raise ValueError("dtd_reference: the model is in training mode; call model.eval() first")
    pairs = _fold_pairs(model, nn)
    folded = set(pairs.values())
    x = x.detach().clone().requires_grad_(True)
    bounds = []                                            # the zB layer's l and h leaves

    def apply(module, weight, inp):
        if isinstance(module, nn.Linear):
            return F.linear(inp, weight)
        conv = pairs.get(module, module)
        return F.conv2d(inp, weight, None, conv.stride, conv.padding, conv.dilation, conv.groups)

    def hook(module, inputs, out):
        if module in folded:                               # its BatchNorm's hook does the rule
            return None
        inp, conv = inputs[0], pairs.get(module)
        if conv is not None:
            inp = conv_inputs.pop(conv)
            weight = _folded(conv, module)[0]
        else:
            weight = module.weight.detach()                # no gradient for the parameters
        if inp is x:
            if bounds:
                raise ValueError("dtd_reference: two layers read the input; zB is for one")
            lo = torch.broadcast_to(torch.as_tensor(low, dtype=x.dtype), x.shape).clone().requires_grad_(True)
            hi = torch.broadcast_to(torch.as_tensor(high, dtype=x.dtype), x.shape).clone().requires_grad_(True)
            bounds.extend((lo, hi))
            zhat = apply(module, weight, inp) - apply(module, weight.clamp(min=0), lo) \
                - apply(module, weight.clamp(max=0), hi)
        else:
            zhat = apply(module, weight.clamp(min=0), inp)
        z = out.detach()
        ratio = torch.where(zhat != 0, z / torch.where(zhat != 0, zhat, 1), 0).detach()
        return z + (zhat - zhat.detach()) * ratio

    conv_inputs = {}

    def remember(module, inputs):                          # the input of a conv whose BN is folded
        conv_inputs[module] = inputs[0]

    handles = []
    try:
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) or m in pairs:
                handles.append(m.register_forward_hook(hook))
            if m in folded:
                handles.append(m.register_forward_pre_hook(remember))
        y = model(x)
    finally:
        for h in handles:
            h.remove()
    if not bounds:
        raise ValueError("dtd_reference: no Conv2d or Linear layer reads the input")
    rows = torch.arange(len(y))
    if target is None:
        t = y.detach().argmax(dim=1)
    else:
        t = torch.as_tensor(target).long().reshape(-1).expand(len(y))
    onehot = torch.zeros_like(y)
    onehot[rows, t] = 1
    gx, gl, gh = torch.autograd.grad(y, [x] + bounds, grad_outputs=onehot)
    relevance = x * gx + bounds[0] * gl + bounds[1] * gh
    return relevance.detach(), y.detach()[rows, t]
