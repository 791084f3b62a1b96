"""Printing SymPy expressions the way the deep Taylor literature writes them.

``Max(0, w)`` prints as ``w⁺``, ``Min(0, w)`` as ``w⁻``, ``Heaviside(a, 0)``
as ``1[a > 0]``, ``x[i]`` as ``x_i``, sums as ``Σ_{i'=1}^{n}``, and the
relevance function ``R(i)`` as ``[x_j]_i``. Text uses ``·`` for products.

Examples
--------
>>> import sympy as sp
>>> w = sp.IndexedBase("w"); i = sp.Symbol("i")
>>> text(sp.Max(w[i], 0) * 2)
'2·w_i⁺'
>>> latex(sp.Min(w[i], 0))
'{w_{i}}^{-}'
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = ["text", "latex", "text_eq", "latex_eq", "latex_escape", "latex_document"]


def _zero_and_other(args):
    if len(args) == 2 and sp.S.Zero in args:
        return args[1] if args[0] == 0 else args[0]
    return None


class _TextPrinter(StrPrinter):
    printmethod = "_symdtd_text"   # bypass Indexed._sympystr so our rules apply

    def _atom(self, expr):
        if isinstance(expr, (sp.Symbol, sp.Indexed)):
            return self._print(expr)
        return "(" + self._print(expr) + ")"
    def _print_Indexed(self, expr):
        index = self._print(expr.indices[0])
        sub = index if len(index) == 1 else "{" + index + "}"
        return f"{self._print(expr.base.label)}_{sub}"

    def _print_Max(self, expr):
        other = _zero_and_other(expr.args)
        if other is None:
            return self._print_Function(expr)
        return self._atom(other) + "⁺"

    def _print_Min(self, expr):
        other = _zero_and_other(expr.args)
        if other is None:
            return self._print_Function(expr)
        return self._atom(other) + "⁻"

    def _print_Heaviside(self, expr):
        argument = expr.args[0]
        if argument.could_extract_minus_sign():
            return f"1[{self._print(-argument)} < 0]"
        return f"1[{self._print(argument)} > 0]"

    def _print_Sum(self, expr):
        (index, low, high), = expr.limits
        return (f"Σ_{{{self._print(index)}={self._print(low)}}}^{{{self._print(high)}}} "
                f"{self.parenthesize(expr.function, 40)}")

    def _print_Function(self, expr):
        if expr.func.__name__ == "R":
            index = self._print(expr.args[0])
            return f"[x_j]_{index if len(index) == 1 else '{' + index + '}'}"
        return super()._print_Function(expr)

    def _print_Symbol(self, expr):
        return {"gamma": "γ"}.get(expr.name, expr.name)

    def _print_Mul(self, expr):
        return super()._print_Mul(expr).replace("**", "^").replace("*", "·")

    def _print_Pow(self, expr, rational=False):
        return super()._print_Pow(expr, rational).replace("**", "^")


class _LatexPrinter(LatexPrinter):
    printmethod = "_symdtd_latex"
    def _print_Indexed(self, expr):
        return f"{self._print(expr.base.label)}_{{{self._print(expr.indices[0])}}}"

    def _part(self, expr, exp, sign, fallback):
        """``w⁺``/``w⁻`` for ``Max(0, w)``/``Min(0, w)``, else SymPy's own form."""
        other = _zero_and_other(expr.args)
        if other is None:
            return fallback(expr, exp)
        out = "{" + self._print(other) + "}^{" + sign + "}"
        return f"\\left({out}\\right)^{{{exp}}}" if exp else out

    def _print_Max(self, expr, exp=None):
        return self._part(expr, exp, "+", super()._print_Max)

    def _print_Min(self, expr, exp=None):
        return self._part(expr, exp, "-", super()._print_Min)

    def _print_Heaviside(self, expr, exp=None):
        argument = expr.args[0]
        if argument.could_extract_minus_sign():
            out = f"\\mathbb{{1}}[{self._print(-argument)} < 0]"
        else:
            out = f"\\mathbb{{1}}[{self._print(argument)} > 0]"
        return f"{out}^{{{exp}}}" if exp else out

    def _print_Function(self, expr, exp=None):
        if expr.func.__name__ == "R":
            return f"[x_j]_{{{self._print(expr.args[0])}}}"
        return super()._print_Function(expr, exp)

    def _print_Symbol(self, expr, style="plain"):
        name = expr.name
        if name.startswith("x̃"):
            return "\\tilde{x}" + (f"_{{{name[3:]}}}" if "_" in name else "")
        if name == "i'":
            return "i'"
        return super()._print_Symbol(expr, style)


_text_printer = _TextPrinter()
_latex_printer = _LatexPrinter()


def text(expr) -> str:
    """Plain-text form of *expr* (see the module docstring)."""
    return _text_printer.doprint(expr)


def latex(expr) -> str:
    """LaTeX form of *expr* (see the module docstring)."""
    return _latex_printer.doprint(expr)


def _is_rule(expr):
    """Split ``q / Σ q · x_j`` so it prints as the literature writes it."""
    numer, denom = sp.fraction(sp.together(expr))
    x_j = [s for s in expr.free_symbols if getattr(s, "name", "") == "x_j"]
    if not x_j or denom == 1 or not numer.is_Mul or x_j[0] not in numer.args:
        return None
    return numer / x_j[0], denom, x_j[0]


def text_eq(eq) -> str:
    """``lhs = rhs`` in plain text; a rule prints as ``q / Σ q · x_j``."""
    parts = _is_rule(eq.rhs) if eq.rhs.is_Mul else None
    if parts:
        q, denom, x_j = parts
        wrap = _text_printer._atom
        rhs = (f"{wrap(q) if q.is_Add else text(q)} / "
               f"{wrap(denom) if denom.is_Add else text(denom)} · {text(x_j)}")
    else:
        rhs = text(eq.rhs)
    return f"{text(eq.lhs)} = {rhs}"


def latex_eq(eq, align=True) -> str:
    """``lhs &= rhs`` in LaTeX (``lhs = rhs`` with ``align=False``), a rule as ``\\frac{q}{Σ q}\\, x_j``."""
    parts = _is_rule(eq.rhs) if eq.rhs.is_Mul else None
    if parts:
        q, denom, x_j = parts
        rhs = f"\\frac{{{latex(q)}}}{{{latex(denom)}}}\\, {latex(x_j)}"
    else:
        rhs = latex(eq.rhs)
    return f"{latex(eq.lhs)} {'&=' if align else '='} {rhs}"


def latex_escape(value: str) -> str:
    """Escape text for LaTeX and turn the unicode symbols we use into macros."""
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
             "{": r"\{", "}": r"\}", "ℝⁿ₊": r"$\mathbb{R}^n_+$", "ℝⁿ": r"$\mathbb{R}^n$",
             "⁺": r"$^+$", "ᴮ": r"$^B$", "²": r"$^2$", "γ": r"$\gamma$", "x̃": r"$\tilde{x}$",
             "Σ": r"$\Sigma$", "−": "-", "≤": r"$\leq$", "≥": r"$\geq$", "·": r"$\cdot$",
             "⁻": r"$^-$", "…": r"\dots{}", "≠": r"$\neq$", "∈": r"$\in$"}
    out = []
    i = 0
    while i < len(value):
        for key in sorted(table, key=len, reverse=True):
            if value.startswith(key, i):
                out.append(table[key])
                i += len(key)
                break
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


#: the packages a standalone document uses: all in every LaTeX distribution
DOCUMENT_PACKAGES = ("amsmath", "amssymb")


def latex_document(*bodies: str) -> str:
    r"""A complete LaTeX document around LaTeX fragments (``to_latex()`` outputs).

    The preamble loads only standard packages (:data:`DOCUMENT_PACKAGES`,
    ``inputenc`` and ``fontenc``); a character beyond Latin-1 that a
    fragment still holds (from a user rule's title, say) is declared so the
    document compiles with ``pdflatex`` (it prints as ``U+XXXX``).

    Parameters
    ----------
    *bodies : str
        Fragments, such as ``Derivation.to_latex()`` and ``Report.to_latex()``;
        they are separated by a blank line.

    Returns
    -------
    str
        From ``\documentclass`` to ``\end{document}``.

    Examples
    --------
    >>> doc = latex_document("\\begin{align*} x_j &= 1 \\end{align*}")
    >>> print(doc)  # doctest: +ELLIPSIS
    \documentclass{article}
    \usepackage[utf8]{inputenc}
    \usepackage[T1]{fontenc}
    \usepackage{amsmath,amssymb}
    ...
    \begin{document}
    \begin{align*} x_j &= 1 \end{align*}
    \end{document}
    <BLANKLINE>
    """
    body = "\n\n".join(bodies)
    wide = sorted({c for c in body if ord(c) > 0xFF})
    declared = [f"\\DeclareUnicodeCharacter{{{ord(c):04X}}}{{\\texttt{{U+{ord(c):04X}}}}}"
                for c in wide]
    return "\n".join([
        "\\documentclass{article}",
        "\\usepackage[utf8]{inputenc}",
        "\\usepackage[T1]{fontenc}",
        f"\\usepackage{{{','.join(DOCUMENT_PACKAGES)}}}",
        *declared,
        "\\setlength{\\parindent}{0pt}",
        "\\begin{document}",
        body,
        "\\end{document}",
        ""])
