"""Fuzzing the value-taking entry points: a bad value is a ValueError or TypeError, nothing else.

Hypothesis throws malformed, huge, deeply nested and non-UTF-8 network files,
hostile strings, NaN/inf/complex/object values and direct graph edits
(cycles, duplicates, dangling edges) at the Python API and the number
parsing. Every call must either return a sound result — finite numbers,
a forward pass that matches a freshly built network — or raise
``ValueError``/``TypeError``. Never another exception, never NaN, never a
hang, never code run (the hostile strings try to set a flag in
``builtins``).

The default run is quick and deterministic (a fixed seed, well under a
minute for the whole file). The long profile runs many more examples with
fresh random seeds (a few minutes); it is marked ``slow``, so ``make test``
skips it and ``make test-slow`` (CI) runs it::

    python -m pytest -m slow tests/test_fuzz_inputs.py
"""
import builtins
import copy
import json
import math
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symdtd
from symdtd import examples
from symdtd.cli.commands import parse_inputs
from symdtd.core.numbers import parse_number, real_number
from symdtd.network.netjson import load_network, network_from_dict, network_to_dict
from symdtd.see.rootplot import find_root

_COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None)
settings.register_profile("symdtd-fuzz-fast", derandomize=True, **_COMMON)
settings.register_profile("symdtd-fuzz-slow", derandomize=False, **_COMMON)
EXPECTED = (ValueError, TypeError)
FLAG = "_symdtd_fuzz_ran_code"
PAYLOADS = [
    f"__import__('builtins').__setattr__('{FLAG}', 1)",
    f"exec(\"import builtins; builtins.{FLAG} = 1\")",
    f"Lambda(x, __import__('builtins').__setattr__('{FLAG}', 1))",
    f"1 if __import__('builtins').__setattr__('{FLAG}', 1) else 2",
]


def fuzz(examples):
    """The default run's settings: a fixed seed and *examples* examples."""
    return settings(settings.get_profile("symdtd-fuzz-fast"), max_examples=examples)


def slow_fuzz(test, examples):
    """The long profile of *test*: fresh random seeds, *examples* examples; marked slow."""
    return pytest.mark.slow(
        settings(settings.get_profile("symdtd-fuzz-slow"), max_examples=examples)(test))


@pytest.fixture(autouse=True)
def no_code_ran():
    yield
    assert not hasattr(builtins, FLAG), "a hostile string was run as code"


# ------------------------------------------------------------------ strategies
number_like_text = st.one_of(
    st.from_regex(r"\A[+-]?[0-9]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,12})?"
                  r"(/[+-]?[0-9]{0,20}(\.[0-9]{0,5})?([eE][+-]?[0-9]{1,6})?)?\Z"),
    st.sampled_from(["nan", "inf", "-inf", "1e100000000", "1e-99999999", "9" * 5000, "1_0",
                     "٣", "１", "½", "²", "0x1F", "1j", "(1)", "1/0", "0/0", " ", "", "1e",
                     "1.2.3", "--1", "1 2", "1,5"]),
)
hostile_text = st.one_of(number_like_text, st.sampled_from(PAYLOADS),
                         st.text(max_size=60), st.text(alphabet="0123456789.eE+-/ ", max_size=40))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**900, max_value=10**1100),
    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(), hostile_text,
    st.binary(max_size=8), st.fractions(), st.decimals(allow_nan=True, allow_infinity=True),
    st.datetimes(), st.sampled_from([sp.I, sp.nan, sp.oo, -sp.oo, sp.zoo, sp.Symbol("w"),
                                     sp.sqrt(2), sp.Rational(10**1200, 3), sp.true,
                                     np.float64("nan"), np.complex128(1j), np.int64(7),
                                     np.datetime64("2020-01-01"), np.array([1.0, 2.0]),
                                     np.array("1/2"), np.array(object()), object()]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=3),
                                                                           scalars, max_size=2))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              hostile_text),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6),
                                                                      children, max_size=3),
    max_leaves=8)


def check_number(value):
    """A value the package returned is a finite real number (SymPy, int or float)."""
    if isinstance(value, sp.Basic):
        assert value.is_finite and value.is_extended_real is not False, value
    elif not isinstance(value, int):
        assert math.isfinite(value), value


def paths(data, prefix=()):
    """Every (path, value) in a JSON-like structure."""
    yield prefix, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(data, list):
        for k, v in enumerate(data):
            yield from paths(v, prefix + (k,))


def set_at(data, path, value):
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


# -------------------------------------------------------------- number strings
def _parse_number_case(text):
    start = time.perf_counter()
    try:
        value = parse_number(text, "field")
    except ValueError as err:
        assert str(err).startswith("field"), err
    else:
        assert isinstance(value, sp.Rational)
        # the same value as Python's own decimal/fraction reading, where that applies
        if "/" not in text and text.strip() and "e" not in text.lower():
            from decimal import Decimal
            assert value == sp.Rational(*Decimal(text.strip()).as_integer_ratio())
    assert time.perf_counter() - start < 1


@fuzz(400)
@given(hostile_text)
def test_parse_number(text):
    _parse_number_case(text)


test_parse_number_slow = slow_fuzz(given(hostile_text)(_parse_number_case), 10000)


def _real_number_case(value, symbols):
    try:
        result = real_number(value, "field", symbols=symbols)
    except EXPECTED as err:
        assert str(err).startswith("field"), err
    else:
        if not (symbols and isinstance(result, sp.Basic) and result.free_symbols):
            check_number(result)


@fuzz(400)
@given(values, st.booleans())
def test_real_number(value, symbols):
    _real_number_case(value, symbols)


test_real_number_slow = slow_fuzz(given(values, st.booleans())(_real_number_case), 10000)


@fuzz(200)
@given(st.lists(st.one_of(hostile_text, st.builds(lambda n, v: f"{n}={v}",
                                                   st.sampled_from(["x1", "x2", "x1 "]),
                                                   hostile_text)), max_size=4))
def test_command_line_inputs(items):
    try:
        parsed = parse_inputs(items)
    except ValueError:
        return
    for value in parsed.values():
        check_number(parse_number(value, "value"))


# ------------------------------------------------------------- network files
NETWORKS = {name: network_to_dict(examples.get(name)) for name in examples.names()}


def _mutated_file_case(name, data):
    doc = copy.deepcopy(NETWORKS[name])
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from([p for p, _ in paths(doc)]))
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if not where:
            doc = data.draw(json_values)
            break
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        if action == "replace":
            parent[where[-1]] = data.draw(json_values)
        elif action == "delete":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=6))] = data.draw(json_values)
        else:
            parent.append(data.draw(json_values))
        if not isinstance(doc, (dict, list)) or not doc:
            break
    try:
        net = network_from_dict(doc)
    except ValueError:
        return
    use_network(net, data)


def use_network(net, data):
    """Run a loaded or edited network; results must be sound, errors ValueError/TypeError."""
    try:
        x = [data.draw(st.sampled_from([0.0, 0.5, 1.0]), label="x") for _ in net.inputs]
        out = net.forward(x)
    except EXPECTED:
        return
    assert np.isfinite(out).all()
    fresh = network_from_dict(network_to_dict(net)) if _saveable(net) else net.copy()
    assert np.allclose(fresh.forward(x), out, rtol=1e-12, atol=0), "a stale cached value"
    point = dict(zip(net.inputs, x))
    for output in net.outputs[:2]:
        for arithmetic in ("exact", "float"):
            try:
                e = symdtd.propagate(net, point, output=output, arithmetic=arithmetic)
            except EXPECTED:
                continue
            for v in (e.output, *e.relevance.values(), *e.messages.values()):
                check_number(v)
            if arithmetic == "exact":
                assert float(e.output) == pytest.approx(out[net.outputs.index(output)],
                                                        rel=1e-9, abs=1e-9)


def _saveable(net):
    try:
        network_to_dict(net)
        return True
    except EXPECTED:
        return False


@fuzz(300)
@given(st.sampled_from(sorted(NETWORKS)), st.data())
def test_mutated_network_files(name, data):
    _mutated_file_case(name, data)


test_mutated_network_files_slow = slow_fuzz(
    given(st.sampled_from(sorted(NETWORKS)), st.data())(_mutated_file_case), 3000)


@fuzz(80)
@given(st.sampled_from(sorted(NETWORKS)), st.sampled_from(["weight", "bias", "bound"]),
       st.one_of(hostile_text, st.integers(), st.floats()))
def test_hostile_numbers_in_network_files(name, field, value):
    doc = copy.deepcopy(NETWORKS[name])
    if field == "bound":
        doc["inputs"][0]["domain"] = {"type": "box", "low": 0, "high": value}
    elif field == "bias":
        relu = next(n for n in doc["neurons"] if "bias" in n)
        relu["bias"] = value
    else:
        relu = next(n for n in doc["neurons"] if isinstance(n["inputs"], dict))
        relu["inputs"][next(iter(relu["inputs"]))] = value
    start = time.perf_counter()
    try:
        net = network_from_dict(json.loads(json.dumps(doc)))
    except ValueError as err:
        assert "neurons[" in str(err) or "inputs[" in str(err), err
    else:
        for edge in net.graph.edges.values():
            check_number(edge["weight"])
    assert time.perf_counter() - start < 2


@fuzz(60)
@given(st.one_of(
    st.binary(max_size=200),
    st.builds(lambda text: text.encode("utf-8", "surrogatepass"), st.text(max_size=100)),
    st.builds(lambda d: ("[" * d + "]" * d).encode(), st.integers(1, 200_000)),
    st.builds(lambda d: ('{"a":' * d + "1" + "}" * d).encode(), st.integers(1, 50_000)),
    st.builds(lambda n: b'{"format": "symdtd-network", "version": ' + b"9" * n + b"}",
              st.integers(1, 20_000)),
    st.builds(lambda doc, junk: json.dumps(doc).encode() + junk,
              st.sampled_from(list(NETWORKS.values())), st.binary(min_size=1, max_size=4)),
))
def test_raw_network_files(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("raw") / "net.json"
    path.write_bytes(raw)
    try:
        net = load_network(path)
    except ValueError:
        return
    assert isinstance(net, symdtd.Network)


# ---------------------------------------------------- direct edits of the graph
def _edit_case(name, data):
    net = examples.get(name)
    net.forward([0.5] * len(net.inputs))  # caches exist before the edits
    G = net.graph
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        nodes = list(G) + ["ghost"]
        u, v = data.draw(st.sampled_from(nodes)), data.draw(st.sampled_from(nodes))
        action = data.draw(st.sampled_from(["add_edge", "remove_edge", "remove_node", "weight",
                                            "bias", "kind", "rule", "domain", "duplicate"]))
        if action == "add_edge":
            G.add_edge(u, v, weight=data.draw(st.one_of(st.just(1), scalars)))
        elif action == "remove_edge" and G.has_edge(u, v):
            G.remove_edge(u, v)
        elif action == "remove_node" and u in G:
            G.remove_node(u)
        elif action == "weight" and G.in_degree(v):
            G.edges[next(iter(G.pred[v])), v]["weight"] = data.draw(scalars)
        elif action == "bias" and v in G:
            G.nodes[v]["bias"] = data.draw(scalars)
        elif action == "kind" and v in G:
            G.nodes[v]["kind"] = data.draw(st.sampled_from(["relu", "linear", "input",
                                                            "maxpool", "sumpool", "softmax"]))
        elif action == "rule" and v in G:
            G.nodes[v]["rule"] = data.draw(st.sampled_from([None, "z+", "zB", "w2", "nope", 3]))
        elif action == "domain" and u in G:
            G.nodes[u]["domain"] = data.draw(st.sampled_from([symdtd.Box(0, 1), symdtd.Real(),
                                                              "box", None]))
        elif action == "duplicate" and u in G:
            G.add_node(u, **{k: v for k, v in G.nodes[u].items()})  # re-adding: attributes kept
    use_network(net, data)
    node = data.draw(st.sampled_from(list(G)))
    for use in (lambda: net.graph.nodes[node]["expr"], lambda: symdtd.compile(net),
                lambda: net.validate()):
        try:
            use()
        except EXPECTED:
            pass
        except KeyError as err:  # a node added directly has no expr until the network checked it
            assert err.args == ("expr",) and G.nodes[node].builder is None, err


@fuzz(300)
@given(st.sampled_from(sorted(NETWORKS)), st.data())
def test_graph_edits(name, data):
    _edit_case(name, data)


test_graph_edits_slow = slow_fuzz(
    given(st.sampled_from(sorted(NETWORKS)), st.data())(_edit_case), 3000)


# --------------------------------------------------------- values into the API
@fuzz(300)
@given(st.sampled_from(sorted(NETWORKS)), st.sampled_from(["exact", "float", "symbolic"]),
       st.data())
def test_hostile_input_values(name, arithmetic, data):
    net = examples.get(name)
    point = {p: data.draw(st.one_of(st.sampled_from([0, 1, "1/2", 0.25]), values), label=p)
             for p in net.inputs}
    try:
        e = symdtd.propagate(net, point, arithmetic=arithmetic)
    except EXPECTED:
        return
    if arithmetic != "symbolic":
        for v in (e.output, *e.relevance.values(), *e.messages.values()):
            check_number(v)


@fuzz(300)
@given(st.one_of(
    hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.complex128,
                                np.bool_, "datetime64[D]", "U3", object]),
               st.sampled_from([(2,), (1, 2), (3, 2), (2, 3), (0, 2), (2, 2, 2), ()])),
    st.lists(st.lists(scalars, min_size=2, max_size=2), max_size=3),
    scalars))
def test_forward_values(X):
    net = examples.xor()
    try:
        out = net.forward(X)
    except EXPECTED:
        return
    assert np.isfinite(out).all()


@fuzz(100)
@given(st.sampled_from(["z+", "zB", "w2"]), st.tuples(values, values), values,
       st.tuples(values, values), st.one_of(st.just((0, 1)), st.tuples(values, values)))
def test_find_root_values(rule, w, b, x, box):
    try:
        r = find_root(rule, w, b, x, box=box)
    except EXPECTED:
        return
    if r.found:
        for c in r.x_tilde:
            assert sp.sympify(c, strict=True).is_finite is not False
