"""VGG-16, ResNet-50 and GoogLeNet imported by torch.fx (layers_from_torch) and explained at
layer level (compile_layers, NumPy and torch backends), against the hand-written torch
reference (symdtd.real.torch_reference.dtd_reference: modified weights × gradient) and the
model's own forward pass; conservation layer by layer with biases ≤ 0.

The fast tests run reduced versions (32×32 input, 1/16 of the channels); the slow ones the
real networks at one 224×224 image, float64."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from symdtd.compiler.layer_pass import compile_layers  # noqa: E402
from symdtd.core.domains import Box  # noqa: E402
from symdtd.real.architectures import googlenet, resnet50, vgg16  # noqa: E402
from symdtd.real.fx_import import layers_from_torch  # noqa: E402
from symdtd.real.torch_reference import dtd_reference  # noqa: E402

ARCHITECTURES = {"vgg16": vgg16, "resnet50": resnet50, "googlenet": googlenet}


def check_against_reference(model, size, batch, backends, seed=0):
    x = torch.rand(batch, 3, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        y = model(x)
    target = [int(k) for k in torch.randint(0, y.shape[1], (batch,), generator=torch.Generator().manual_seed(1))]
    R, x_f = dtd_reference(model, x, target, low=0.0, high=1.0)
    R = R.numpy()
    assert np.abs(R).max() > 0
    net = layers_from_torch(model, (3, size, size), Box(0, 1))  # the default: z at residual sums
    explanations = {}
    for backend in backends:
        compiled = compile_layers(net, backend=backend)
        np.testing.assert_allclose(compiled.forward(x.numpy()), y.numpy(), rtol=0,
                                   atol=1e-10 * np.abs(y.numpy()).max())
        e = compiled.explain(x.numpy(), target)
        np.testing.assert_allclose(e.output, x_f.numpy(), rtol=1e-12)
        assert np.abs(e.relevance - R).max() <= 1e-9 * np.abs(R).max(), backend
        explanations[backend] = e
    return explanations


def check_conservation(e, lossless):
    """Each layer passes on what it receives, but for what zero denominators lose; the input
    receives x_f minus the losses. With biases ≤ 0 and no linear layer feeding a sum, nothing is lost."""
    scale = np.abs(e.output).max()
    for name, passed in e.passed.items():
        gap = e.totals[name] - passed
        if lossless:
            assert np.abs(gap).max() <= 1e-6 * scale, name
    losses = sum(e.totals[name] - passed for name, passed in e.passed.items())
    np.testing.assert_allclose(losses, e.lost, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(e.relevance.reshape(len(e.output), -1).sum(axis=1), e.output - e.lost,
                               rtol=0, atol=1e-6 * scale)
    if lossless:
        assert np.abs(e.lost).max() <= 1e-9 * scale


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_reduced_architectures_equal_the_torch_reference(name):
    kwargs = {"avgpool": 1} if name == "vgg16" else {}
    model = ARCHITECTURES[name](num_classes=10, width=1 / 16, nonpositive_bias=True, **kwargs).double()
    e = check_against_reference(model, 32, 2, ("numpy", "torch"))
    # the sum in a residual block reads a linear layer (BatchNorm, no ReLU): where its inputs are
    # all zero it holds its bias < 0 and gets relevance its z⁺ denominator (0) cannot pass on
    check_conservation(e["numpy"], lossless=name != "resnet50")


def test_reduced_resnet_with_positive_biases_still_equals_the_reference():
    model = resnet50(num_classes=5, width=1 / 16, seed=2).double()
    check_against_reference(model, 32, 2, ("numpy",), seed=3)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_full_architectures_at_224_equal_the_torch_reference(name):
    model = ARCHITECTURES[name](nonpositive_bias=True).double()
    e = check_against_reference(model, 224, 1, ("numpy", "torch"))
    check_conservation(e["torch"], lossless=name != "resnet50")
