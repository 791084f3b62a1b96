import math

import numpy as np
import pytest

from symdtd import Box, Positive, Real
from symdtd.core.domains import Domain


def test_contains():
    assert Real().contains([-1e9, 3])
    assert not Real().contains([np.nan])
    assert Positive().contains([0, 1]) and not Positive().contains([-0.1])
    assert Box(-1, [1, 2]).contains([0.5, 1.5]) and not Box(-1, [1, 2]).contains([1.5, 1.5])


def test_box_errors():
    with pytest.raises(ValueError, match="greater than high"):
        Box([0, 3], [1, 2])
    with pytest.raises(ValueError, match="both low and high"):
        Box(0)
    with pytest.raises(TypeError, match="must be a number"):
        Box("a", 1)
    with pytest.raises(ValueError, match="NaN"):
        Box(math.nan, 1)


def test_roundtrip_dict():
    for domain in (Real(), Positive(), Box(0, 1), Box([-1, 0], [1, math.inf])):
        assert Domain.from_dict(domain.to_dict()) == domain
    with pytest.raises(ValueError, match="unknown domain type"):
        Domain.from_dict({"type": "disc"})
