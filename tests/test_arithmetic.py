"""The exact, float and symbolic backends and forward_values (symdtd.arithmetic)."""
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symdtd import examples
from symdtd.propagation.arithmetic import ARITHMETIC, ARITHMETICS, forward_values

R = sp.Rational


def test_every_arithmetic_has_a_backend():
    assert set(ARITHMETIC) == set(ARITHMETICS) == {"exact", "float", "symbolic"}


def test_numbers_per_backend():
    exact, flt, sym = ARITHMETIC["exact"], ARITHMETIC["float"], ARITHMETIC["symbolic"]
    assert exact.number(0.5, "w") == R(1, 2) and exact.number(Fraction(1, 3), "w") == R(1, 3)
    assert exact.number("3/4", "w") == R(3, 4) and exact.number(np.int64(2), "w") == 2
    assert type(flt.number("1/4", "w")) is float and flt.total([0.1] * 10) == 1.0
    w = sp.Symbol("w")
    assert sym.number(w, "w") is w
    with pytest.raises(ValueError, match="weight of edge a -> b is symbolic"):
        exact.number(w, "weight of edge a -> b")
    with pytest.raises(ValueError, match="'x' is not a number"):
        flt.number("x", "input 'a'")


def test_operations_per_backend():
    exact, sym = ARITHMETIC["exact"], ARITHMETIC["symbolic"]
    z = sp.Symbol("z", real=True)
    assert exact.relu(R(-1, 2)) == 0 and exact.relu(R(1, 2)) == R(1, 2)
    assert sym.relu(z) == sp.Max(0, z) and sym.positive_part(z) == sp.Max(z, 0)
    assert [exact.sign(v) for v in (R(-1), 0, R(2))] == [-1, 0, 1]
    assert sym.sign(z) is None and sym.sign(sp.Symbol("p", positive=True)) == 1
    assert sym.is_zero(z - z) and not exact.is_zero(R(1, 9))


def test_forward_values_three_ways():
    net = examples.figure3()
    point = examples.example_inputs("figure3")[0]
    exact = forward_values(net, point, "exact")
    flt = forward_values(net, point, "float")
    region = forward_values(net, None, "symbolic", at=point)
    subs = {net.graph.nodes[p]["symbol"]: v for p, v in point.items()}
    for n in net.graph:
        assert flt[n] == pytest.approx(float(exact[n]), abs=1e-15)
        assert sp.sympify(region[n]).xreplace(subs) == exact[n]
    only = forward_values(net, point, "exact", output="h1")
    assert set(only) == {"x1", "x2", "x3", "h1"}


def test_forward_values_errors():
    net = examples.xor()
    with pytest.raises(ValueError, match="at= is for arithmetic='symbolic'"):
        forward_values(net, {"x1": 0, "x2": 0}, "exact", at={"x1": 0, "x2": 0})
    with pytest.raises(TypeError, match="inputs must be a mapping"):
        forward_values(net, [0, 0], "exact")
    with pytest.raises(ValueError, match="input 'x1' = 3/2 lies outside its domain"):
        forward_values(net, {"x1": "3/2", "x2": 0}, "exact")
