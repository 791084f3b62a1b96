"""Network-level checks: relevance conservation ``Σ_p [x_f]_p = x_f`` and its exceptions.

:func:`verify_network` propagates once, then proves conservation
symbolically (``cancel``/``simplify`` of the residual gives 0) or exactly
(the residual is the number 0), reports the float residual, the relevance
total of every topological generation, and lists the neurons where the
deep Taylor assumptions fail: a positive bias, a root point outside the
domain, a zero denominator, relevance absorbed by a bias.

Examples
--------
>>> from symdtd import examples
>>> report = verify_network(examples.figure3(), examples.example_inputs("figure3")[0])
>>> report.status, report.residual, report.float_residual
('proved', 0, 0.0)
>>> print(report.verdict())
proved: Σ_p [x_f]_p − x_f = 0 (exact arithmetic)
"""
from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from ..network.composites import Composite
from ..network.graph import Network
from ..network.layer_graph import LayerNetwork, neuron_network
from ..network.rule_choice import as_composite, rule_for
from ..network.rule_fit import rule_domain_mismatch
from ..propagation.backward import ARITHMETIC, propagate
from .network_report import NetworkReport
from .network_roots import root_checks

__all__ = ["verify_network", "NetworkReport", "root_checks", "explain_command"]


def verify_network(network: Network | LayerNetwork, inputs: Mapping[str, object] | None = None,
                   output: str | None = None, *, arithmetic: str | None = None,
                   at: Mapping[str, object] | None = None, absorb_bias: bool = False,
                   composite: Composite | None = None, maxpool: str | None = None) -> NetworkReport:
    """Prove (or refute) that the network's decomposition conserves relevance.

    Parameters
    ----------
    network : Network or LayerNetwork
        A layer network is verified on its neuron view, as
        :func:`~symdtd.propagation.backward.propagate` expands it.
    inputs : dict, optional
        As for :func:`~symdtd.propagation.backward.propagate`. ``None`` or symbolic
        values: symbolic proof; numbers: exact proof.
    output : str, optional
    arithmetic : {"symbolic", "exact"}, optional
        Default: symbolic when any input is a symbol (or ``inputs`` is None).
    at : dict, optional
        Symbolic only: the point whose activation region is used.
    absorb_bias, composite, maxpool
        Passed to :func:`~symdtd.propagation.backward.propagate`: *composite*
        chooses the rules (:mod:`symdtd.network.composites`), *maxpool* is a
        shortcut for one with that max-pooling rule.

    Returns
    -------
    NetworkReport
    """
    network = neuron_network(network, "verify_network")
    if arithmetic is None:
        symbolic = inputs is None or any(isinstance(v, sp.Basic) and not v.is_number
                                         for v in inputs.values())
        arithmetic = "symbolic" if symbolic else "exact"
    composite = as_composite(composite, maxpool)
    options = {"absorb_bias": absorb_bias, "composite": composite}
    e = propagate(network, inputs, output, arithmetic, at=at, **options)
    ar = ARITHMETIC[arithmetic]
    residual = _simplify(e.total - e.output) if arithmetic == "symbolic" else e.total - e.output
    missing = ar.total(list(e.absorbed.values()) + list(e.lost.values()))
    accounted = _is_zero(residual + missing, arithmetic)

    point = at if at is not None else (inputs if arithmetic != "symbolic" else None)
    at_point = _numeric(residual, e, point)
    if _is_zero(residual, arithmetic):
        status = "proved"
    elif at_point is not None and at_point != 0:
        status = "refuted"
    else:
        status = "unknown"
    float_residual = None
    if point is not None:
        try:
            f = propagate(network, point, e.output_node, "float", **options)
            float_residual = f.total - f.output
        except ValueError:  # numbers beyond float64 (the exact result above stands)
            float_residual = None

    totals = []
    for k, layer in enumerate(network.layers()):
        nodes = [n for n in layer if n in e.relevance]
        if nodes:
            total = ar.total([e.relevance[n] for n in nodes])
            totals.append((k, nodes, total))  # symbolic: as built (simplifying costs seconds)
    roots = None if point is None else root_checks(network, point, e.output_node, composite)
    return NetworkReport(status, residual, float_residual, accounted, totals, e.positive_bias,
                         e.zero_denominators, roots, e.absorbed, e.lost, e,
                         _rule_mismatches(network, e, composite), _cut_totals(network, e, totals, ar))


def _cut_totals(network, e, totals, ar):
    """``[(k, relevance crossing the cut above generation k)]`` (see :class:`NetworkReport`)."""
    generation = {n: k for k, layer in enumerate(network.layers()) for n in layer}
    top = generation[e.output_node]
    cuts = []
    for k, _, _ in totals:
        if k >= top:
            cuts.append((k, e.relevance[e.output_node]))
            continue
        crossing = [m for (i, j), m in e.messages.items() if generation[i] <= k < generation[j]]
        cuts.append((k, ar.total(crossing)))
    return cuts


def _rule_mismatches(network, explanation, composite=None):
    """``neuron -> why`` for the neurons whose rule does not fit their inputs."""
    return {node: why for node in explanation.rules
            if (why := rule_domain_mismatch(network, node, rule_for(network, node, composite)))}


def _simplify(expr):
    """Cheap first (``cancel`` of a single fraction), ``simplify`` only if needed."""
    expr = sp.sympify(expr, strict=True)
    if expr.is_number:
        return expr
    reduced = sp.cancel(sp.together(expr))
    return reduced if reduced == 0 else sp.simplify(reduced)


def _is_zero(value, arithmetic):
    return value == 0 if arithmetic != "symbolic" else sp.sympify(value, strict=True) == 0


def _numeric(value, e, point):
    """*value* at the numeric point (symbolic arithmetic), or the value itself."""
    value = sp.sympify(value, strict=True)
    if value.is_number:
        return value
    if e.at is None:
        return None
    exact = ARITHMETIC["exact"]
    subs = {e.activations[p]: exact.number(e.at[p], f"input {p!r}") for p in e.inputs
            if isinstance(e.activations[p], sp.Symbol)}
    value = value.xreplace(subs)
    return value if value.is_number else None


def explain_command(path, inputs, output=None, arithmetic="exact", *, composite=None,
                    maxpool=None):
    """The text of ``symdtd explain NET.json --input ...``.

    Loads the network, propagates, and returns the per-input relevance and
    the conservation verdict. With ``arithmetic="symbolic"`` the relevance
    is printed in closed form, valid on the activation region of *inputs*.

    Parameters
    ----------
    path : str, Path or Network
        A network saved with :func:`symdtd.network.netjson.save_network`, or the
        network itself.
    inputs : dict
        ``{input name: number or string like "3/4"}``.
    output : str, optional
    arithmetic : {"exact", "float", "symbolic"}
        ``"float"`` propagates in floats only and reports the float residual
        instead of a proof: the cheap choice for large networks.
    composite : Composite, optional
        Which rule each neuron uses (:mod:`symdtd.network.composites`).
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule.

    Raises
    ------
    ValueError
        Bad file, unknown or missing input, value outside its domain.
    """
    from ..network.netjson import load_network

    network = path if isinstance(path, Network) else load_network(path)
    composite = as_composite(composite, maxpool)
    if arithmetic == "symbolic":
        report = verify_network(network, None, output, arithmetic="symbolic", at=inputs,
                                composite=composite)
    elif arithmetic == "exact":
        report = verify_network(network, inputs, output, arithmetic="exact", composite=composite)
    elif arithmetic == "float":  # float only: no exact proof behind the user's back
        e = propagate(network, inputs, output, "float", composite=composite)
        report = _FloatReport(e, _rule_mismatches(network, e, composite))
    else:
        raise ValueError(f"arithmetic must be 'exact', 'float' or 'symbolic', got {arithmetic!r}")
    e = report.explanation
    source = "" if isinstance(path, Network) else f" from {path}"
    head = [f"{network!r}{source}", f"output {e.output_node} = {_fmt(e.output)}"]
    relevance = e.input_relevance
    if arithmetic == "symbolic":  # closed forms on the region; also their value there
        relevance = {p: sp.factor(sp.cancel(r)) for p, r in relevance.items()}
        head[-1] += f" = {_numeric(e.output, e, None)} at the point"
    values = {p: (inputs[p] if arithmetic == "symbolic" else e.activations[p]) for p in e.inputs}
    rows = [("input", "value", "relevance")]
    rows += [(p, _fmt(values[p]), _fmt(r)) for p, r in relevance.items()]
    total = e.total if arithmetic != "symbolic" else sp.factor(_simplify(e.total))
    rows.append(("total", "", _fmt(total)))
    widths = [max(len(r[k]) for r in rows) for k in range(3)]
    table = "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
    notes = [f"note: {e.note}"] if e.note else []
    notes += [f"note: {node}: {why}" for node, why in report.rule_mismatches.items()]
    for label, items in (("positive bias", report.positive_bias),
                         ("root outside the domain", report.roots_outside or {}),
                         ("zero denominator", report.zero_denominators)):
        if items:
            notes.append(f"note: {label}: {', '.join(items)}")
    if report.float_residual is not None:
        notes.append(f"float residual: {report.float_residual:.3g}")
    return "\n".join([*head, table, f"conservation: {report.verdict()}", *notes])


class _FloatReport:
    """What ``explain --arithmetic float`` reports: the float residual, no proof."""

    def __init__(self, e, rule_mismatches):
        self.explanation, self.positive_bias = e, e.positive_bias
        self.zero_denominators, self.roots_outside = e.zero_denominators, None
        self.float_residual = e.total - e.output
        self.rule_mismatches = rule_mismatches   # structural: the same in every arithmetic

    def verdict(self):
        return "not proved (float arithmetic); use --arithmetic exact for a proof"


def _fmt(value):
    return f"{value:.12g}" if isinstance(value, float) else str(value)
