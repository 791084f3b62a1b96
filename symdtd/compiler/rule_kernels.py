"""The NumPy kernel of one rule: its derived numerator, split and lambdified.

The only module that calls :func:`sympy.lambdify`. The rules are not
hand-coded: each rule's numerator ``q(x, w, l, h, γ)`` comes from
:func:`symdtd.derive`; :class:`RuleKernel` splits it with SymPy into
separable terms ``f_k(x, l, h) · g_k(w, γ)`` (:mod:`symdtd.compiler.separable`) and
lambdifies each factor with common-subexpression elimination, for NumPy and,
on demand (:meth:`RuleKernel.f_functions`), for PyTorch tensors.
:func:`rule_kernel` caches one kernel per rule and binding of the box bounds;
:class:`~symdtd.compiler.compiled.CompiledNetwork` asks it for every rule in use.

Examples
--------
>>> [(t.f, t.g) for t in rule_kernel("zB").terms]
[(x, w), (h, -Min(0, w)), (l, -Max(0, w))]
"""
from __future__ import annotations

import functools
import inspect

import numpy as np
import sympy as sp

from ..core.rules import Rule, get_rule
from .separable import EDGE_ROLES, INPUT_ROLES, Term, split_separable

__all__ = ["RuleKernel", "rule_kernel", "lambdify"]


BACKENDS = ("numpy", "torch")


def lambdify(args, expr, backend="numpy"):
    """``sympy.lambdify`` for NumPy (or PyTorch) with common-subexpression elimination.

    The torch version runs on tensors: SymPy's torch printing with ``Max`` and
    ``Min`` of a tensor and a number mapped to ``torch.clamp`` (torch's
    ``max`` does not take a plain number).

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> lambdify([x], 2 * sp.Max(0, x))(np.array([-1.0, 3.0]))
    array([0., 6.])
    """
    if backend == "numpy":
        return sp.lambdify(args, expr, modules=[np], cse=True)  # the module: no `from numpy import *`
    if backend != "torch":
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return sp.lambdify(args, expr, modules=[_torch_functions(), "torch"], cse=True)


@functools.lru_cache(maxsize=1)
def _torch_functions():
    """``max`` and ``min`` of tensors and numbers, as the torch printing calls them."""
    import torch

    def extreme(name):
        pick, clamp = (torch.maximum, "min") if name == "max" else (torch.minimum, "max")

        def fold(*args):
            numbers = [a for a in args if not isinstance(a, torch.Tensor)]
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            if not tensors:
                return (max if name == "max" else min)(numbers)
            out = functools.reduce(pick, tensors)
            if numbers:
                out = torch.clamp(out, **{clamp: (max if name == "max" else min)(numbers)})
            return out
        return fold
    return {"max": extreme("max"), "min": extreme("min"), "Max": extreme("max"), "Min": extreme("min")}


class RuleKernel:
    """The vectorised NumPy kernel of one rule, generated from its derived numerator.

    Parameters
    ----------
    rule : str or Rule
        The rule whose numerator is compiled.
    l_is_x, h_is_x : bool
        Bind the box bounds to the input itself, as :mod:`symdtd.propagation.backward`
        does for a ≥ 0 predecessor (``l = 0`` constant, ``h = x``), a
        real-valued one (``l = h = x``) or an infinite bound. The
        substitution is symbolic, so the split is redone on the bound ``q``
        (e.g. zᴮ on a ReLU input becomes ``x · (w − w⁻) = x · w⁺``).

    Attributes
    ----------
    q : sympy.Expr
        The numerator after binding.
    symbols : dict
        Role → symbol, for all of ``x, w, l, h, gamma``.
    terms : list of Term or None
        The separable terms; None if ``q`` does not split.
    q_fn : callable
        ``q_fn(x, w, l, h, gamma)``: the whole numerator, used by the
        edge-wise fallback and to check the split.
    """

    def __init__(self, rule, l_is_x=False, h_is_x=False):
        from ..derivation.taylor import derive  # SymPy-heavy; only needed when compiling

        self.rule = get_rule(rule)
        q, syms = derive(self.rule).local_numerator()
        s = {r: syms.get(r, sp.Symbol(r, real=True)) for r in INPUT_ROLES + EDGE_ROLES}
        self.symbols = s
        self.binding = (bool(l_is_x), bool(h_is_x))
        self.q = q.xreplace({k: s["x"] for k, on in ((s["l"], l_is_x), (s["h"], h_is_x)) if on})
        if "unbounded" in syms:   # the per-input rule: both bounds bound to x means ℝ
            self.q = self.q.xreplace({syms["unbounded"]: int(l_is_x and h_is_x)})
        self.uses_bounds = self.q.has(s["l"]) or self.q.has(s["h"])
        self.parameters = [r for r in ("gamma",) if self.q.has(s[r])]
        f_args = [s[r] for r in INPUT_ROLES]
        g_args = [s[r] for r in EDGE_ROLES]
        self.q_fn = lambdify(f_args[:1] + g_args[:1] + f_args[1:] + g_args[1:], self.q)
        pairs = split_separable(self.q, g_args)
        self.terms = None if pairs is None else [
            Term(f, g, lambdify(f_args, f), lambdify(g_args, g), f.has(s["x"]))
            for f, g in pairs]

    def f_functions(self, backend: str = "numpy") -> list:
        """Each term's ``f(x, l, h)`` lambdified for *backend* (``"numpy"`` or ``"torch"``), made once.

        >>> [f(2.0, 0.0, 1.0) for f in rule_kernel("zB").f_functions()]
        [2.0, 1.0, 0.0]
        """
        cache = self.__dict__.setdefault("f_by_backend", {"numpy": [t.f_fn for t in self.terms or []]})
        if backend not in cache:
            args = [self.symbols[r] for r in INPUT_ROLES]
            cache[backend] = [lambdify(args, t.f, backend) for t in self.terms or []]
        return cache[backend]

    @property
    def separable(self) -> bool:
        """True when ``q`` splits into ``f(x, l, h) · g(w, γ)`` terms."""
        return self.terms is not None

    def source(self) -> str:
        """The generated Python source of every lambdified function, annotated.

        >>> print(rule_kernel("z+").source())  # doctest: +ELLIPSIS
        # rule z+: q(x, w, l, h, gamma) = x*Max(0, w)
        # separable: q = f_1*g_1
        # term 1: f_1 = x  (changes per row), g_1 = Max(0, w)
        def f_1(x, l, h):
            return x
        def g_1(w, gamma):
            return reduce(maximum, [0, w])...
        """
        lines = [f"# rule {self.rule.name}: q(x, w, l, h, gamma) = {self.q}"]
        if self.binding != (False, False):
            bound = [r for r, on in zip("lh", self.binding) if on]
            lines[0] += f"   (with {' and '.join(bound)} bound to x)"
        if not self.separable:
            lines.append("# not separable: evaluated edge by edge over the batch (slower)")
            lines.append(_named_source(self.q_fn, "q"))
            return "\n".join(lines)
        lines.append("# separable: q = " + " + ".join(
            f"f_{k}*g_{k}" for k in range(1, len(self.terms) + 1)))
        for k, t in enumerate(self.terms, 1):
            kind = "changes per row" if t.batch else "constant per input"
            lines.append(f"# term {k}: f_{k} = {t.f}  ({kind}), g_{k} = {t.g}")
            lines.append(_named_source(t.f_fn, f"f_{k}"))
            lines.append(_named_source(t.g_fn, f"g_{k}"))
        return "\n".join(lines)

    def __repr__(self):
        split = f"{len(self.terms)} terms" if self.separable else "not separable"
        return f"RuleKernel({self.rule.name!r}, q={self.q}, {split})"


def _named_source(fn, name):
    return inspect.getsource(fn).replace("_lambdifygenerated", name).rstrip()


@functools.lru_cache(maxsize=128)
def _kernel(rule, l_is_x, h_is_x):
    return RuleKernel(rule, l_is_x, h_is_x)


def rule_kernel(rule: str | Rule, l_is_x: bool = False, h_is_x: bool = False) -> RuleKernel:
    """The (cached) :class:`RuleKernel` of *rule* for one binding of the bounds.

    Parameters
    ----------
    rule : str or Rule
        The rule (its template's kernel is shared by every parameter value).
    l_is_x, h_is_x : bool, optional
        Bind the lower / upper box bound to the input itself (see :class:`RuleKernel`).

    Returns
    -------
    RuleKernel
        The same object for the same rule and binding.

    Examples
    --------
    >>> rule_kernel("zB", h_is_x=True).terms[0].g   # zB on a ReLU input is z+
    w - Min(0, w)
    """
    return _kernel(get_rule(rule).template, bool(l_is_x), bool(h_is_x))
