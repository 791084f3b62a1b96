"""symdtd.batch: batch results and the checks of X and target."""
import sys

import numpy as np
import pytest

from symdtd import Box, Positive, Real, examples
from symdtd import compile as compile_network
from symdtd.compiler.batch import BatchExplanation, ConservationReport, check_inputs, check_target, numeric_bound


def test_result_classes_are_public_in_compile():
    module = sys.modules["symdtd.compiler.compiled"]
    assert module.BatchExplanation is BatchExplanation
    assert module.ConservationReport is ConservationReport
    assert {"BatchExplanation", "ConservationReport"} <= set(module.__all__)


def test_check_inputs_converts_and_keeps_one_row():
    X = check_inputs([1, 0], ["a", "b"], [Box(0, 1)] * 2, 0, 1, np.float32)
    assert X.dtype == np.float32 and X.shape == (1, 2) and X.flags.c_contiguous
    with pytest.raises(ValueError, match=r"rows \[1\]: X\[1, 0\] = -1"):
        check_inputs([[0, 0], [-1, 0]], ["a", "b"], [Box(0, 1)] * 2, 0, 1, np.float64)
    assert check_inputs([[-1, 0]], ["a", "b"], [Box(0, 1)] * 2, 0, 1, np.float64,
                        domain=False).tolist() == [[-1.0, 0.0]]


def test_check_target():
    assert check_target(None, 2, ["y"]).tolist() == [0, 0]
    assert check_target(np.int32(1), 3, ["a", "b"]).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match=r"in rows \[0, 1, 2, 3, 4, … \(6 in all\)\]"):
        check_target([7] * 6, 6, ["a", "b"])


def test_bounds_of_input_domains():
    domains = (Box(0, 2), Positive(), Real(), Box())
    assert [numeric_bound(d, 0) for d in domains] == [0, 0, -np.inf, -np.inf]
    assert [numeric_bound(d, 1) for d in domains] == [2, np.inf, np.inf, np.inf]


def test_report_and_explanation():
    e = compile_network(examples.skip_dag(), np.float32).explain(
        [[0.5, 0.5, 0.5], [1, 0, 0]], return_neurons=True)
    assert isinstance(e, BatchExplanation) and len(e) == 2
    report = e.conservation
    assert report.conserved().all() and report.dtype == np.float32
    text = str(report)
    assert text.startswith("rows: 2, max |residual|") and "generation 3: zB (1 neurons)" in text
    assert np.allclose(e.node("h3"), e.neurons[:, e.neuron_names.index("h3")])
    with pytest.raises(ValueError, match="no relevance for 'q': not an input"):
        e.node("q")
    with pytest.raises(ValueError, match="use return_edges=True"):
        e.message("x1", "h1")
