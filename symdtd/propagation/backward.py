"""Relevance propagation on a network: one backward pass, three arithmetics.

The output ``x_f`` is redistributed from the output back to the inputs. A
neuron ``j`` with relevance ``R_j`` sends its input ``i`` the message

``[[x_f]_j]_i = q_ij / Σ_i' q_i'j · R_j``

where ``q = v·w`` is the numerator that :func:`symdtd.derive` derives for the
neuron's rule (:meth:`Network.rule_for`, chosen by the composite in use:
:mod:`symdtd.network.composites`); ``R_i = Σ_j [[x_f]_j]_i``. A pooling
rule (:mod:`symdtd.network.pooling`) redistributes with its own shares. The
traversal is the same for every arithmetic; only the numbers change:

``"symbolic"``
    SymPy expressions: input symbols (``inputs=None``) or any values; numbers
    become exact. Activations are piecewise (``Max``) unless ``at=`` names a
    point, in which case every expression is the closed form valid on that
    point's activation region.
``"exact"``
    SymPy ``Rational`` numbers (floats are converted exactly).
``"float"``
    Python floats.

A neuron whose denominator ``Σ q`` is zero passes on nothing: its messages
are 0 (never NaN), it is listed in ``zero_denominators`` and relevance it
held is listed in ``lost``. "Zero" is decided by
:func:`symdtd.propagation.arithmetic.zero_denominator`, the rule :func:`~symdtd.compiler.compiled.compile`
uses too; since the ``q`` are added in one piece (``math.fsum`` in
``"float"``), it means ``Σ q = 0`` exactly in every arithmetic.

Examples
--------
>>> from symdtd import Network, propagate
>>> net = Network.from_dense([[[1, 1], [1, 1]], [[1], [-2]]], [[0, -1], [0]])
>>> e = propagate(net, {"x1": 1, "x2": "1/2"}, arithmetic="exact")
>>> e.output, e.input_relevance
(1/2, {'x1': 1/3, 'x2': 1/6})
>>> e.messages[("h1_1", "y1")], e.factors["x2"]
(1/2, 1/3)
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from numbers import Number

import sympy as sp

from ..core import progress
from ..core.limits import check_digits, check_edges
from ..core.numbers import to_sympy
from ..network.composites import Composite
from ..network.graph import Network
from ..network.kind_registry import kind_named, positive_bias
from ..network.layer_graph import LayerNetwork, neuron_network
from ..network.neurons import is_unbounded
from ..network.pooling import PoolingRule, WinnerTakeAll
from ..network.rule_choice import as_composite, rule_for
from .arithmetic import ARITHMETIC, ARITHMETICS, NegativeOutputWarning, ancestors_in_order, forward_values
from .explanation import Explanation
from .floats import warn_inexact_floats
from .product_form import ProductForm

# Explanation is defined in explanation.py; it stays importable from here
__all__ = ["propagate", "Explanation", "forward_values", "ARITHMETICS", "rule_parameter"]


# ------------------------------------------------------------- rule numerators
def _evaluator(q, syms, convert):
    """A Python function of the role values computing ``q``, built by walking q once.

    Rebuilding SymPy trees edge by edge (``xreplace``) costs ~0.2 ms; this
    costs a few arithmetic operations. Not code generation: it only nests the
    operations of q's tree (Add, Mul, integer Pow, Max, Min).
    """
    role = {s: r for r, s in syms.items()}

    def build(e):
        if e in role:
            name = role[e]
            return lambda env: env[name]
        if e.is_Number:
            c = convert(e)
            return lambda env: c
        parts = [build(a) for a in e.args]
        if (e.is_Add or e.is_Mul) and len(parts) == 2:  # the common case, kept cheap
            a, b = parts
            return (lambda env: a(env) + b(env)) if e.is_Add else (lambda env: a(env) * b(env))
        if e.is_Add:
            return lambda env: sum(p(env) for p in parts)
        if e.is_Mul:
            return lambda env: math.prod(p(env) for p in parts)
        if e.is_Pow and e.exp.is_Integer:
            k = int(e.exp)
            return lambda env: _power(parts[0](env), k)
        if isinstance(e, (sp.Max, sp.Min)):
            pick = max if isinstance(e, sp.Max) else min
            return lambda env: pick(p(env) for p in parts)
        raise NotImplementedError(type(e).__name__)

    try:
        return build(q)
    except NotImplementedError:  # an unusual user rule: let SymPy evaluate it
        return lambda env: convert(q.xreplace({syms[r]: to_sympy(v) for r, v in env.items()}))


def _power(base, k):
    """``base ** k``; a float overflow gives ±inf (reported by the arithmetic's check), not OverflowError."""
    try:
        return base ** k
    except OverflowError:
        return math.copysign(math.inf, base) if k % 2 else math.inf


_NUMERATORS: dict = {}


def _numerator(rule, ar):
    """``(function of role values, roles used)`` for *rule*, cached per rule and arithmetic."""
    rule = rule.template  # parameter values do not change the derivation
    key = (id(rule), ar.name)
    if key not in _NUMERATORS:
        from ..derivation.taylor import derive

        q, syms = derive(rule).local_numerator()
        if ar.name == "symbolic":
            def fn(env, q=q, syms=syms):
                return q.xreplace({syms[r]: v for r, v in env.items()})
        else:
            fn = _evaluator(q, syms, lambda c: ar.number(c, "rule constant"))
        _NUMERATORS[key] = (rule, fn, tuple(syms))  # keep the rule alive: id stays unique
    return _NUMERATORS[key][1:]



# -------------------------------------------------------------------- backward
def propagate(network: Network | LayerNetwork, inputs: Mapping[str, object] | None = None, output: str | None = None,
              arithmetic: str = "symbolic", *, at: Mapping[str, object] | None = None,
              absorb_bias: bool = False, composite: Composite | None = None,
              maxpool: str | None = None) -> Explanation:
    """Deep Taylor decomposition of one output onto the inputs.

    Parameters
    ----------
    network : Network or LayerNetwork
        A layer network is expanded into its neuron view
        (:func:`~symdtd.network.layer_graph.neuron_network`), or refused when that
        is larger than 10⁶ edges: propagate a window, ``net.neurons(window=...)``.
    inputs : dict, optional
        ``{input name: value}``: numbers, fraction strings (``"3/4"``) or, in
        symbolic arithmetic, SymPy symbols. ``None`` (symbolic only) uses
        the input symbols. Values must lie in the inputs' domains.
    output : str, optional
        The output neuron to explain; needed when there are several.
    arithmetic : {"symbolic", "exact", "float"}
    at : dict, optional
        Symbolic only: a numeric point; expressions are then those of its
        activation region and zero denominators are decided there.
    absorb_bias : bool
        Put ``b⁺ = max(0, b)`` in each denominator, ``Σ q + b⁺``: the share
        ``b⁺ / (Σ q + b⁺) · R_j`` is absorbed by the bias (see ``absorbed``).
    composite : Composite, optional
        Which rule each neuron uses (:mod:`symdtd.network.composites`);
        default :class:`~symdtd.network.composites.PaperDefault`. A neuron's own
        ``rule`` attribute overrides it. Rule parameters (γ) are read from
        the rule instances it picks.
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule on top of *composite*.

    Returns
    -------
    Explanation

    Raises
    ------
    ValueError
        The composite picks a rule a neuron cannot take (named in the message).

    symdtd.core.limits.LimitExceeded
        More edges to walk than ``LIMITS.<arithmetic>_edges``, or an exact
        relevance over ``LIMITS.exact_digits`` digits (see :mod:`symdtd.core.limits`).

    Warns
    -----
    NegativeOutputWarning
        The output is negative (e.g. a logit that did not win): the root
        search assumes ``x_f > 0``, and the map redistributes a negative value.
    InexactFloatWarning
        Exact or symbolic arithmetic reads a float that is not the decimal it
        prints as (``0.1``): it uses the binary value; pass ``"0.1"`` for 1/10
        (:mod:`symdtd.propagation.floats`).

    Examples
    --------
    >>> from symdtd import examples
    >>> e = propagate(examples.xor(), at={"x1": 1, "x2": 0})
    >>> e.input_relevance
    {'x1': x1, 'x2': x2}
    """
    if arithmetic not in ARITHMETIC:
        raise ValueError(f"arithmetic must be one of {ARITHMETICS}, got {arithmetic!r}")
    ar = ARITHMETIC[arithmetic]
    composite = as_composite(composite, maxpool)
    network = neuron_network(network, "propagate")
    G = network.graph
    network._sync()  # notices direct edits of the graph (and checks them)
    f = network._output_name(output)
    order = ancestors_in_order(network, f)
    check_edges(sum(d for _, d in network.graph.in_degree(order)), arithmetic, f)
    if arithmetic != "float":   # 0.1 is read as its binary value: say so once
        warn_inexact_floats(network, at if at is not None else inputs, order)
    region = None
    if at is not None:
        if arithmetic != "symbolic":
            raise ValueError("at= is for arithmetic='symbolic'; pass the point as inputs")
        region = forward_values(network, at, "exact", output=f)
    act = forward_values(network, inputs, arithmetic, output=f, region=region)
    point = None
    if region is not None:  # input value -> number: decides zero denominators at the point
        point = {act[p]: region[p] for p in order if kind_named(G.nodes[p]["kind"]).is_input
                 and isinstance(act[p], sp.Symbol)}
    incoming = {n: [] for n in order}
    box = {}  # node -> (l, h) for box rules
    incoming[f].append(act[f])
    exp = Explanation(act[f], f, arithmetic, {}, {}, act, {},
                      inputs=[p for p in network.inputs if p in act], at=at)
    product = ProductForm(network, ar, f)   # the factors c of [x_f]_j = x_j c_j
    exp._factors = product.factors
    for j in progress.iterate(order[::-1], f"propagate ({arithmetic})"):
        R_j = exp.relevance[j] = ar.check(ar.total(incoming[j]), f"relevance of {j!r}")
        check_digits(R_j, j)  # exact numbers of float weights can grow without end
        product.settle(j, R_j, act[j])
        data = G.nodes[j]
        kind = kind_named(data["kind"])
        if kind.is_input:
            continue
        preds = list(G.pred[j].items())
        rule = rule_for(network, j, composite)
        exp.rules[j] = rule.name
        if isinstance(rule, WinnerTakeAll):
            shares = _winner_messages(rule, exp, j, preds, R_j, act, region, ar, incoming)
            product.winner_edges(j, [i for i, _ in preds], shares, [act[i] for i, _ in preds])
            continue
        if isinstance(rule, PoolingRule):  # proportional: the z rule with unit weights
            rule = rule.taylor_rule
        fn, roles = _numerator(rule, ar)
        gamma = rule_parameter(rule, "gamma", ar) if "gamma" in roles else None
        qs, envs = [], []
        for i, edge in preds:
            env = {"x": act[i], "w": ar.number(edge["weight"], f"weight of edge {i!r} -> {j!r}"),
                   "gamma": gamma}
            if "l" in roles or "h" in roles:
                if i not in box:
                    box[i] = box_bounds(network, i, act[i], ar)
                env["l"], env["h"] = box[i]
            if "unbounded" in roles:
                env["unbounded"] = ar.number(int(is_unbounded(network, i)), "flag")
            qs.append(fn({r: env[r] for r in roles}))
            envs.append(env)
        D = ar.check(ar.total(qs), f"neuron {j!r}: the denominator Σ q")
        bias = ar.number(data["bias"], f"bias of neuron {j!r}")
        if positive_bias(data["kind"], bias):
            exp.positive_bias.append(j)
        b_plus = ar.positive_part(bias) if absorb_bias and kind.weighted else 0
        D = D + b_plus
        D_at = D.xreplace(point) if point else D
        if ar.zero_denominator(D_at, qs + [b_plus]):
            exp.zero_denominators.append(j)
            if not ar.is_zero(R_j.xreplace(point) if point else R_j):
                exp.lost[j] = R_j
            for i, _ in preds:
                exp.messages[(i, j)] = ar.zero
            continue
        scale = R_j / D
        product.rule_edges(rule, [i for i, _ in preds], envs, scale, [act[i] for i, _ in preds])
        for (i, _), q in zip(preds, qs):
            exp.messages[(i, j)] = m = ar.check(q * scale, f"the message {i!r} -> {j!r}")
            incoming[i].append(m)
        if not ar.is_zero(b_plus) and not ar.is_zero(R_j):
            exp.absorbed[j] = ar.check(b_plus * scale, f"relevance absorbed by {j!r}")
    sign = ar.sign(act[f].xreplace(point) if point else act[f])
    if sign == -1:
        exp.note = (f"the output {f!r} is negative ({act[f]}): a linear output; "
                    "the relevance redistributes a negative value")
        value = act[f].xreplace(point) if point else act[f]
        long_number = len(str(value)) > 24 and sp.sympify(value, strict=True).is_number
        value = f"≈ {float(value):.6g}" if long_number else str(value)  # long fractions: unreadable
        warnings.warn(f"the output {f!r} is negative ({value}); the root search assumes "
                      "x_f > 0, so the relevance redistributes a negative value",
                      NegativeOutputWarning, stacklevel=2)
    exp.positive_bias.reverse()  # topological order
    exp.zero_denominators.reverse()
    return exp


def box_bounds(network, node, x, ar):
    """``(l, h)`` of a predecessor for box rules; an infinite bound becomes ``x``.

    A ≥ 0 predecessor acts as the box ``[0, x]`` and a real-valued one as
    ``[x, x]``: the root search then only moves it towards a finite bound.
    """
    kind = network.input_class(node)
    if kind == "positive":
        return ar.zero, x
    if kind == "real":
        return x, x
    domain = network.graph.nodes[node]["domain"]
    if domain.symbolic:
        if ar.name != "symbolic":
            raise ValueError(f"input {node!r} has a symbolic Box(); give numeric bounds "
                             "or use arithmetic='symbolic'")
        return sp.Symbol(f"l_{node}", nonpositive=True), sp.Symbol(f"h_{node}", nonnegative=True)
    return tuple(x if isinstance(b, Number) and math.isinf(b) else ar.number(b, f"bound of {node!r}")
                 for b in (domain.low, domain.high))


def rule_parameter(rule, name, ar):
    """The value of parameter *name* on the *rule* instance, as a number of *ar*.

    Raises
    ------
    ValueError
        The rule has no value for it (give one with ``rule.with_parameters``).
    """
    if name not in rule.parameters:
        raise ValueError(f"rule {rule.name!r} needs parameter {name!r}; give the rule a value: "
                         f"rule.with_parameters({name}=...)")
    return ar.number(rule.parameters[name], f"rule {rule.name!r}: {name}")


def _winner_messages(rule, exp, j, preds, R_j, act, region, ar, incoming):
    """Send R_j to the winner; return each input's share of it (1 or 0, piecewise when symbolic)."""
    names = [i for i, _ in preds]
    values = [act[i] for i in names]
    if ar.name != "symbolic" or region is not None:
        shares = [ar.number(s, "share") if s else ar.zero
                  for s in rule.shares([region[i] for i in names] if region is not None else values)]
        messages = [R_j if s else ar.zero for s in shares]
    else:  # piecewise: the first of the largest inputs takes everything
        shares = rule.symbolic_shares(values)
        messages = [sp.Piecewise((R_j, s.args[0].cond), (0, True)) for s in shares]
    for i, m in zip(names, messages):
        exp.messages[(i, j)] = m
        incoming[i].append(m)
    return shares
