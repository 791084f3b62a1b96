"""Issue 14 (items 1-3, 5, 10): what a careless, hurried or hostile user tried, refused clearly.

Each test is a reproduction that went wrong before: a hang, a silent inf/NaN,
a stale cached value, an internal exception, or a value quietly accepted.
"""
import copy
import json
import pickle
import time
import warnings

import numpy as np
import pytest
import sympy as sp

import symdtd
from symdtd import Box, Network, examples, propagate
from symdtd.cli.app import main
from symdtd.network.netjson import load_network, network_from_dict, network_to_dict

R = sp.Rational


def xor_dict(**changes):
    data = network_to_dict(examples.xor())
    for path, value in changes.items():
        target = data
        *keys, last = path.split("__")
        for key in keys:
            target = target[int(key) if key.isdigit() else key]
        target[int(last) if last.isdigit() else last] = value
    return json.loads(json.dumps(data))


# ------------------------------------------------------- 1. nothing hangs
@pytest.mark.parametrize("path", ["neurons__0__inputs__x1", "neurons__0__bias",
                                  "inputs__0__domain__high"])
def test_short_number_strings_do_not_hang_network_files(tmp_path, path):
    file = tmp_path / "net.json"
    file.write_text(json.dumps(xor_dict(**{path: "1e100000000"})))
    assert file.stat().st_size < 700
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"(neurons\[0\]|inputs\[0\]).*exponent of "
                                         r"'1e100000000' is 100000000; at most 1000"):
        load_network(file)
    assert time.perf_counter() - start < 2


def test_short_number_strings_do_not_hang_the_api_or_the_command_line(capsys):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="input 'x1': the exponent"):
        propagate(examples.figure3(), {"x1": "1e10000000", "x2": 1, "x3": 1}, arithmetic="exact")
    with pytest.raises(ValueError, match="weight of edge 'x' -> 'h': the exponent"):
        net = Network()
        net.add_input("x")
        net.add_neuron("h", {"x": "1e10000000"})
    assert main(["explain", "figure3", "--input", "x1=1e10000000", "x2=1", "x3=1"]) == 2
    assert "--input x1: the exponent of '1e10000000'" in capsys.readouterr().err
    assert time.perf_counter() - start < 5


def test_huge_integer_weights_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"neurons\[0\]\.inputs\.x1 has about 1002 digits"):
        network_from_dict(xor_dict(neurons__0__inputs__x1=10**1001))
    file = tmp_path / "net.json"
    file.write_text(json.dumps(xor_dict()).replace('"x1": 1', '"x1": ' + "9" * 5000, 1))
    with pytest.raises(ValueError, match="an integer of 5000 digits; at most 1000"):
        load_network(file)
    # 400 digits is within the limit: exact arithmetic works, float arithmetic says why not
    net = network_from_dict(xor_dict(neurons__0__inputs__x1=10**400))
    assert propagate(net, {"x1": 1, "x2": 0}, arithmetic="exact").output > 10**399
    with pytest.raises(ValueError, match=r"weight of edge 'x1' -> 'h1' is too large for float"):
        propagate(net, {"x1": 1, "x2": 0}, arithmetic="float")
    with pytest.raises(ValueError, match=r"neuron 'h1': the weight of edge 'x1' -> 'h1' is too "
                                         "large for float64"):
        net.forward([1.0, 0.0])


# ------------------------------------------------ 3. float overflow is an error
def test_float_overflow_names_the_neuron_never_nan():
    net = network_from_dict(xor_dict(neurons__0__inputs__x1="1e400"))
    with pytest.raises(ValueError, match="weight of edge 'x1' -> 'h1' is too large for float"):
        propagate(net, {"x1": 1, "x2": 1}, arithmetic="float")
    big = Network.from_dense([[[1e308]], [[10.0]]])   # finite weights, overflowing values
    with pytest.raises(ValueError, match="neuron 'y1' is not finite.*float arithmetic"):
        propagate(big, {"x1": 1}, arithmetic="float")
    with pytest.raises(ValueError, match="neuron 'y1' overflows float64 in row 0"):
        big.forward([1.0])
    assert propagate(big, {"x1": 1}, arithmetic="exact").output == R(1e308) * 10
    # relevance that overflows on the way back: R_h = 1e300 over Σ q = 1e-300
    tiny = Network.from_dense([[[1e-300]], [[1.0]]], [[1e300], [0]])
    with pytest.raises(ValueError, match="the message 'x1' -> 'h1_1' is not finite"):
        propagate(tiny, {"x1": 1}, arithmetic="float")


def test_float_overflow_inside_a_rule_is_an_error_naming_the_neuron():
    # found by the slow fuzz: w² of a weight near 1.34e154 overflows a Python float,
    # which raised a bare OverflowError from the rule's numerator
    net = examples.xor()
    net.graph.nodes["x1"]["domain"] = symdtd.Real()       # w² at h2's inputs
    for i in ("x1", "x2"):
        net.graph.edges[i, "h2"]["weight"] = 1.3407807929942597e+154
    with pytest.warns(symdtd.NegativeOutputWarning):
        with pytest.raises(ValueError, match="neuron 'h2': the denominator Σ q is not finite"):
            propagate(net, {"x1": 0.0, "x2": 1.0}, arithmetic="float")
        exact = propagate(net, {"x1": 0.0, "x2": 1.0}, arithmetic="exact")
    w = R(1.3407807929942597e+154)
    assert exact.messages[("x1", "h2")] == exact.relevance["h2"] * w**2 / (2 * w**2)


def test_float_results_are_finite():
    e = propagate(examples.figure3(), {"x1": 1, "x2": 0.5, "x3": 0.5}, arithmetic="float")
    values = [e.output, e.total, *e.relevance.values(), *e.messages.values(),
              *e.factors.values()]
    assert all(np.isfinite(v) for v in values)


# ------------------------------------------- 5. forward validates; caches are never stale
@pytest.mark.parametrize("X, error, message", [
    ([float("nan"), 1.0], ValueError, r"NaN or inf in rows \[0\]: X\[0, 0\] = nan for input 'x1'"),
    ([[1.0, 1.0], [1.0, np.inf]], ValueError, r"rows \[1\]: X\[1, 1\] = inf for input 'x2'"),
    ([1 + 2j, 1], TypeError, "got dtype complex128"),
    (np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"), TypeError, "datetime64"),
    (["1", "2"], TypeError, "got dtype <U1"),
    ([True, False], TypeError, "got dtype bool"),
    (np.array([[None, 1]], dtype=object), TypeError, r"X\[0, 0\] \(input 'x1'\) must be a real"),
    (np.array([[sp.Symbol("a"), 1]], dtype=object), ValueError, "is symbolic"),
    ([[1.0, 2.0, 3.0]], ValueError, r"shape \(batch, 2\)"),
])
def test_forward_refuses_bad_inputs_naming_them(X, error, message):
    with pytest.raises(error, match=message):
        examples.xor().forward(X)


def test_forward_accepts_exact_objects_and_empty_batches():
    net = examples.xor()
    assert net.forward(np.array([[R(3, 4), "1/2"]], dtype=object))[0, 0] == 0.75
    assert net.forward(np.zeros((0, 2))).shape == (0, 1)


def test_direct_edit_without_changed_is_seen_by_forward():
    net = examples.figure3()
    x = [[1, 0.5, 0.5]]
    point = {"x1": 1, "x2": "1/2", "x3": "1/2"}
    assert net.forward(x)[0, 0] == 1.375
    edge = next(iter(net.graph.edges))
    net.graph.edges[edge]["weight"] = 10    # no changed()
    exact = propagate(net, point, arithmetic="exact").output
    assert exact != R(11, 8) and net.forward(x)[0, 0] == pytest.approx(float(exact))
    net.graph.nodes["y"]["bias"] = 2         # a node attribute
    assert net.forward(x)[0, 0] == pytest.approx(float(propagate(net, point, "y", "exact").output))
    net.graph.edges[edge].update(weight=0.5)  # through dict.update
    assert net.forward(x)[0, 0] == pytest.approx(float(propagate(net, point, "y", "exact").output))


def test_structural_edits_are_seen_and_checked():
    net = examples.xor()
    before = net.forward([1.0, 1.0])[0]
    net.graph.remove_edge("h2", "y")
    assert net.forward([1.0, 1.0])[0] != before
    net.graph.add_edge("ghost", "y", weight=1)   # a node that is not in the network
    for use in (lambda: net.forward([1.0, 1.0]), lambda: propagate(net, {"x1": 1, "x2": 1}),
                lambda: net.graph.nodes["y"]["expr"] and net.validate(),
                lambda: network_to_dict(net)):
        with pytest.raises(ValueError, match="node 'ghost' has no attributes: was it created by "
                                             "an edge 'ghost' -> 'y'"):
            use()
    net.graph.remove_node("ghost")
    assert net.outputs == ["h2", "y"] and net.forward([1.0, 1.0]).shape == (2,)
    net.graph.add_edge("y", "h1", weight=1)
    with pytest.raises(ValueError, match="cycle"):
        net.forward([1.0, 1.0])


def test_bad_attribute_edits_are_named_on_use():
    net = examples.xor()
    net.forward([1.0, 1.0])
    net.graph.edges["x1", "h1"]["weight"] = float("nan")
    with pytest.raises(ValueError, match=r"weight of edge 'x1' -> 'h1' is not finite \(nan\)"):
        net.forward([1.0, 1.0])
    with pytest.raises(ValueError, match=r"weight of edge 'x1' -> 'h1' is not finite"):
        propagate(net, {"x1": 1, "x2": 1}, arithmetic="float")
    net.graph.edges["x1", "h1"]["weight"] = 1
    net.graph.nodes["h1"]["kind"] = "softmax"
    with pytest.raises(ValueError, match="node 'h1': kind must be one of"):
        net.forward([1.0, 1.0])
    net.graph.nodes["h1"]["kind"] = "relu"
    net.outputs = ["y"]
    net.graph.remove_node("y")
    with pytest.raises(ValueError, match="output 'y' is not a neuron"):
        net.forward([1.0, 1.0])


def test_edits_before_the_first_use_and_through_copies():
    net = examples.xor()
    net.graph.nodes["y"]["bias"] = 100          # before any use
    exact = propagate(net, {"x1": 0, "x2": 0}, arithmetic="exact").output
    assert exact >= 100 and net.forward([0.0, 0.0])[0] == pytest.approx(float(exact))
    for twin in (net.copy(), pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        twin.graph.edges["h2", "y"]["weight"] = 0
        assert twin.forward([1.0, 1.0])[0] != net.forward([1.0, 1.0])[0]


def test_evaluate_caches_see_direct_edits():
    from symdtd.real.evaluate import gradient
    net = Network.from_dense([[[1.0], [1.0]], [[2.0]]], input_domain=Box(0, 1))
    X = np.array([[0.5, 0.5]])
    assert gradient(net, X, 0).tolist() == [[2.0, 2.0]]
    net.graph.edges["h1_1", "y1"]["weight"] = 3.0
    assert gradient(net, X, 0).tolist() == [[3.0, 3.0]]


# ------------------------------------------------ 10. clear messages, no lax inputs
@pytest.mark.parametrize("value, error, message", [
    ([1], TypeError, "input 'x1' must be a real number, got list"),
    (None, TypeError, "input 'x1' must be a real number, got None"),
    (b"1", TypeError, "input 'x1' must be a real number, got bytes"),
    ("١", ValueError, "input 'x1': '١' is not a number"),
    (float("nan"), ValueError, r"input 'x1' is not finite \(nan\)"),
    (1 + 1j, TypeError, "got complex"),
    (sp.I, ValueError, "must be a real number, got I"),
])
@pytest.mark.parametrize("arithmetic", ["exact", "float", "symbolic"])
def test_propagate_input_values(value, error, message, arithmetic):
    with pytest.raises(error, match=message):
        propagate(examples.figure3(), {"x1": value, "x2": 1, "x3": 1}, arithmetic=arithmetic)


def test_complex_weights_are_refused():
    net = Network()
    net.add_input("x")
    with pytest.raises(ValueError, match="weight of edge 'x' -> 'y' must be a real number, got I"):
        net.add_neuron("y", {"x": sp.I})
    with pytest.raises(ValueError, match=r"weights\[0\]\[0\]\[0\] must be a real number"):
        Network.from_dense([[[sp.I + 1]]])
    with pytest.raises(ValueError, match="Box: low bound must be a real number"):
        Box(sp.I, 1)


@pytest.mark.parametrize("changes, message", [
    ({"inputs__0__extra": 1}, r"inputs\[0\]: unknown field\(s\) extra"),
    ({"inputs__0__domain__extra": 1}, r"inputs\[0\]\.domain: unknown field\(s\) extra"),
    ({"inputs__0__domain": {"type": "real", "low": 0}}, r"unknown field\(s\) low in a 'real'"),
    ({"version": True}, "version: expected 1, got True"),
    ({"version": 1.0}, "version: expected 1, got 1.0"),
    ({"inputs__0__domain": {"type": "box", "low": None, "high": None}},
     r"inputs\[0\]\.domain: box domain: 'low' and 'high' must be numbers"),
    ({"inputs__0__domain": {"type": "box", "low": 0, "high": None}}, "must be numbers"),
    ({"inputs__0__domain": {"type": "box", "low": "nan", "high": 1}},
     r"inputs\[0\]\.domain: box low bound: 'nan' is not a number"),
    ({"neurons__0__bias": "1e3/0"}, r"neurons\[0\]\.bias: '1e3/0' is not a number: it divides"),
])
def test_network_files_are_strict(changes, message):
    with pytest.raises(ValueError, match=message):
        network_from_dict(xor_dict(**changes))


@pytest.mark.parametrize("text, message", [
    ('{"format": NaN}', "NaN is not a number JSON allows"),
    ('{"a": -Infinity}', "-Infinity is not a number JSON allows"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_network_files_are_strict_json(tmp_path, text, message):
    file = tmp_path / "net.json"
    file.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_network(file)


def test_network_files_must_be_utf8(tmp_path):
    file = tmp_path / "net.json"
    file.write_bytes(b'{"format": "symdtd-network\xff"}')
    with pytest.raises(ValueError, match="not UTF-8 text"):
        load_network(file)


def test_symbolic_boxes_are_not_saved():
    net = Network()
    net.add_input("p", Box())
    net.add_neuron("y", {"p": 1})
    with pytest.raises(ValueError, match=r"input 'p' has a symbolic Box\(\); only numeric"):
        network_to_dict(net)


def test_cli_inputs_are_numbers_given_once(capsys):
    assert main(["explain", "figure3", "--input", "x1=١", "x2=1", "x3=1"]) == 2
    assert "--input x1: '١' is not a number" in capsys.readouterr().err
    assert main(["explain", "figure3", "--input", "x1=1", "x1=2", "x2=1", "x3=1"]) == 2
    assert "x1 is given twice (x1=1, then x1=2)" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["--neuron=nan,1:0:1,1"], "neuron weights: 'nan' is not a number"),
    (["--neuron=1,1:inf:1,1"], "neuron bias: 'inf' is not a number"),
    (["--neuron=1,1:0:1e400,1"], "data point: '1e400' is too large"),
    (["--neuron=1,1:0:1,1", "--box", "nan", "1"], "argument --box: bound: 'nan' is not a number"),
    (["--neuron=1,1:0:1,1", "--box", "2", "1"], "--box low 2.0 is greater than high 1.0"),
])
def test_plot_root_values(tmp_path, capsys, args, message):
    out = tmp_path / "roots.png"
    assert main(["plot-root", *args, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--patch", "0"], "argument --patch: expected a positive integer, got 0"),
    (["--patch", "-2"], "argument --patch: expected a positive integer, got -2"),
    (["--n", "0"], "argument --n: expected a positive integer, got 0"),
    (["--n", "-1"], "argument --n: expected a positive integer, got -1"),
    (["--steps", "x"], "argument --steps: expected a positive integer, got 'x'"),
])
def test_evaluate_arguments(capsys, args, message):
    assert main(["evaluate", "--models", "mlp", *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("options, error, message", [
    ({"n": 0}, ValueError, "n must be a positive integer, got 0"),
    ({"n": -1}, ValueError, "n must be a positive integer, got -1"),
    ({"n": 451}, ValueError, "n must be at most 450"),
    ({"n": 2.5}, TypeError, "n must be a positive integer"),
    ({"patch": 0}, ValueError, "patch must be a positive integer, got 0"),
    ({"patch": -2}, ValueError, "patch must be a positive integer, got -2"),
    ({"patch": (2, 0)}, ValueError, "patch must be a positive integer, got 0"),
    ({"steps": 0}, ValueError, "steps must be a positive integer, got 0"),
    ({"models": ["resnet"]}, ValueError, "unknown model 'resnet'"),
])
def test_evaluate_models_checks_arguments_before_working(options, error, message):
    from symdtd.real.comparison import evaluate_models
    start = time.perf_counter()
    with pytest.raises(error, match=message):
        evaluate_models(**{"models": ["mlp"], **options})
    assert time.perf_counter() - start < 5


def test_pixel_flipping_patch_is_checked():
    from symdtd.real.evaluate import pixel_flipping
    net = Network.from_dense([[[1.0]] * 4, [[1.0]]])
    X = np.ones((1, 4))
    with pytest.raises(ValueError, match="patch must be a positive integer, got 0"):
        pixel_flipping(net, X, X, 0, patch=0)
    assert pixel_flipping(net, X, X, 0, patch=2).curves.shape == (1, 2)


def test_find_root_reads_numbers_only():
    from symdtd.see.rootplot import find_root
    r = find_root("z+", ("1", "-1"), "-1/2", ("3/2", "1/2"))
    assert r.x_tilde == (1, R(1, 2))
    for kwargs, message in [({"w": (1, float("nan"))}, r"w\[1\] is not finite"),
                            ({"b": [1]}, "b must be a real number, got list"),
                            ({"x": (1, 2, 3)}, "x must be a pair of numbers"),
                            ({"box": (float("nan"), 1)}, r"box low\[0\] is not finite"),
                            ({"box": (1, 0)}, "box: low bound 1 is greater than high bound 0")]:
        args = {"rule": "zB", "w": (1, 1), "b": 0, "x": (1, 1), **kwargs}
        with pytest.raises((ValueError, TypeError), match=message):
            find_root(args.pop("rule"), args.pop("w"), args.pop("b"), args.pop("x"), **args)


def test_from_torch_warns_about_training_mode():
    torch = pytest.importorskip("torch")
    from symdtd.real.interop import TrainingModeWarning, from_torch
    model = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with pytest.warns(TrainingModeWarning, match=r"training mode.*model\.eval\(\)"):
        from_torch(model, (2,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_torch(model.eval(), (2,))


def test_public_numbers_module_is_exported():
    assert symdtd.core.numbers.parse_number("1/2", "w") == R(1, 2)


def test_exact_reports_survive_numbers_beyond_float():
    from symdtd.proof.network import verify_network
    net = network_from_dict(xor_dict(neurons__0__inputs__x1="1e400"))
    report = verify_network(net, {"x1": 1, "x2": 1})
    assert report.status == "proved" and report.float_residual is None
    assert main(["explain", "xor", "--input", "x1=1", "x2=1", "--arithmetic", "float"]) == 0
