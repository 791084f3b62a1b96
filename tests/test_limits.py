"""Size limits: costly modes refuse up front with the size and how to raise the limit."""
import numpy as np
import pytest
import sympy as sp

from symdtd import Network, derive, examples, propagate, verify
from symdtd.cli.app import main
from symdtd.core import limits
from symdtd.core.domains import Box
from symdtd.core.limits import LIMITS, LimitExceeded, raised
from symdtd.proof.network import explain_command


def dense(sizes, rng, scale=1):
    weights = [rng.integers(-4, 5, (a, b)) * scale for a, b in zip(sizes, sizes[1:])]
    biases = [-rng.integers(0, 2, b) for b in sizes[1:]]
    return Network.from_dense(weights, biases, input_domain=Box(0, 1))


def test_defaults_are_documented_and_restored():
    assert (LIMITS.derive_fan_in, LIMITS.verify_fan_in, LIMITS.symbolic_edges,
            LIMITS.exact_edges, LIMITS.float_edges, LIMITS.exact_digits) == (
        64, 4, 1_000, 100_000, 1_000_000, 2_000)
    with pytest.raises(RuntimeError):
        with raised(exact_edges=7, verify_fan_in=None):
            assert LIMITS.exact_edges == 7 and LIMITS.verify_fan_in is None
            raise RuntimeError
    assert LIMITS.exact_edges == 100_000 and LIMITS.verify_fan_in == 4


@pytest.mark.parametrize("values, message", [
    ({"nope": 1}, "unknown limit 'nope'"),
    ({"exact_edges": 0}, "exact_edges must be a positive integer or None"),
    ({"exact_edges": True}, "exact_edges must be a positive integer"),
    ({"exact_edges": 2.5}, "exact_edges must be a positive integer")])
def test_raised_checks_its_arguments(values, message):
    with pytest.raises(ValueError, match=message):
        with raised(**values):
            pass
    assert LIMITS.exact_edges == 100_000


def test_derive_refuses_a_huge_fan_in_at_once():
    with pytest.raises(LimitExceeded, match=r"fan-in n = 100,000 is over the limit "
                       r"derive_fan_in = 64; raise it with symdtd.core.limits.raised"
                       r"\(derive_fan_in=100000\)"):
        derive("z+", n=100_000)
    assert issubclass(LimitExceeded, ValueError)
    with raised(derive_fan_in=2), pytest.raises(LimitExceeded, match="n = 3"):
        derive(lambda x, w: x * w, n=3)
    assert len(derive("z+", n=3).rule) == 3   # within the limit: derived


def test_verify_refuses_a_large_fan_in_before_deriving():
    with pytest.raises(LimitExceeded, match="fan-in n = 6 is over the limit verify_fan_in = 4"):
        verify("zB", n=6)
    d = derive("z+", n=5)  # cheap to derive, slow to prove
    with pytest.raises(LimitExceeded, match="verify_fan_in"):
        verify(d)
    with raised(verify_fan_in=1), pytest.raises(LimitExceeded, match="n = 2"):
        verify("z+", n=2)


def test_propagation_counts_the_edges_it_walks():
    net = examples.figure3()
    point = examples.example_inputs("figure3")[0]
    n_edges = net.graph.number_of_edges()  # one output: every edge is walked
    with raised(exact_edges=n_edges - 1):
        with pytest.raises(LimitExceeded, match=f"arithmetic='exact': explaining output 'y' "
                           f"walks {n_edges} edges, which is over the limit exact_edges"):
            propagate(net, point, arithmetic="exact")
    with raised(float_edges=n_edges - 1), pytest.raises(LimitExceeded, match="float_edges"):
        propagate(net, point, arithmetic="float")
    with raised(exact_edges=n_edges):
        assert float(propagate(net, point, arithmetic="exact").output) == net.forward(
            [[float(point[p]) for p in net.inputs]])[0, 0]


def test_symbolic_propagation_refuses_a_large_network_quickly():
    net = dense([40, 30, 5], np.random.default_rng(0))   # 1,350 edges
    for output, walked in (("y1", 40 * 30 + 30), ("y2", 40 * 30 + 30)):
        with pytest.raises(LimitExceeded, match=f"walks {walked:,} edges.*symbolic_edges = 1,000"
                                                ".*arithmetic='exact' or 'float'"):
            propagate(net, None, output, "symbolic")
    small = dense([4, 3, 1], np.random.default_rng(1))
    assert propagate(small, None, arithmetic="symbolic").output.free_symbols


def test_exact_digits_fail_early_naming_the_neuron():
    # y = 1/10·h, h = x: 0.1 is the binary fraction 3602879701896397 / 2**55 (17 digits)
    net = Network.from_dense([[[1]], [[0.1]]], [[0], [0]], input_domain=Box(0, 1))
    exact = sp.Rational(0.1)
    assert exact.q == 2 ** 55 and len(str(exact.q)) == 17
    assert limits.digits(exact) == 17 and limits.digits(sp.Rational(10 ** 30, 3)) == 31
    with raised(exact_digits=16):
        with pytest.raises(LimitExceeded, match=r"relevance of neuron 'y1' has 17 digits.*"
                                                r"exact_digits = 16.*arithmetic='float'"):
            propagate(net, {"x1": 1}, arithmetic="exact")
        assert propagate(net, {"x1": 1}, arithmetic="float").output == pytest.approx(0.1)
    assert propagate(net, {"x1": 1}, arithmetic="exact").output == exact


def test_float_explain_does_not_run_the_exact_proof(monkeypatch):
    import symdtd.proof.network as nv

    def no_proof(*args, **kwargs):
        raise AssertionError("verify_network called for --arithmetic float")

    monkeypatch.setattr(nv, "verify_network", no_proof)
    text = explain_command(examples.figure3(), {"x1": 1, "x2": "1/2", "x3": "1/2"},
                           arithmetic="float")
    assert "proved" not in text.replace("not proved", "")
    assert "conservation: not proved (float arithmetic)" in text
    # the float residual is Σ R_p − x_f computed in floats: 0 on this small dyadic example
    assert "float residual: 0" in text and "x1     1      0.366666666667" in text


def test_cli_limit_option(capsys):
    assert main(["verify", "zB", "-n", "6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--limit verify_fan_in=6" in err
    assert main(["derive", "z+", "-n", "3", "--limit", "derive_fan_in=2"]) == 2
    assert "derive_fan_in = 2" in capsys.readouterr().err
    assert main(["derive", "z+", "-n", "2", "--limit", "derive_fan_in=2"]) == 0
    assert LIMITS.derive_fan_in == 64   # only for that run
    for bad, message in (("derive_fan_in=x", "expected a positive integer or 'none'"),
                         ("derive_fan_in", "expects NAME=VALUE"),
                         ("derive_fan_in=١", "expected a positive integer"),
                         ("speed=3", "unknown limit 'speed'")):
        capsys.readouterr()
        assert main(["derive", "z+", "--limit", bad]) == 2
        assert message in capsys.readouterr().err
