"""The hand-written torch reference (symdtd.real.torch_reference.dtd_reference) against
symdtd's neuron-level exact propagation (rational arithmetic, from_torch of a Sequential),
against a hand calculation, and on bad input."""
from fractions import Fraction

import numpy as np
import pytest

import symdtd
from symdtd.core.domains import Box

torch = pytest.importorskip("torch")

from symdtd.real.interop import from_torch  # noqa: E402
from symdtd.real.torch_reference import dtd_reference  # noqa: E402


def small_cnn(seed, nonpositive=True):
    """Conv + BatchNorm + ReLU, max-pool, conv + ReLU, average pool, flatten, linear; float64, eval."""
    nn = torch.nn
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(3, 4, 2), nn.ReLU(), nn.AvgPool2d(2),
                          nn.Flatten(), nn.Linear(4, 3)).double()
    with torch.no_grad():
        for m in model.modules():
            for p in m.parameters(recurse=False):
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
            if isinstance(m, (nn.Conv2d, nn.Linear)) and nonpositive:
                m.bias.copy_(-m.bias.abs() * 0.2)
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(m.weight.abs() + 0.5)
                m.running_mean.copy_(torch.rand(3, generator=gen, dtype=torch.float64))
                m.running_var.copy_(torch.rand(3, generator=gen, dtype=torch.float64) + 0.5)
                if nonpositive:
                    m.bias.copy_(-m.bias.abs())
    return model.eval()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_equals_the_exact_neuron_level_propagation(seed):
    model = small_cnn(seed)
    net = from_torch(model, (2, 6, 6), Box(0, 1))
    x = torch.rand(2, 2, 6, 6, generator=torch.Generator().manual_seed(10 + seed), dtype=torch.float64)
    targets = [0, 2]
    R, y = dtd_reference(model, x, targets, low=0.0, high=1.0)
    for row, k in enumerate(targets):
        values = dict(zip(net.inputs, (Fraction(v) for v in x[row].reshape(-1).tolist())))
        e = symdtd.propagate(net, values, net.outputs[k], arithmetic="exact")
        exact = np.array([float(e.relevance.get(name, 0)) for name in net.inputs])
        assert exact.any()
        np.testing.assert_allclose(R[row].reshape(-1).numpy(), exact, rtol=1e-9, atol=1e-12)
        assert float(y[row]) == pytest.approx(float(model(x[row:row + 1]).detach()[0, k]), rel=1e-12)


def test_reference_conserves_with_nonpositive_biases_and_defaults_to_the_largest_output():
    model = small_cnn(4)
    x = torch.rand(40, 2, 6, 6, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    R, y = dtd_reference(model, x)
    out = model(x).detach()
    np.testing.assert_allclose(y.numpy(), out.max(dim=1).values.numpy(), rtol=1e-12)
    # conservation: Σ_i x_i w⁺_ij / Σ_i' x_i' w⁺_i'j = 1 (zB likewise). Below the output, biases
    # ≤ 0 make z⁺_j ≥ z_j > 0 wherever x_j > 0, so nothing is lost there; the linear output
    # x_f = Σ h w + b can be ≠ 0 while its z⁺ = Σ h w⁺ is 0 (all of h dead): then all is lost
    hidden = model[:-1](x).detach()
    k = out.argmax(dim=1)
    z_plus = (hidden * model[-1].weight.detach()[k].clamp(min=0)).sum(dim=1)
    kept = (z_plus > 0).numpy()
    assert kept.sum() >= 20   # most rows have a live hidden layer: the check has teeth
    np.testing.assert_allclose(R.reshape(40, -1).sum(dim=1).numpy()[kept], y.numpy()[kept], rtol=1e-10)
    assert (R.reshape(40, -1)[~kept] == 0).all()


def test_reference_matches_a_hand_calculation_of_z_plus_and_z_b():
    nn = torch.nn
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)).double().eval()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[2.0, -1.0], [1.0, 1.0]]))
        model[0].bias.copy_(torch.tensor([-0.5, 0.0]))
        model[2].weight.copy_(torch.tensor([[1.0, -1.0]]))
        model[2].bias.zero_()
    x = torch.tensor([[0.75, 0.5]], dtype=torch.float64)
    R, y = dtd_reference(model, x, 0, low=-1.0, high=1.0)
    # h = relu([1.5 − 0.5 − 0.5, 1.25]) = [0.5, 1.25]; y = 0.5 − 1.25 = −0.75
    # z+ at the top: only h1 has w⁺ > 0, so R_h = [y, 0] = [−0.75, 0]
    # zB at h1 (w = [2, −1], l = −1, h = 1): q_i = x_i w_i − l w⁺_i − h w⁻_i = [1.5 + 2, −0.5 + 1]
    q = np.array([3.5, 0.5])
    assert float(y[0]) == pytest.approx(-0.75)
    np.testing.assert_allclose(R[0].numpy(), q / q.sum() * -0.75, rtol=1e-12)


def test_reference_refuses_a_training_model_and_a_model_that_never_reads_the_input():
    model = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with pytest.raises(ValueError, match="training mode"):
        dtd_reference(model, torch.rand(1, 2))
    with pytest.raises(ValueError, match="no Conv2d or Linear"):
        dtd_reference(torch.nn.Sequential(torch.nn.ReLU()).eval(), torch.rand(1, 2))
