"""layers_from_torch / from_torch(granularity=...): any torch.fx-traceable model as a LayerNetwork.

Checked against independent routes: the model's own float64 forward (torch), the
neuron-level paths on the neuron view of the same network (symdtd.compile and exact
propagate, which run per neuron and know nothing of layers), a hand-written torch
autograd z⁺ reference for a residual block, and conservation where biases ≤ 0.
"""
import warnings

import numpy as np
import pytest

import symdtd
from symdtd import Box, Positive, Real
from symdtd.compiler.layer_pass import compile_layers

torch = pytest.importorskip("torch", reason="PyTorch not installed (pip install symdtd[torch])")
nn, F = torch.nn, torch.nn.functional

from symdtd.real.fx_import import layers_from_torch  # noqa: E402
from symdtd.real.interop import TrainingModeWarning, from_torch  # noqa: E402


def randomized(model, seed=0, bias=None):
    """Random weights and BatchNorm statistics, eval mode, float64; *bias* "negative" makes every
    bias ≤ 0 (BatchNorm's β too, and its mean ≥ 0 so that the folded biases stay ≤ 0)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * (0.5 if "weight" in name else 0.2))
            if bias == "negative":    # small negative biases, weights mostly positive: units stay alive
                p.copy_(-0.1 * p.abs() if "bias" in name else p.abs() - 0.15)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                if bias == "negative":
                    m.weight.copy_(m.weight.abs())
                    m.running_mean.copy_(0.1 * m.running_mean.abs())
        if bias == "negative":       # the explained outputs > 0: the last layer's weights ≥ 0, no bias
            last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
            last.weight.abs_()
            last.bias.zero_()
    return model.eval().double()


# ------------------------------------------------------------------ models
class ConvNet(nn.Module):
    """Conv with stride/padding/dilation/groups, BN folded, every pooling, functional ReLU."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(2, 4, 3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=2)
        self.c3 = nn.Conv2d(4, 3, 2, stride=2, padding="valid", bias=False)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(3 * 2 * 2, 5)
        self.bnf = nn.BatchNorm1d(5)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        h = F.relu(self.bn1(self.c1(x)))
        h = F.max_pool2d(h, 2, stride=1)
        h = self.c2(h).relu()
        h = self.pool(h)
        h = torch.relu(self.c3(h))
        h = F.avg_pool2d(h, 2, padding=1)
        h = F.adaptive_avg_pool2d(h, (2, 2))
        h = self.drop(h.view(h.size(0), -1))
        return self.out(F.relu(self.bnf(self.fc(h)), inplace=True))


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock: one self.relu used twice, a downsampling shortcut, +=."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(3)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(3, 3, 1), BasicBlock(3, 4, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class BasicConv2d(nn.Module):
    """torchvision's GoogLeNet BasicConv2d: conv (no bias), BN, F.relu(inplace=True)."""

    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = BasicConv2d(2, 3, kernel_size=3, padding=1)
        self.b1 = BasicConv2d(3, 2, kernel_size=1)
        self.b2 = nn.Sequential(BasicConv2d(3, 2, kernel_size=1), BasicConv2d(2, 3, kernel_size=3, padding=1))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                BasicConv2d(3, 1, kernel_size=1))
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.b1(x), self.b2(x), self.b4(x)], 1)
        x = x.mean((2, 3))
        return self.fc(x)


class Flattens(nn.Module):
    """Every way of flattening, BN before a ReLU (no linear map before it), a ReLU on real values."""

    def __init__(self, how):
        super().__init__()
        self.how = how
        self.bn0 = nn.BatchNorm2d(2)
        self.conv = nn.Conv2d(2, 2, 3)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        h = self.conv(F.relu(self.bn0(x)))
        h = torch.relu(h)                      # fused into the conv
        flat = {"torch.flatten": lambda: torch.flatten(h, 1), "view": lambda: h.view(h.size(0), -1),
                "reshape": lambda: h.reshape(h.shape[0], -1), "module": lambda: self.flat(h),
                "method": lambda: h.flatten(1), "view -1": lambda: h.view(-1, 32)}[self.how]()
        return self.fc(flat)


class CeilPools(nn.Module):
    """ceil_mode=True pooling that adds partial windows (torchvision's GoogLeNet max-pools so)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.avg1 = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.avg2 = nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(3 * 2 * 2, 3)

    def forward(self, x):
        h = F.max_pool2d(torch.relu(self.conv(x)), 3, 2, ceil_mode=True)     # 8×8 → 4×4 (floor: 3×3)
        return self.fc(self.avg2(self.avg1(h)).flatten(1))                  # → 3×3 (2×2) → 2×2 (1×1)


MODELS = {"convnet": (ConvNet, (2, 7, 7)), "resnet": (TinyResNet, (2, 8, 8)),
          "inception": (Inception, (2, 6, 6)), "ceil": (CeilPools, (2, 10, 10))}


def sample(shape, n, domain, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, size=(n,) + shape) if domain != "real" else rng.normal(size=(n,) + shape)


def torch_forward(model, X):
    with torch.no_grad():
        return model(torch.tensor(X)).numpy()


DOMAIN = {"box": Box(0, 1), "positive": Positive(), "real": Real()}


# -------------------------------------------------------- (a) forward = torch
@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_equals_the_model(name):
    cls, shape = MODELS[name]
    model = randomized(cls())
    X = sample(shape, 5, "box")
    net = layers_from_torch(model, shape, Box(0, 1))
    np.testing.assert_allclose(net.forward(X), torch_forward(model, X), atol=1e-10, rtol=0)
    np.testing.assert_allclose(compile_layers(net).forward(X), torch_forward(model, X), atol=1e-10, rtol=0)


@pytest.mark.parametrize("how", ["torch.flatten", "view", "reshape", "module", "method", "view -1"])
def test_flatten_variants(how):
    model = randomized(Flattens(how), seed=2)
    X = sample((2, 6, 6), 4, "real")
    net = layers_from_torch(model, (2, 6, 6))
    np.testing.assert_allclose(net.forward(X), torch_forward(model, X), atol=1e-10, rtol=0)
    kinds = [type(net.layer(n)).__name__ for n in net.order()]
    # BN alone: a per-channel affine layer with the ReLU fused; conv + ReLU fused; one Flatten view
    assert kinds == ["InputLayer", "Conv2d", "Conv2d", "Flatten", "Dense"], kinds
    assert net.layer("bn0").groups == 2 and net.layer("bn0").activation == "relu"
    assert net.layer("conv").activation == "relu"


def test_ceil_mode_adds_partial_windows():
    net = layers_from_torch(randomized(CeilPools()), (2, 10, 10), Box(0, 1))
    shapes = [net.layer(n).shape for n in ("max_pool2d", "avg1", "avg2")]
    assert shapes == [(3, 4, 4), (3, 3, 3), (3, 2, 2)]       # floor mode: 3×3, 2×2, 1×1
    # the last window of avg1 covers rows 3..4 of the 4 + 1 padded rows: 2 of 3 (count_include_pad)
    assert net.layer("avg1").divisors()[2].tolist() == [6.0, 6.0, 4.0]
    assert net.layer("avg2").divisors().tolist() == [[4.0, 2.0], [2.0, 1.0]]


def test_names_fusion_and_reuse():
    """Layer names are the fx node names; BN and ReLU fold into the conv; one ReLU module
    used twice works; a ReLU after the residual add becomes the Add's activation."""
    net = layers_from_torch(randomized(TinyResNet()), (2, 8, 8), Box(0, 1))
    layers = {n: net.layer(n) for n in net.order()}
    assert "layer1_0_conv1" in layers and "layer1_1_downsample_0" in layers
    assert not any("bn" in n or "relu" in n for n in layers)          # folded, fused
    assert layers["conv1"].activation == "relu"
    assert layers["layer1_0_conv1"].activation == "relu"
    assert layers["layer1_0_conv2"].activation == "linear"            # bn2 then the add
    adds = [n for n, la in layers.items() if type(la).__name__ == "Add"]
    assert adds == ["add", "add_1"] and all(layers[a].activation == "relu" for a in adds)
    assert layers["add"].sources == ["layer1_0_conv2", "maxpool"]
    assert net.output == "fc"


class InPlace(nn.Module):
    """An in-place ReLU on a tensor read before and after it; the sum of two linear maps."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)
        self.fc1, self.fc2 = nn.Linear(32, 2), nn.Linear(32, 2)

    def forward(self, x):
        h = self.conv(x)
        a = self.fc1(h.flatten(1))          # h before the ReLU
        F.relu(h, inplace=True)             # h is max(0, h) from here on
        return self.fc2(h.flatten(1)) + a


@pytest.mark.filterwarnings("ignore::symdtd.NegativeOutputWarning")
def test_in_place_relu_changes_what_later_readers_see():
    model = randomized(InPlace(), seed=12)
    X = sample((2, 4, 4), 4, "real", seed=13)
    net = layers_from_torch(model, (2, 4, 4))
    np.testing.assert_allclose(net.forward(X), torch_forward(model, X), atol=1e-12, rtol=0)
    assert net.layer("relu").activation == "relu" and net.layer("relu").sources == ["conv"]
    assert net.layer("conv").activation == "linear" and net.layer("add").activation == "linear"
    mine = compile_layers(net).explain(X, 1)
    theirs = symdtd.compile(net.neurons()).explain(X.reshape(4, -1), 1)
    np.testing.assert_allclose(mine.relevance.reshape(4, -1), theirs.relevance, atol=1e-10, rtol=0)


class WithLRN(nn.Module):
    """Local response normalisation, as a module and as a function (AlexNet, GoogLeNet)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.lrn = nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.0)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        h = self.lrn(torch.relu(self.conv(x)))
        h = F.local_response_norm(F.max_pool2d(h, 2), 2, alpha=0.3)
        return self.fc(h.flatten(1))


def test_local_response_norm_is_the_identity_on_relevance():
    model = randomized(WithLRN(), seed=14)
    X = sample((2, 6, 6), 3, "box", seed=15)
    net = layers_from_torch(model, (2, 6, 6), Box(0, 1))
    assert [type(net.layer(n)).__name__ for n in ("lrn", "local_response_norm")] == ["LocalResponseNorm"] * 2
    np.testing.assert_allclose(net.forward(X), torch_forward(model, X), atol=1e-10, rtol=0)
    e = compile_layers(net).explain(X, 0, return_layers=True)
    np.testing.assert_array_equal(e.layers["conv"], e.layers["lrn"])      # R_in = R_out
    np.testing.assert_array_equal(e.layers["max_pool2d"], e.layers["local_response_norm"])


def test_sequential_nesting_and_training_mode():
    model = randomized(nn.Sequential(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), nn.Dropout(),
                                     nn.Identity(), nn.Linear(3, 2)))
    model.train()
    X = sample((4,), 3, "real")
    with pytest.warns(TrainingModeWarning):
        net = layers_from_torch(model, (4,))
    assert model.training and model[0][0].training          # the model's modes are restored
    model.eval()
    np.testing.assert_allclose(net.forward(X), torch_forward(model, X), atol=1e-12, rtol=0)
    assert net.order() == ["x", "0_0", "3"] and net.layer("0_0").activation == "relu"


# ------------------------------------------- (b) layer path = neuron path
@pytest.mark.filterwarnings("ignore::symdtd.NegativeOutputWarning")     # some logits are < 0
@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("domain", ["box", "real"])
def test_layer_path_equals_the_neuron_path(name, domain):
    cls, shape = MODELS[name]
    model = randomized(cls(), seed=3)
    net = layers_from_torch(model, shape, DOMAIN[domain])
    X = sample(shape, 3, domain, seed=4)
    target = [0, 1, 2]
    mine = compile_layers(net).explain(X, target)
    theirs = symdtd.compile(net.neurons()).explain(X.reshape(3, -1), target)
    np.testing.assert_allclose(mine.output, theirs.output, rtol=1e-12)
    np.testing.assert_allclose(mine.relevance.reshape(3, -1), theirs.relevance, atol=1e-10, rtol=0)


def test_layer_path_equals_exact_propagate():
    """One residual block on a 4×4 input, explained exactly (rationals) at neuron level."""
    model = randomized(nn.Sequential(BasicBlock(1, 2, 2), nn.Flatten(), nn.Linear(8, 1)), seed=5)
    net = layers_from_torch(model, (1, 4, 4), Box(0, 1))
    X = np.random.default_rng(6).uniform(size=(1, 1, 4, 4)).round(3)
    neurons = net.neurons()
    e = symdtd.propagate(neurons, dict(zip(neurons.inputs, X.ravel().tolist())), neurons.outputs[0],
                         arithmetic="exact")
    exact = np.array([float(e.relevance.get(p, 0)) for p in neurons.inputs])
    np.testing.assert_allclose(compile_layers(net).explain(X).relevance.ravel(), exact, atol=1e-10)


def test_from_torch_granularity():
    model = randomized(TinyResNet(), seed=7)
    X = sample((2, 8, 8), 3, "box")
    layered = from_torch(model, (2, 8, 8), Box(0, 1), granularity="layer")
    neurons = from_torch(model, (2, 8, 8), Box(0, 1))
    assert type(layered).__name__ == "LayerNetwork" and type(neurons).__name__ == "Network"
    np.testing.assert_allclose(neurons.forward(X.reshape(3, -1)), torch_forward(model, X), atol=1e-10)
    with pytest.raises(ValueError, match=r"needs \d+ edges, more than limit=100.*granularity='layer'"):
        from_torch(model, (2, 8, 8), Box(0, 1), limit=100)
    with pytest.raises(ValueError, match="granularity must be one of"):
        from_torch(model, (2, 8, 8), granularity="block")
    with pytest.raises(ValueError, match="output_names"):
        from_torch(model, (2, 8, 8), output_names=["a", "b", "c"])


# -------------------------------------- independent reference: torch autograd
class PositiveBlock(nn.Module):
    """A residual block whose add reads two ReLU outputs: z⁺ everywhere on a ≥ 0 input, z at the add
    (the default for residual sums; on unit weights and ≥ 0 inputs the same numbers as z⁺)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 5 * 5, 1)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(torch.flatten(F.relu(h + x), 1))


def zplus(a, R, positive_map):
    """The z⁺ rule as 'modified weights × gradient': R_in = a ⊙ ∇_a (T⁺a · stop_grad(R / T⁺a))."""
    a = a.detach().requires_grad_(True)
    z = positive_map(a)
    s = torch.where(z != 0, R / torch.where(z != 0, z, 1), 0).detach()
    (z * s).sum().backward()
    return (a * a.grad).detach()


def test_residual_block_equals_a_torch_autograd_reference():
    model = randomized(PositiveBlock(), seed=8, bias="negative")
    with torch.no_grad():
        model.fc.weight.abs_()
    net = layers_from_torch(model, (2, 5, 5), Positive())
    rules = compile_layers(net).rules
    assert rules.pop("add") == "z" and set(rules.values()) == {"z+"}
    X = sample((2, 5, 5), 3, "positive", seed=9)
    got = compile_layers(net).explain(X).relevance
    w1, w2, wl = (m.weight.detach().clamp(min=0) for m in (model.conv1, model.conv2, model.fc))
    x = torch.tensor(X)
    h1 = F.relu(model.conv1(x)).detach()
    h2 = F.relu(model.conv2(h1)).detach()
    s = F.relu(h2 + x).detach()
    y = model(x).detach()
    R_s = zplus(s.reshape(3, -1), y, lambda a: a @ wl.T).reshape(s.shape)
    share = torch.where(s != 0, R_s / torch.where(s != 0, h2 + x, 1), 0)      # the add: z⁺ with w = 1
    R_h2, R_skip = h2 * share, x * share
    R_h1 = zplus(h1, R_h2, lambda a: F.conv2d(a, w2, padding=1))
    reference = zplus(x, R_h1, lambda a: F.conv2d(a, w1, padding=1)) + R_skip
    np.testing.assert_allclose(got, reference.numpy(), atol=1e-10, rtol=0)


# ------------------------------------------------ (c) conservation, biases ≤ 0
@pytest.mark.parametrize("name", sorted(MODELS))
def test_conservation_layer_by_layer(name):
    cls, shape = MODELS[name]
    model = randomized(cls(), seed=10, bias="negative")
    net = layers_from_torch(model, shape, Box(0, 1))
    for n in net.order()[1:]:
        bias = getattr(net.layer(n), "bias", None)
        assert bias is None or (bias <= 1e-12).all(), n
    X = sample(shape, 8, "box", seed=11)
    e = compile_layers(net).explain(X, 0)
    rows = e.output > 0
    assert rows.sum() >= 2 and not e.lost[rows].any()
    for layer, out in e.passed.items():
        np.testing.assert_allclose(out[rows], e.totals[layer][rows], rtol=1e-6, err_msg=layer)
    np.testing.assert_allclose(e.relevance.reshape(8, -1).sum(axis=1)[rows], e.output[rows], rtol=1e-6)


# --------------------------------------------------------- (d) bad input
class Tanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class Branchy(nn.Module):
    def forward(self, x):
        return x * 2 if x.sum() > 0 else x


class Mismatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 1)

    def forward(self, x):
        return torch.relu(self.conv(x) + x)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x), x


class Functional(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.op, self.conv = op, nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.op(torch.relu(self.conv(x)))


@pytest.mark.parametrize("model, shape, error, message", [
    (Tanh(), (4,), TypeError, r"fx node 'tanh' \(function torch\.tanh\): is not supported; "
                              r"layers_from_torch reads Linear"),
    (nn.Sequential(nn.Linear(4, 3), nn.Sigmoid()), (4,),
     TypeError, r"fx node '_1' \(module '1', Sigmoid\): is not supported"),
    (Branchy(), (4,), TypeError, "Branchy cannot be traced by torch.fx .*control flow"),
    (Mismatch(), (2, 4, 4), ValueError, r"fx node 'add'.*layer 'add' \(Add\): channel count mismatch: "
                                        r"'conv' has shape \(3, 4, 4\), 'x' has \(2, 4, 4\)"),
    (nn.Sequential(nn.Conv2d(3, 2, 3)), (2, 6, 6), ValueError,
     r"layer '0' \(Conv2d\): weight expects 3 input channels"),
    (nn.Sequential(nn.Conv2d(2, 2, 3), nn.Linear(4, 2)), (2, 6, 6), ValueError,
     r"layer '1' \(Dense\): needs a flat input"),
    (TwoOutputs(), (4,), TypeError, "returns a tuple; one tensor output"),
    (Functional(lambda h: h[:, :1]), (2, 4, 4), TypeError, r"fx node 'getitem'.*indexing or slicing"),
    (Functional(lambda h: h * 2), (2, 4, 4), TypeError, r"fx node 'mul' \(function operator\.mul\)"),
    (Functional(lambda h: h + 1), (2, 4, 4), TypeError, r"fx node 'add'.*only tensor \+ tensor"),
    (Functional(lambda h: torch.cat([h, h], 2)), (2, 4, 4), TypeError, r"fx node 'cat'.*dim=2"),
    (Functional(lambda h: F.max_pool2d(h, 3, 2, padding=2)), (2, 4, 4), TypeError,
     r"fx node 'max_pool2d'.*padding \(2, 2\) more than half the kernel"),
    (Functional(lambda h: F.dropout(h, 0.5)), (2, 4, 4), TypeError, "training=True"),
    (Functional(lambda h: h.view(4, -1)), (2, 4, 4), TypeError, "fixes the batch size|only"),
    (Functional(lambda h: h + h), (2, 4, 4), ValueError, "a source is listed twice"),
    (Functional(lambda h: F.max_pool2d(h, 2) + 0 * h.sum()), (2, 4, 4), TypeError, "sum"),
    (nn.Sequential(nn.Conv2d(2, 2, 1), nn.MaxPool2d(2)), (2, 4, 4), ValueError,
     r"layer '1' \(MaxPool2d\).*|pooling needs inputs ≥ 0"),
])
def test_refuses_with_names(model, shape, error, message):
    with pytest.raises(error, match=message) as info:
        layers_from_torch(model.eval(), shape)
    assert "\n" not in str(info.value)


def test_bad_input_shape_and_models():
    with pytest.raises(ValueError, match=r"input_shape: input 'x': shape must be \(C, H, W\) or \(n,\)"):
        layers_from_torch(nn.Linear(4, 2).eval(), (2, 4))
    with pytest.raises(TypeError, match="reads a torch.nn.Module, got str"):
        layers_from_torch("model.pt", (4,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = layers_from_torch(nn.Linear(4, 2).eval(), (4,))        # a bare leaf module
    assert net.order() == ["x", "0"]


def test_a_float32_model_keeps_float32_weights_and_explains_as_its_float64_copy():
    # every float32 number is a float64 number: keeping the weights in float32 loses nothing,
    # so the float64 pass must give bit for bit what the same model converted to float64 gives
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4)).eval()
    net32 = layers_from_torch(model, (1, 6, 6), Box(0, 1))
    net64 = layers_from_torch(model.double(), (1, 6, 6), Box(0, 1))
    weighted = [n for n in net32.order() if hasattr(net32.layer(n), "weight")]
    assert len(weighted) == 2
    for n in weighted:
        w32, w64 = net32.layer(n).weight, net64.layer(n).weight
        assert w32.dtype == np.float32 and w64.dtype == np.float64
        assert (w32.astype(np.float64) == w64).all()
        assert net32.layer(n).bias.dtype == np.float64
    X = np.random.default_rng(0).uniform(size=(3, 1, 6, 6))
    e32, e64 = compile_layers(net32).explain(X, [0, 1, 2]), compile_layers(net64).explain(X, [0, 1, 2])
    np.testing.assert_array_equal(e32.relevance, e64.relevance)
    # the neuron view reads the same numbers, as Python floats
    weights = [d["weight"] for _, _, d in net32.neurons().graph.edges(data=True)]
    assert all(type(w) is float for w in weights)
    given = {float(v) for n in weighted for v in net32.layer(n).weight.ravel()}
    assert set(weights) <= given and len(weights) == 3 * 16 * 9 + 48 * 4
