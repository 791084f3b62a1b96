"""symdtd.real.architectures: the torch.nn VGG-16, ResNet-50 and GoogLeNet, checked against
torchvision's published parameter counts and shapes, BatchNorm folding done here by hand,
and torch's own ceil_mode pooling."""
import pytest

torch = pytest.importorskip("torch")

from symdtd.real.architectures import googlenet, resnet50, vgg16  # noqa: E402

nn = torch.nn
ARCHITECTURES = {"vgg16": vgg16, "resnet50": resnet50, "googlenet": googlenet}


def folded_biases(model):
    """The bias of every Conv2d/Linear after folding the BatchNorm registered right after it."""
    biases, previous = [], None
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and isinstance(previous, nn.Conv2d):
            s = m.weight / (m.running_var + m.eps).sqrt()
            b = previous.bias if previous.bias is not None else 0.0
            biases.append((b - m.running_mean) * s + m.bias)
        elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
            biases.append(m.bias)
        if next(m.children(), None) is None:
            previous = m
    return biases


@pytest.mark.slow
@pytest.mark.parametrize("name, count", [("vgg16", 138_357_544), ("resnet50", 25_557_032),
                                         ("googlenet", 6_624_904)])
def test_full_size_parameter_counts_are_torchvisions(name, count):
    # torchvision's documented counts (GoogLeNet without its auxiliary heads)
    model = ARCHITECTURES[name]()
    assert sum(p.numel() for p in model.parameters()) == count
    assert not model.training


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_small_versions_run_are_reproducible_and_alive(name):
    kwargs = {"avgpool": 1} if name == "vgg16" else {}
    a = ARCHITECTURES[name](num_classes=7, width=1 / 16, seed=3, **kwargs)
    b = ARCHITECTURES[name](num_classes=7, width=1 / 16, seed=3, **kwargs)
    c = ARCHITECTURES[name](num_classes=7, width=1 / 16, seed=4, **kwargs)
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        ya, yb, yc = a(x), b(x), c(x)
    assert ya.shape == (3, 7) and torch.equal(ya, yb) and not torch.equal(ya, yc)
    assert ya.abs().max() > 0.1 and ya.std() > 0.01         # activations neither died nor saturated


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_nonpositive_bias_holds_after_folding_batchnorm(name):
    kwargs = {"avgpool": 1} if name == "vgg16" else {}
    model = ARCHITECTURES[name](num_classes=3, width=1 / 16, nonpositive_bias=True, **kwargs)
    biases = folded_biases(model)
    assert len(biases) > 10
    assert all((b <= 0).all() for b in biases)
    other = ARCHITECTURES[name](num_classes=3, width=1 / 16, **kwargs)
    assert any((b > 0).any() for b in folded_biases(other))
    if name != "vgg16":                                    # folding changes the numbers
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        assert all((m.running_mean != 0).all() and (m.running_var != 1).all() for m in bns)


def test_googlenet_pools_are_torchvisions_ceil_mode_pools():
    model = googlenet(num_classes=2, width=1 / 16)
    shapes = []
    for k in (1, 2, 3, 4):
        pool = getattr(model, f"maxpool{k}")
        assert pool.ceil_mode and pool.stride == 2 and pool.padding == 0
        pool.register_forward_hook(lambda m, i, o: shapes.append(o.shape[-1]))
    with torch.no_grad():
        model(torch.rand(1, 3, 224, 224))
    assert shapes == [56, 28, 14, 7]                       # torchvision's GoogLeNet at 224×224


def test_structure_matches_torchvision():
    model = resnet50(width=1 / 16)
    assert [len(getattr(model, f"layer{k}")) for k in (1, 2, 3, 4)] == [3, 4, 6, 3]
    assert all(getattr(model, f"layer{k}")[0].downsample is not None for k in (1, 2, 3, 4))
    assert model.layer2[0].conv2.stride == (2, 2) and model.layer2[0].conv1.stride == (1, 1)
    vgg = vgg16(width=1 / 16)
    convs = [m for m in vgg.features if isinstance(m, nn.Conv2d)]
    assert [m.out_channels * 16 for m in convs] == [v for v in
                                                    (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)]
    assert vgg.avgpool.output_size == (7, 7)
    g = googlenet(width=1 / 16)
    assert not any(isinstance(m, nn.LocalResponseNorm) for m in g.modules())
    assert g.inception4e.branch4[1].conv.out_channels == 8 and g.fc.in_features == 64


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_classes"):
        vgg16(0)
    with pytest.raises(ValueError, match="width"):
        resnet50(width=0)
    with pytest.raises(ValueError, match="seed"):
        googlenet(seed=1.5)
    with pytest.raises(ValueError, match="avgpool"):
        vgg16(avgpool=0)
