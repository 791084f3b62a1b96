"""Save and load networks as JSON.

Schema (version 1)::

    {
      "format": "symdtd-network",          required, this exact string
      "version": 1,                         required
      "maxpool": "winner",                  optional: "winner" | "proportional"
      "inputs": [                           required, in order, at least one
        {"name": "x1",
         "domain": {"type": "box", "low": 0, "high": 1}}
                                            domain optional (default positive):
                                            {"type": "real"} | {"type": "positive"}
                                            | {"type": "box", "low": l, "high": h}
      ],
      "neurons": [                          required, any order (a DAG)
        {"name": "h1",
         "kind": "relu",                    "relu" | "linear" | "sumpool" | "maxpool"
         "inputs": {"x1": "3/4", "x2": -1}, relu/linear: {source: weight}
                                            pools: ["x1", "x2"]
         "bias": "-1/2",                    optional, default 0 (relu/linear)
         "rule": "z+"}                      optional: a registered rule name
      ],                                    (pools: also "winner"/"proportional")
                                            or "module:name" of a Rule
      "outputs": ["y"]                      optional: output order
    }

A weight or bias is a JSON number or a string holding an exact fraction
(``"3/4"``, ``"-2"``); exact values are written as strings so they load back
exactly. Strings are read by :func:`symdtd.core.numbers.parse_number`, never by
SymPy's parser, within its limits on digits and exponents (so a short
``"1e100000000"`` is refused at once). Loading validates everything before
building and raises a ``ValueError`` naming the field
(``neurons[2].inputs.x1``): unknown fields, ``NaN``/``Infinity``, integers
past :data:`symdtd.core.numbers.MAX_DIGITS` digits, a box without numeric
bounds, text that is not UTF-8 or JSON nested too deeply.

A neuron's rule that is not one of symdtd's own is saved as
``"module:name"`` when the Rule is defined at module level
(:func:`symdtd.core.rules.rule_reference`), or by its registered name.
Loading a ``"module:name"`` rule imports that module, which runs its code:
load such files only from sources you trust.

Examples
--------
>>> import tempfile, os
>>> from symdtd import examples
>>> path = os.path.join(tempfile.mkdtemp(), "xor.json")
>>> save_network(examples.xor(), path)
>>> net = load_network(path)
>>> net.graph.edges["h2", "y"]["weight"], net.outputs
(-2, ['y'])
>>> network_from_dict({"format": "symdtd-network", "version": 1, "inputs": [],
...                    "neurons": []})
Traceback (most recent call last):
...
ValueError: inputs: expected a non-empty list of inputs
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import networkx as nx
import sympy as sp

from ..core import numbers
from ..core.domains import Box, Domain
from ..core.files import atomic_write_text
from ..core.rules import Rule, rule_reference
from .graph import Network, as_weight
from .kind_registry import kind_named, registered
from .pooling import PoolingRule

__all__ = ["save_network", "load_network", "network_to_dict", "network_from_dict", "loads"]

FORMAT = "symdtd-network"
VERSION = 1


def network_to_dict(network):
    """The JSON-ready description of *network* (see the module schema).

    Raises
    ------
    ValueError
        For a symbolic weight, an unregistered :class:`Rule` object or a
        network without neurons (a file of it could not be loaded back).
    """
    network._sync()  # direct edits of the graph are checked first
    G = network.graph
    data = {"format": FORMAT, "version": VERSION, "maxpool": network.maxpool,
            "inputs": [], "neurons": []}
    for name, attrs in G.nodes(data=True):
        kind = attrs["kind"]
        if kind_named(kind).is_input:
            domain = attrs["domain"]
            if isinstance(domain, Box) and domain.symbolic:
                raise ValueError(f"input {name!r} has a symbolic Box(); only numeric bounds "
                                 "can be saved")
            data["inputs"].append({"name": name, "domain": domain.to_dict()})
            continue
        entry = {"name": name, "kind": kind}
        if not kind_named(kind).weighted:
            entry["inputs"] = list(G.pred[name])
        else:
            entry["inputs"] = {s: _to_json(e["weight"], f"weight of edge {s!r} -> {name!r}")
                               for s, e in G.pred[name].items()}
            entry["bias"] = _to_json(attrs["bias"], f"bias of neuron {name!r}")
        rule = attrs["rule"]
        if isinstance(rule, PoolingRule):
            rule = rule.name
        if isinstance(rule, Rule):
            reference = rule_reference(rule)
            if reference is None:
                raise ValueError(f"neuron {name!r}: its Rule {rule.name!r} has no name a file "
                                 "can hold: define it at module level in an importable module "
                                 "(saved as 'module:name') or register_rule it")
            rule = reference
        if rule is not None:
            entry["rule"] = rule
        data["neurons"].append(entry)
    if not data["neurons"]:  # a file must load back: load_network needs a neuron
        raise ValueError("the network has only inputs and no neuron: a network file needs at "
                         "least one neuron")
    data["outputs"] = network.outputs
    return data


def save_network(network: Network, path: str | os.PathLike) -> None:
    """Write *network* to *path* as JSON (see the module schema).

    The write is atomic (:func:`symdtd.core.files.atomic_write_text`): if it
    fails, an existing file at *path* is left as it was.

    Parameters
    ----------
    network : Network
        The network to save. Exact weights and biases (integers, fractions)
        are written as strings such as ``"3/4"`` so they load back exactly.
    path : str or os.PathLike
        The file to write; its folder must exist.

    Raises
    ------
    ValueError
        A network the format cannot hold: a symbolic or non-finite weight or
        bias, an input box with symbolic bounds, or a rule that is not
        registered by name.

    Examples
    --------
    >>> import tempfile, os
    >>> from symdtd import examples
    >>> path = os.path.join(tempfile.mkdtemp(), "xor.json")
    >>> save_network(examples.xor(), path)
    >>> load_network(path).outputs
    ['y']
    """
    text = json.dumps(network_to_dict(network), indent=1)
    atomic_write_text(path, text + "\n", mkdir=False)


def load_network(path: str | os.PathLike) -> Network:
    """Read a network written by :func:`save_network`.

    Everything is validated before the network is built (see the module
    schema), so a bad file gives one clear error rather than a half-built
    network.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON file to read.

    Returns
    -------
    Network
        The network, with the inputs, neurons, weights, biases, rules and
        output order the file holds.

    Raises
    ------
    ValueError
        The file cannot be read, is not UTF-8 JSON, or does not follow the
        schema; the message names the file and the faulty field.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "bad.json")
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"format": "symdtd-network", "version": 1, "inputs": []}')
    >>> load_network(path)
    Traceback (most recent call last):
    ...
    ValueError: inputs: expected a non-empty list of inputs
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ValueError(f"cannot read network file {str(path)!r}: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        what = " (a PNG image)" if raw.startswith(b"\x89PNG") else ""
        raise ValueError(f"{path}: not a network JSON file{what}: it is not UTF-8 text "
                         f"(byte {err.start}); a network file is JSON written by save_network"
                         ) from None
    return network_from_dict(loads(text, str(path)))


def _json_constant(name):
    raise ValueError(f"{name} is not a number JSON allows; write a finite number")


def _json_int(text):
    if len(text.lstrip("-")) > numbers.MAX_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits; at most "
                         f"{numbers.MAX_DIGITS} are allowed (raise symdtd.core.numbers.MAX_DIGITS)")
    return int(text)


def loads(text, source="<string>"):
    """Parse JSON text of a network file strictly: ValueError naming *source*.

    Refuses ``NaN``/``Infinity``, integers past
    :data:`symdtd.core.numbers.MAX_DIGITS` digits and nesting deeper than
    Python's recursion allows, besides malformed JSON.
    """
    try:
        return json.loads(text, parse_constant=_json_constant, parse_int=_json_int)
    except json.JSONDecodeError as err:
        raise ValueError(f"{source}: not valid JSON ({err.msg} at line {err.lineno})") from None
    except RecursionError:
        raise ValueError(f"{source}: JSON nested too deeply to be a network") from None
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


def network_from_dict(data):
    """Build a network from :func:`network_to_dict` output, validating every field."""
    if not isinstance(data, dict):
        raise ValueError("the network must be a JSON object")
    if data.get("format") != FORMAT:
        raise ValueError(f"format: expected {FORMAT!r}, got {data.get('format')!r}")
    if type(data.get("version")) is not int or data.get("version") != VERSION:
        raise ValueError(f"version: expected {VERSION}, got {data.get('version')!r}")
    unknown = set(data) - {"format", "version", "maxpool", "inputs", "neurons", "outputs"}
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    maxpool = data.get("maxpool", "winner")
    if maxpool not in ("winner", "proportional"):
        raise ValueError(f"maxpool: expected 'winner' or 'proportional', got {maxpool!r}")
    inputs = _list(data, "inputs")
    if not inputs:
        raise ValueError("inputs: expected a non-empty list of inputs")
    neurons = _list(data, "neurons")
    if not neurons:
        raise ValueError("neurons: expected a non-empty list of neurons")

    specs, seen = {}, set()
    parsed_inputs = []
    for k, entry in enumerate(inputs):
        where = f"inputs[{k}]"
        name = _name(entry, where, seen)
        unknown = set(entry) - {"name", "domain"}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        domain = entry.get("domain", {"type": "positive"})
        try:
            domain = Domain.from_dict(domain, numeric=True)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{where}.domain: {err}") from None
        parsed_inputs.append((name, domain))
    for k, entry in enumerate(neurons):
        name = _name(entry, f"neurons[{k}]", seen)  # checks that entry is an object first
        specs[name] = _neuron_spec(entry, f"neurons[{k}]")
    for spec in specs.values():
        for source in spec["sources"]:
            if source not in seen:
                raise ValueError(f"{spec['where']}.inputs: {source!r} is not an input or neuron")

    # build in a topological order (file order among ready neurons); refuse cycles
    graph = nx.DiGraph()
    graph.add_nodes_from(specs)
    graph.add_edges_from((s, n) for n, spec in specs.items() for s in spec["sources"] if s in specs)
    try:
        position = {n: k for k, n in enumerate(specs)}
        order = list(nx.lexicographical_topological_sort(graph, key=position.get))
    except nx.NetworkXUnfeasible:
        cycle = [u for u, _ in nx.find_cycle(graph)]
        raise ValueError("neurons: the network has a cycle: "
                         + " -> ".join(cycle + [cycle[0]])) from None
    net = Network(maxpool=maxpool)
    for name, domain in parsed_inputs:
        net.add_input(name, domain)
    for name in order:
        spec = specs[name]
        try:
            if spec["kind"] == "sumpool":
                net.add_sum_pool(name, spec["sources"], rule=spec["rule"])
            elif spec["kind"] == "maxpool":
                net.add_max_pool(name, spec["sources"], rule=spec["rule"])
            else:
                net.add_neuron(name, spec["weights"], bias=spec["bias"], kind=spec["kind"],
                               rule=spec["rule"])
        except (ValueError, TypeError) as err:
            raise ValueError(f"{spec['where']}: {err}") from None
    if "outputs" in data:
        outputs = data["outputs"]
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
            raise ValueError("outputs: expected a list of neuron names")
        try:
            net.outputs = outputs
        except ValueError as err:
            raise ValueError(f"outputs: {err}") from None
    return net


def _list(data, key):
    value = data.get(key)
    if not isinstance(value, list):
        raise ValueError(f"{key}: expected a list, got {type(value).__name__}")
    return value


def _name(entry, where, seen):
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected an object, got {type(entry).__name__}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}.name: expected a non-empty string, got {name!r}")
    if name in seen:
        raise ValueError(f"{where}.name: {name!r} is used twice")
    seen.add(name)
    return name


def _neuron_spec(entry, where):
    allowed = {"name", "kind", "inputs", "bias", "rule"}
    unknown = set(entry) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    kind = entry.get("kind", "relu")
    neuron_kinds = [k for k in registered() if not kind_named(k).is_input]
    if kind not in neuron_kinds:
        raise ValueError(f"{where}.kind: expected one of {', '.join(neuron_kinds)}, got {kind!r}")
    rule = entry.get("rule")
    if rule is not None and not isinstance(rule, str):
        raise ValueError(f"{where}.rule: expected a rule name, got {rule!r}")
    sources = entry.get("inputs")
    spec = {"where": where, "kind": kind, "rule": rule, "weights": None, "bias": 0}
    if not kind_named(kind).weighted:
        if not isinstance(sources, list) or not sources:
            raise ValueError(f"{where}.inputs: a pooling neuron needs a non-empty list of names")
        if not all(isinstance(s, str) for s in sources):
            raise ValueError(f"{where}.inputs: expected names (strings)")
        if "bias" in entry:
            raise ValueError(f"{where}.bias: pooling neurons have no bias")
        spec["sources"] = sources
        return spec
    if not isinstance(sources, dict) or not sources:
        raise ValueError(f"{where}.inputs: expected a non-empty object {{source: weight}}")
    spec["weights"] = {s: _from_json(w, f"{where}.inputs.{s}") for s, w in sources.items()}
    spec["bias"] = _from_json(entry.get("bias", 0), f"{where}.bias")
    spec["sources"] = list(sources)
    return spec


def _from_json(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where}: expected a number or a fraction string, got {value!r}")
    try:
        return as_weight(value, where)  # strings: numbers.parse_number
    except (ValueError, TypeError) as err:
        raise ValueError(str(err)) from None


def _to_json(value, what):
    if isinstance(value, sp.Basic):
        if not value.is_number:
            raise ValueError(f"{what} is symbolic ({value}); only numbers can be saved")
        if value.is_Integer:
            return int(value)
        if value.is_Rational:
            return str(value)
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{what} is not finite ({value})")
    return value
