"""VGG-16, ResNet-50 and GoogLeNet as plain ``torch.nn`` modules with random weights.

torchvision cannot be installed beside the pinned CPU torch, and no trained
weights can be downloaded here, so the three networks of the deep Taylor
literature are rebuilt with ``torch.nn`` in torchvision's structure:

* :func:`vgg16`: configuration D (13 convolutions 3×3 with ReLU, five 2×2
  max-pools), ``AdaptiveAvgPool2d((7, 7))``, ``torch.flatten`` and the
  classifier ``Linear → ReLU → Dropout → Linear → ReLU → Dropout → Linear``;
* :func:`resnet50`: the stem (7×7 convolution, BatchNorm, ReLU, 3×3 max-pool)
  and 3 + 4 + 6 + 3 bottleneck blocks (1×1, 3×3 with the stride, 1×1,
  each with BatchNorm; a 1×1 convolution + BatchNorm downsample on the first
  block of each stage; residual addition then ReLU), ``AdaptiveAvgPool2d((1, 1))``,
  ``torch.flatten``, ``Linear``;
* :func:`googlenet`: Inception v1 with ``BasicConv2d`` = convolution (no bias) +
  BatchNorm (ε = 0.001) + ReLU, nine inception blocks whose four branches are
  joined by ``torch.cat``, ``AdaptiveAvgPool2d((1, 1))``, Dropout and ``Linear``;
  no auxiliary heads, no input transform.

GoogLeNet's max-pools use ``ceil_mode=True`` as torchvision's do (a last,
partial window at the bottom and right: 112 → 56 → 28 → 14 → 7 at 224×224).
Differences from torchvision:

* GoogLeNet's third branch uses a 3×3 convolution as torchvision does (the
  paper has 5×5).
* ReLUs are not in place, and residual additions are written ``out + identity``.
* No local response normalisation (torchvision's GoogLeNet has none either).

Weights are random and reproducible (``torch.manual_seed(seed)`` inside):
He-normal, then scaled on one random batch so that activations neither die
out nor blow up with depth (see :func:`~symdtd.real.random_weights.randomise`); biases small and random.
Every BatchNorm gets random ``γ > 0``, ``β``, running mean and running
variance, so folding it into the convolution before it changes the numbers. With ``nonpositive_bias=True`` every
bias, including the folded ``β − μ·γ/√(σ² + ε)`` of each BatchNorm, is ≤ 0, so
DTD's conservation holds layer by layer. The models are returned in
``eval()`` mode, float32 (use ``.double()`` for float64).

``width`` scales every channel count (at least one channel), and VGG's
``avgpool`` sets its adaptive pooling size: small versions for tests, e.g.
``vgg16(10, width=1/16, avgpool=1)`` on 32×32 images.

Examples
--------
>>> import torch
>>> model = resnet50(num_classes=5, width=1/16, nonpositive_bias=True)
>>> model(torch.rand(2, 3, 32, 32)).shape
torch.Size([2, 5])
"""
from __future__ import annotations

import functools
import types

from .random_weights import check_arguments, randomise

__all__ = ["vgg16", "resnet50", "googlenet", "VGG16_CONFIG", "GOOGLENET_BLOCKS"]

#: VGG configuration D: output channels of the 3×3 convolutions, ``"M"`` a 2×2 max-pool
VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")

#: GoogLeNet's inception blocks: ``(name, 1×1, 3×3 reduce, 3×3, "5×5" reduce, "5×5", pool projection)``
#: with ``"M"`` a stride-2 max-pool between them (torchvision's numbers)
GOOGLENET_BLOCKS = (
    ("inception3a", 64, 96, 128, 16, 32, 32), ("inception3b", 128, 128, 192, 32, 96, 64), "M",
    ("inception4a", 192, 96, 208, 16, 48, 64), ("inception4b", 160, 112, 224, 24, 64, 64),
    ("inception4c", 128, 128, 256, 24, 64, 64), ("inception4d", 112, 144, 288, 32, 64, 64),
    ("inception4e", 256, 160, 320, 32, 128, 128), "M2",
    ("inception5a", 256, 160, 320, 32, 128, 128), ("inception5b", 384, 192, 384, 48, 128, 128),
)


def _torch():
    try:
        import torch
    except ImportError:
        raise ValueError("symdtd.real.architectures needs PyTorch (pip install symdtd[torch])") from None
    return torch


@functools.cache
def _classes():
    """The module classes, built on first use so that importing this module does not import torch."""
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional

    class VGG(nn.Module):
        """VGG: ``features``, ``avgpool``, flatten, ``classifier`` (torchvision's layout)."""

        def __init__(self, features, avgpool, classifier):
            super().__init__()
            self.features, self.avgpool, self.classifier = features, avgpool, classifier

        def forward(self, x):
            x = self.avgpool(self.features(x))
            return self.classifier(torch.flatten(x, 1))

    class Bottleneck(nn.Module):
        """ResNet's bottleneck block (v1.5: the stride on the 3×3 convolution)."""

        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            out = planes * self.expansion
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(out)
            self.relu = nn.ReLU()
            self.downsample = downsample

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + identity)

    class ResNet(nn.Module):
        """ResNet with bottleneck blocks (torchvision's layout)."""

        def __init__(self, layers, num_classes, width):
            super().__init__()
            self.inplanes = _channels(64, width)
            self.conv1 = nn.Conv2d(3, self.inplanes, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(self.inplanes)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            for k, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
                setattr(self, f"layer{k + 1}", self._stage(_channels(planes, width), blocks, 1 if k == 0 else 2))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(self.inplanes, num_classes)

        def _stage(self, planes, blocks, stride):
            downsample = None
            if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * Bottleneck.expansion, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes * Bottleneck.expansion))
            stage = [Bottleneck(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * Bottleneck.expansion
            stage += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*stage)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    class BasicConv2d(nn.Module):
        """Convolution without bias, BatchNorm (ε = 0.001), ReLU."""

        def __init__(self, in_channels, out_channels, **kwargs):
            super().__init__()
            self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
            self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    class Inception(nn.Module):
        """Four branches (1×1; 1×1 → 3×3; 1×1 → 3×3; 3×3 max-pool → 1×1) joined by ``torch.cat``."""

        def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
            super().__init__()
            self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
            self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                         BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
            self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                         BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
            self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                         BasicConv2d(in_channels, pool_proj, kernel_size=1))

        def forward(self, x):
            return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)

    class GoogLeNet(nn.Module):
        """Inception v1 without auxiliary heads (torchvision's layout)."""

        def __init__(self, num_classes, width):
            super().__init__()
            c = functools.partial(_channels, width=width)
            self.conv1 = BasicConv2d(3, c(64), kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            self.conv2 = BasicConv2d(c(64), c(64), kernel_size=1)
            self.conv3 = BasicConv2d(c(64), c(192), kernel_size=3, padding=1)
            self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            channels, pools = c(192), 2
            for block in GOOGLENET_BLOCKS:
                if isinstance(block, str):
                    pools += 1
                    pool = nn.MaxPool2d(3 if block == "M" else 2, stride=2, ceil_mode=True)
                    setattr(self, f"maxpool{pools}", pool)
                    continue
                name, *sizes = block
                sizes = [c(n) for n in sizes]
                setattr(self, name, Inception(channels, *sizes))
                channels = sizes[0] + sizes[2] + sizes[4] + sizes[5]
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.dropout = nn.Dropout(0.2)
            self.fc = nn.Linear(channels, num_classes)

        def forward(self, x):
            x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
            x = self.maxpool3(self.inception3b(self.inception3a(x)))
            for name in ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"):
                x = getattr(self, name)(x)
            x = self.inception5b(self.inception5a(self.maxpool4(x)))
            return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))

    made = dict(VGG=VGG, Bottleneck=Bottleneck, ResNet=ResNet, BasicConv2d=BasicConv2d,
                Inception=Inception, GoogLeNet=GoogLeNet)
    for name, cls in made.items():  # importable by name, so torch.save / pickle can find them
        cls.__module__, cls.__qualname__ = __name__, name
    return types.SimpleNamespace(torch=torch, **made)


_CLASS_NAMES = ("VGG", "Bottleneck", "ResNet", "BasicConv2d", "Inception", "GoogLeNet")


def __getattr__(name):
    # the module classes, for unpickling a saved model (torch.load)
    if name in _CLASS_NAMES:
        return getattr(_classes(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _channels(n, width):
    return max(1, int(round(n * width)))


def vgg16(num_classes: int = 1000, *, width: float = 1.0, avgpool: int = 7, seed: int = 0,
          nonpositive_bias: bool = False) -> object:
    """VGG-16 (configuration D) with random weights, in eval mode.

    Parameters
    ----------
    num_classes : int
        Outputs of the last linear layer.
    width : float
        Multiplies every channel count and the classifier's 4096 (at least one
        each); 1 is the real network.
    avgpool : int
        Output size of the adaptive average pooling (7 in VGG-16; the input
        must be at least ``32·avgpool`` pixels on a side).
    seed : int
        ``torch.manual_seed`` for the random weights.
    nonpositive_bias : bool
        Make every bias ≤ 0.

    Returns
    -------
    torch.nn.Module
        ``features`` (``Sequential``), ``avgpool``, ``classifier`` (``Sequential``).

    Raises
    ------
    ValueError
        Torch missing, or a bad argument (named).

    Examples
    --------
    >>> import torch
    >>> model = vgg16(num_classes=3, width=1/16, avgpool=1)
    >>> sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    13
    >>> model(torch.rand(1, 3, 32, 32)).shape
    torch.Size([1, 3])
    """
    check_arguments(num_classes, width, seed)
    if not isinstance(avgpool, int) or isinstance(avgpool, bool) or avgpool < 1:
        raise ValueError(f"avgpool must be a positive int, got {avgpool!r}")
    ns = _classes()
    torch = ns.torch
    nn = torch.nn
    torch.manual_seed(seed)
    layers, channels = [], 3
    for v in VGG16_CONFIG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
        else:
            layers += [nn.Conv2d(channels, _channels(v, width), 3, padding=1), nn.ReLU()]
            channels = _channels(v, width)
    hidden = _channels(4096, width)
    classifier = nn.Sequential(nn.Linear(channels * avgpool * avgpool, hidden), nn.ReLU(), nn.Dropout(),
                               nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(),
                               nn.Linear(hidden, num_classes))
    model = ns.VGG(nn.Sequential(*layers), nn.AdaptiveAvgPool2d((avgpool, avgpool)), classifier)
    return randomise(model, torch, nonpositive_bias)


def resnet50(num_classes: int = 1000, *, width: float = 1.0, seed: int = 0,
             nonpositive_bias: bool = False) -> object:
    """ResNet-50 (bottleneck blocks 3, 4, 6, 3) with random weights and BatchNorm statistics, in eval mode.

    Parameters
    ----------
    num_classes : int
        Outputs of the last linear layer.
    width : float
        Multiplies every channel count (at least one channel each); 1 is the
        real network.
    seed : int
        ``torch.manual_seed`` for the random weights.
    nonpositive_bias : bool
        Make every bias, BatchNorm's folded ones included, ≤ 0.

    Returns
    -------
    torch.nn.Module
        torchvision's attribute names: ``conv1``, ``bn1``, ``relu``, ``maxpool``,
        ``layer1`` … ``layer4``, ``avgpool``, ``fc``.

    Raises
    ------
    ValueError
        Torch missing, or a bad argument (named).

    Examples
    --------
    >>> import torch
    >>> model = resnet50(num_classes=2, width=1/16)
    >>> [len(getattr(model, f"layer{k}")) for k in (1, 2, 3, 4)]
    [3, 4, 6, 3]
    >>> sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    53
    """
    check_arguments(num_classes, width, seed)
    ns = _classes()
    ns.torch.manual_seed(seed)
    return randomise(ns.ResNet((3, 4, 6, 3), num_classes, width), ns.torch, nonpositive_bias)


def googlenet(num_classes: int = 1000, *, width: float = 1.0, seed: int = 0,
              nonpositive_bias: bool = False) -> object:
    """GoogLeNet (Inception v1, no auxiliary heads) with random weights and BatchNorm statistics, in eval mode.

    Parameters
    ----------
    num_classes : int
        Outputs of the last linear layer.
    width : float
        Multiplies every channel count (at least one channel each); 1 is the
        real network.
    seed : int
        ``torch.manual_seed`` for the random weights.
    nonpositive_bias : bool
        Make every bias, BatchNorm's folded ones included, ≤ 0.

    Returns
    -------
    torch.nn.Module
        torchvision's attribute names: ``conv1`` … ``conv3``, ``maxpool1`` …
        ``maxpool4``, ``inception3a`` … ``inception5b``, ``avgpool``,
        ``dropout``, ``fc``.

    Raises
    ------
    ValueError
        Torch missing, or a bad argument (named).

    Examples
    --------
    >>> import torch
    >>> model = googlenet(num_classes=4, width=1/8)
    >>> model.fc.in_features                    # 1024 / 8
    128
    >>> model(torch.rand(1, 3, 32, 32)).shape
    torch.Size([1, 4])
    """
    check_arguments(num_classes, width, seed)
    ns = _classes()
    ns.torch.manual_seed(seed)
    return randomise(ns.GoogLeNet(num_classes, width), ns.torch, nonpositive_bias)
