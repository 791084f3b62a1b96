"""The graphviz side of :mod:`symdtd.see.flow`: the graph class, labels, files.

:class:`FlowGraph` is a ``graphviz.Digraph`` whose ``render``/``pipe``
turn a missing ``dot`` program into :class:`GraphvizNotFoundError`, a
message that says how to install Graphviz, and whose Jupyter display falls
back to the DOT text. :func:`write` picks the format from a file's suffix.

Examples
--------
>>> g = FlowGraph()
>>> g.edge("a", "b")
>>> print(g.source.strip())
digraph {
    a -> b
}
>>> format_value(sp.Rational(1, 3), 3, 40), format_value(2.0, 3, 40), format_value(1 / 3, 3, 40)
('1/3', '2', '0.333')
"""
from __future__ import annotations

from numbers import Number
from pathlib import Path

import graphviz
import sympy as sp

from ..core.files import atomic_write_bytes, atomic_write_text
from . import colors

__all__ = ["FlowGraph", "GraphvizNotFoundError", "INSTALL_HINT", "write", "image_format"]

#: how to get the ``dot`` program, quoted in errors
INSTALL_HINT = ("install Graphviz: `sudo apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS), `conda install -c conda-forge graphviz`, "
                "or see https://graphviz.org/download/")


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Writing an image needs Graphviz's ``dot``, which is not on PATH."""

    def __init__(self, message):  # noqa: D107 -- ExecutableNotFound formats its own text
        RuntimeError.__init__(self, message)


def _missing_dot(err):
    return GraphvizNotFoundError(
        f"writing an image needs the Graphviz program `dot`, which was not found ({err}). "
        f"To fix it, {INSTALL_HINT}. The DOT source needs no Graphviz: use graph.source "
        "or graph.save('flow.gv').")


class FlowGraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that explains a missing ``dot`` and knows its nodes.

    Parameters
    ----------
    *args, **kwargs
        The arguments of ``graphviz.Digraph``.

    Attributes
    ----------
    node_ids : dict
        Network node name -> DOT node id (the summary node for a collapsed layer).
    summaries : dict
        DOT id of each collapsed layer -> ``{"layer", "members", "count",
        "total", "active"}``.
    """

    def __init__(self, *args, **kwargs):  # noqa: D107 -- graphviz.Digraph's arguments
        super().__init__(*args, **kwargs)
        self.node_ids = {}
        self.summaries = {}

    def copy(self):
        """A copy of the graph, with its node ids and layer summaries."""
        new = super().copy()
        new.node_ids, new.summaries = dict(self.node_ids), dict(self.summaries)
        return new

    def render(self, *args, **kwargs):
        """Write the graph with ``dot`` (arguments of :meth:`graphviz.Digraph.render`).

        Raises
        ------
        GraphvizNotFoundError
            When Graphviz's ``dot`` program is missing; the message says how
            to install it.
        """
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as err:
            raise _missing_dot(err) from err

    def pipe(self, *args, **kwargs):
        """Return the rendered bytes (arguments of :meth:`graphviz.Digraph.pipe`).

        Raises
        ------
        GraphvizNotFoundError
            When Graphviz's ``dot`` program is missing.
        """
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as err:
            raise _missing_dot(err) from err

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        # Jupyter: without dot show the DOT text rather than a traceback
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": self.source}

def format_value(value, digits, max_len):
    """Text of a value: floats to *digits* significant digits, fractions exact,
    expressions printed as the literature writes them (``w⁺``)."""
    if value is None:
        return "–"
    if isinstance(value, sp.Basic):
        if value.is_Rational or value.is_Integer:
            text = str(value)
            if len(text) <= max_len:
                return text
            return "≈ " + format_value(float(value), digits, max_len)
        if value.is_Float:
            return format_value(float(value), digits, max_len)
        from ..derivation.printing import text as pretty

        try:
            text = pretty(value)
        except AttributeError:   # display.text cannot print Max(a, b) with a, b ≠ 0 yet
            text = str(value)
        return text if len(text) <= max_len else text[:max_len - 1] + "…"
    if isinstance(value, Number):
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{float(value):.{digits}g}"
    return str(value)[:max_len]


def dot_text(*lines):
    # backslashes doubled: DOT would read them as escapes; "\n" joins lines
    text = "\\n".join(line.replace("\\", "\\\\") for line in lines)
    return text + " " if text.startswith("<") and text.endswith(">") else text


def legend_label(vmax, use_messages, fmt, scale="scale"):
    """One HTML-like table: the relevance colour scale and what edges mean.

    *scale*: ``"scale"`` (five colour cells from ``-vmax`` to ``vmax``),
    ``"symbolic"`` (relevance without numbers: say why nothing is coloured)
    ``"zero"`` (numbers, all 0: say so) or ``"none"`` (no relevance given:
    edges only).
    """
    edge_text = ("edge width ∝ |message|, red &gt; 0, blue &lt; 0; arrows: relevance flow"
                 if use_messages else "edge width ∝ |weight|, red w &gt; 0, blue w &lt; 0")
    rows = ""
    if scale == "scale":
        cells = "".join(
            f'<TD BGCOLOR="{colors.diverging_hex(t * vmax, vmax)}">'
            f'<FONT COLOR="{colors.text_color(t * vmax, vmax)}">{_html(fmt(t * vmax))}</FONT></TD>'
            for t in (-1, -0.5, 0, 0.5, 1))
        rows = f'<TR><TD COLSPAN="5"><B>relevance R</B></TD></TR><TR>{cells}</TR>'
    elif scale in ("symbolic", "zero"):
        why = ("symbolic values (no point given): not coloured" if scale == "symbolic"
               else "every relevance is 0 (the output is 0): nothing to colour")
        rows = ('<TR><TD COLSPAN="5"><B>relevance R</B></TD></TR><TR><TD COLSPAN="5">'
                f'{why}</TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            f'{rows}<TR><TD COLSPAN="5" BORDER="0">{edge_text}</TD></TR></TABLE>>')


def _html(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ------------------------------------------------------------------ files
def image_format(path) -> str:
    """The format :func:`write` uses for *path*: its suffix, checked.

    >>> image_format("flow.SVG"), image_format("flow.gv")
    ('svg', 'gv')
    >>> image_format("flow.xyz")
    Traceback (most recent call last):
    ...
    ValueError: path 'flow.xyz': 'xyz' is not an image format of Graphviz; use .svg, .png, .pdf or .gv
    """
    fmt = Path(path).suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"path {str(path)!r} has no suffix; use .svg, .png, .pdf or .gv")
    if fmt not in ("gv", "dot") and fmt not in graphviz.FORMATS:
        raise ValueError(f"path {str(path)!r}: {fmt!r} is not an image format of Graphviz; "
                         "use .svg, .png, .pdf or .gv")
    return fmt


def write(graph, path, *, dpi=None):
    """Write *graph* to *path*; the format comes from the suffix.

    ``.gv``/``.dot`` write the DOT source (no Graphviz needed); ``.svg``,
    ``.png``, ``.pdf`` (any format ``dot`` knows) run ``dot``. Missing
    folders are created and the file is replaced atomically
    (:mod:`symdtd.core.files`): a failed write keeps the old file. Returns the Path.

    Raises
    ------
    GraphvizNotFoundError
        When an image is asked for and ``dot`` is missing.
    """
    path = Path(path)
    fmt = image_format(path)
    if fmt in ("gv", "dot"):
        return atomic_write_text(path, graph.source)
    if dpi is not None:
        graph = graph.copy()
        graph.attr(dpi=str(dpi))
    try:
        data = graph.pipe(format=fmt)
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as err:   # a plain graphviz.Digraph was passed
        raise _missing_dot(err) from err
    return atomic_write_bytes(path, data)
