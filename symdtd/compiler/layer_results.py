"""What :meth:`CompiledLayerNetwork.explain <symdtd.compiler.layer_pass.CompiledLayerNetwork.explain>` returns.

:class:`LayerExplanation` holds the input relevance of a batch and, per
layer and row, the relevance that reached the layer, what it passed on, what
it lost at zero denominators and what its positive biases absorbed
(``absorb_bias=True``). :meth:`LayerExplanation.conservation` sums these up
as a :class:`LayerConservation`: per layer the residual

.. math::

    \\text{residual} = \\text{total} - \\text{passed} - \\text{lost} - \\text{absorbed}

(zero up to rounding: every layer conserves what it does not lose or
absorb) and for the whole pass ``Σ_p R_p + lost + absorbed − x_f``.
:func:`join_explanations` puts the explanations of consecutive row chunks
back together.

Examples
--------
>>> import numpy as np
>>> one = np.ones(2)
>>> e = LayerExplanation(np.array([[0.5, 0.5], [1.0, 0.0]]), one, np.zeros(2, int),
...                      {"y": one, "x": one}, np.zeros(2), {"y": one})
>>> report = e.conservation()
>>> report.residual["y"].tolist(), report.conserved().tolist()
([0.0, 0.0], [True, True])
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

__all__ = ["LayerExplanation", "LayerConservation", "join_explanations"]


@dataclass
class LayerConservation:
    """Conservation of a layer-level explanation, layer by layer and row by row.

    Its fields are the constructor's parameters. Every dict maps a layer name
    (in backward order, the explained layer first) to a ``(batch,)`` array.

    Parameters
    ----------
    total : dict
        Relevance reaching each layer.
    passed : dict
        Relevance each layer (not an input) passed on to its sources.
    lost : dict
        Relevance held by its neurons with a zero denominator.
    absorbed : dict
        Relevance absorbed by its positive biases (``absorb_bias=True``).
    residual : dict
        ``total − passed − lost − absorbed``: rounding only.
    output : ndarray
        ``x_f`` per row.
    input_total : ndarray
        ``Σ_p R_p`` over the inputs per row.
    dtype : numpy.dtype
        The float type computed in; sets the default tolerance of :meth:`conserved`.
    """

    total: dict
    passed: dict
    lost: dict
    absorbed: dict
    residual: dict
    output: np.ndarray
    input_total: np.ndarray
    dtype: np.dtype = field(default=np.dtype(np.float64), repr=False)

    @property
    def gap(self):
        """``Σ_p R_p + lost + absorbed − x_f`` per row: the whole pass's residual."""
        return (self.input_total + sum(self.lost.values(), np.zeros_like(self.output))
                + sum(self.absorbed.values(), np.zeros_like(self.output)) - self.output)

    def conserved(self, rtol=None):
        """Per row: every layer's residual and :attr:`gap` within ``rtol · max(1, |x_f|)``.

        The default ``rtol`` is 1e-9 in float64 and 1e-4 in float32 (relevance
        summed over ~10⁵ neurons in float32 keeps about 4 digits).
        """
        rtol = rtol if rtol is not None else (1e-9 if self.dtype == np.float64 else 1e-4)
        scale = rtol * np.maximum(1.0, np.abs(self.output))
        ok = np.abs(self.gap) <= scale
        for r in self.residual.values():
            ok &= np.abs(r) <= scale
        return ok

    def __str__(self):
        lines = [f"{'layer':<12} {'total':>12} {'passed':>12} {'lost':>10} {'absorbed':>10} "
                 f"{'max |residual|':>15}"]
        for name, tot in self.total.items():
            lines.append(f"{name:<12} {tot.sum():>12.6g} {self.passed[name].sum():>12.6g} "
                         f"{self.lost[name].sum():>10.4g} {self.absorbed[name].sum():>10.4g} "
                         f"{np.abs(self.residual[name]).max():>15.3g}")
        lines.append(f"rows: {len(self.output)}, max |Σ R_p + lost + absorbed − x_f| = "
                     f"{np.abs(self.gap).max():.3g}, conserved: {int(self.conserved().sum())}")
        return "\n".join(lines)


@dataclass
class LayerExplanation:
    """The result of :meth:`CompiledLayerNetwork.explain
    <symdtd.compiler.layer_pass.CompiledLayerNetwork.explain>`.

    Its fields are the constructor's parameters.

    Parameters
    ----------
    relevance : ndarray or dict
        Relevance of the input, ``(batch, *shape)`` (a dict per input name when
        there are several inputs).
    output : ndarray, shape (batch,)
        The explained value ``x_f`` per row.
    target : ndarray of int
        The explained neuron per row (flat index into the output layer).
    totals : dict
        ``{layer: (batch,) relevance reaching it}``.
    lost : ndarray, shape (batch,)
        Relevance held by neurons with a zero denominator, all layers together.
    passed : dict
        ``{layer: (batch,) relevance it passed on to its sources}``.
    layers : dict or None
        ``{layer: relevance array}`` with ``return_layers=True``.
    absorbed : ndarray, shape (batch,) or None
        Relevance absorbed by positive biases (``absorb_bias=True``), all layers.
    layer_lost, layer_absorbed : dict
        ``{layer: (batch,)}``: :attr:`lost` and :attr:`absorbed` layer by layer.
    dtype : numpy.dtype
        The float type the pass computed in.
    flows : dict
        ``{(source, layer): (batch,) relevance layer passed to source}``, one
        entry per edge of the layer DAG; a layer's flows sum to its ``passed``.
    """

    relevance: object
    output: np.ndarray
    target: np.ndarray
    totals: dict
    lost: np.ndarray
    passed: dict = field(default_factory=dict, repr=False)
    layers: dict | None = field(default=None, repr=False)
    absorbed: np.ndarray | None = field(default=None, repr=False)
    layer_lost: dict = field(default_factory=dict, repr=False)
    layer_absorbed: dict = field(default_factory=dict, repr=False)
    dtype: np.dtype = field(default=np.dtype(np.float64), repr=False)
    flows: dict = field(default_factory=dict, repr=False)

    def conservation(self):
        """Conservation layer by layer: a :class:`LayerConservation`.

        Returns
        -------
        LayerConservation
            ``total``, ``passed``, ``lost``, ``absorbed`` and ``residual`` per
            layer and row; an input layer passes what it receives (it keeps it).
        """
        zero = np.zeros(len(self.output))
        passed = {n: self.passed.get(n, t) for n, t in self.totals.items()}
        lost = {n: self.layer_lost.get(n, zero) for n in self.totals}
        absorbed = {n: self.layer_absorbed.get(n, zero) for n in self.totals}
        residual = {n: t - passed[n] - lost[n] - absorbed[n] for n, t in self.totals.items()}
        relevance = self.relevance if isinstance(self.relevance, dict) else {"": self.relevance}
        input_total = sum((r.reshape(len(r), -1).sum(axis=1, dtype=float)
                           for r in relevance.values()), zero)
        return LayerConservation(self.totals, passed, lost, absorbed, residual,
                                 np.asarray(self.output, float), input_total, self.dtype)


def join_explanations(parts, batch):
    """One :class:`LayerExplanation` from the explanations of consecutive row chunks.

    Parameters
    ----------
    parts : iterable of (slice, LayerExplanation)
        The rows each chunk covers, in order, and its explanation; each is
        copied into the result as it arrives.
    batch : int

    Returns
    -------
    LayerExplanation

    Examples
    --------
    >>> def part(a, b):
    ...     n = b - a
    ...     return slice(a, b), LayerExplanation(np.full((n, 2), a), np.ones(n), np.zeros(n, int),
    ...                                          {"y": np.ones(n)}, np.zeros(n))
    >>> joined = join_explanations([part(0, 2), part(2, 3)], 3)
    >>> joined.relevance[:, 0].tolist(), joined.totals["y"].tolist()
    ([0, 0, 2], [1.0, 1.0, 1.0])
    """
    out = None
    for rows, part in parts:
        if out is None:
            out = LayerExplanation(**{f.name: _room(getattr(part, f.name), batch)
                                      for f in fields(LayerExplanation)})
            out.dtype = part.dtype
        for f in fields(LayerExplanation):
            _fill(getattr(out, f.name), getattr(part, f.name), rows)
    return out


def _room(value, batch):
    if isinstance(value, dict):
        return {k: _room(v, batch) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.ndim:
        return np.empty((batch,) + value.shape[1:], value.dtype)
    return value


def _fill(out, part, rows):
    if isinstance(out, dict):
        for k, v in part.items():
            _fill(out[k], v, rows)
    elif isinstance(out, np.ndarray) and out.ndim:
        out[rows] = part
