"""Random weights for the rebuilt architectures (:mod:`symdtd.real.architectures`), scaled to stay alive with depth.

:func:`randomise` draws He-normal weights, small random biases and random
BatchNorm statistics, then scales every layer on one random batch
(:data:`CALIBRATION_SHAPE`) so that activations neither die out nor blow up;
with ``nonpositive_bias`` every bias, BatchNorm's folded ones included, is ≤ 0.

Examples
--------
>>> import torch
>>> model = randomise(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()), torch, True)
>>> bool((model[0].bias <= 0).all()), model.training
(True, False)
"""
from __future__ import annotations

__all__ = ["randomise", "check_arguments", "CALIBRATION_SHAPE"]


def check_arguments(num_classes, width, seed):
    """ValueError naming the argument when *num_classes*, *width* or *seed* is not what a builder takes."""
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if not isinstance(width, (int, float)) or isinstance(width, bool) or not 0 < width <= 4:
        raise ValueError(f"width must be a number in (0, 4], got {width!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int, got {seed!r}")


#: the random batch the weights are scaled on: (batch, channels, height, width)
CALIBRATION_SHAPE = (2, 3, 64, 64)


def randomise(model, torch, nonpositive_bias):
    """Random weights, biases and BatchNorm statistics (under the caller's seed), in eval mode.

    Random weights alone make a deep net's activations die out or blow up, so
    one forward pass on a random batch (:data:`CALIBRATION_SHAPE`) scales them
    as it goes, in the order the layers run: each convolution and linear
    layer's weights so that its output has unit standard deviation, then a
    random bias of that scale; each BatchNorm's running mean and variance from
    the batch it sees, perturbed at random, with random ``γ ∈ [0.5, 1.5]`` and a
    ``β`` that makes the folded bias ``β − μ·γ/√(σ² + ε)`` random in
    ``±[0.01, 0.2]·γ`` (negative with *nonpositive_bias*).
    """
    nn = torch.nn

    def sign(n):
        magnitude = torch.empty(n).uniform_(0.01, 0.2)
        return -magnitude if nonpositive_bias else magnitude * torch.randint(0, 2, (n,)).mul(2).sub(1)

    def linear_hook(m, inputs, out):
        scale = out.std()
        if not scale > 0:                                  # a dead input (all zero): leave it
            scale = torch.ones(())
        m.weight.div_(scale)
        out = out / scale
        if m.bias is None:
            return out
        m.bias.copy_(sign(m.bias.numel()) / 2)
        return out + m.bias.reshape((1, -1) + (1,) * (out.ndim - 2))

    def batchnorm_hook(m, inputs):
        z = inputs[0]
        mean, var = z.mean(dim=(0, 2, 3)), z.var(dim=(0, 2, 3))
        m.running_mean.copy_(mean + 0.1 * var.sqrt() * torch.randn_like(mean))
        m.running_var.copy_(var * torch.empty_like(var).uniform_(0.7, 1.4))
        m.weight.uniform_(0.5, 1.5)
        s = m.weight / (m.running_var + m.eps).sqrt()
        m.bias.copy_(m.running_mean * s + sign(len(s)) * m.weight)

    hooks = []

    def init(m):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                m.bias.zero_()
            hooks.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_pre_hook(batchnorm_hook))

    with torch.no_grad():
        for m in model.modules():
            init(m)
    model.eval()
    try:
        with torch.no_grad():
            model(torch.rand(CALIBRATION_SHAPE))
    finally:
        for h in hooks:
            h.remove()
    return model
