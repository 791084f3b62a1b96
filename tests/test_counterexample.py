import pytest

from symdtd import derive
from symdtd.proof.counterexample import find_counterexample


def test_no_counterexample_for_a_true_claim():
    assert find_counterexample(derive("z+", n=2), "positivity") is None


def test_deterministic():
    d = derive("z", n=2)
    assert find_counterexample(d, "positivity", seed=3) == find_counterexample(d, "positivity", seed=3)


def test_needs_concrete_fan_in():
    with pytest.raises(ValueError, match="concrete fan-in"):
        find_counterexample(derive("z"), "positivity")
