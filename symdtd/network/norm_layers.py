"""Local response normalisation (LRN) as a layer node: relevance passes through it unchanged.

:class:`LocalResponseNorm` computes what ``torch.nn.LocalResponseNorm``
computes, across channels,

.. math::

    b_c = a_c \\Big/ \\Big(k + \\frac{\\alpha}{n}
          \\sum_{c'=c-\\lfloor n/2\\rfloor}^{c+\\lfloor (n-1)/2\\rfloor} a_{c'}^2\\Big)^{\\beta}

(channels outside ``0 … C−1`` count as 0, ``n`` is ``size``), at every
pixel of a ``(C, H, W)`` image.

**Relevance.** The original deep Taylor paper (Montavon et al., *Explaining
nonlinear classification decisions with deep Taylor decomposition*, Pattern
Recognition 65, 2017, on its GoogLeNet/CaffeNet experiments) treats local
renormalisation layers as the identity for relevance: ``R_in = R_out``, each
entry's relevance going to the neuron it normalises. The layer is not a
ReLU neuron ``max(0, Σ x w + b)``, so no deep Taylor rule is derived for it;
its effect on the explanation is small (it rescales each activation by a
smooth, positive factor, never changing its sign). Conservation through it
then holds trivially (exactly, not only up to rounding): the relevance
leaving it is the relevance that entered it.

For rule choice and relevance, the layer is therefore a *view* (its
``neuron_kind`` is ``"view"``, as flatten and concatenation): it has no rule
of its own and no composite is asked about it. Its values are ≥ 0 when its
inputs are, so the layer after it sees ≥ 0 inputs (z⁺ by default). It needs
inputs ≥ 0 from a layer with neurons (a ReLU or pooling layer, as in AlexNet
and GoogLeNet); :class:`~symdtd.network.layer_graph.LayerNetwork` refuses it
directly on an input, whose box bounds would no longer hold after it.

**Neuron view.** There is no neuron-level kind for it:
:meth:`LayerNetwork.neurons <symdtd.network.layer_graph.LayerNetwork.neurons>`
refuses a window whose receptive field contains an LRN layer, with an error
saying so. Explain such networks at layer level
(:func:`~symdtd.compiler.layer_pass.compile_layers`), or take the neuron view
of a window below the LRN layer (``neurons(window, output=...)``).

Examples
--------
>>> import numpy as np
>>> lrn = LocalResponseNorm(3, alpha=3.0, beta=1.0, k=1.0)
>>> lrn.bind("lrn1", ["h"], [(3, 1, 1)])
(3, 1, 1)
>>> lrn.forward([np.array([1.0, 2.0, 1.0]).reshape(1, 3, 1, 1)]).ravel().tolist()  # 1/6, 2/7, 1/6
[0.16666666666666666, 0.2857142857142857, 0.16666666666666666]
>>> lrn.expression()
Eq(lrn1[c, u, v], h[c, u, v]/(1.0*Sum(h[c', u, v]**2, (c', c - 1, c + 1)) + 1.0)**1.0)
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from . import layer_ops
from .layer_base import Layer

__all__ = ["LocalResponseNorm"]


class LocalResponseNorm(Layer):
    """Local response normalisation across channels, as ``torch.nn.LocalResponseNorm``.

    Parameters
    ----------
    size : int
        How many neighbouring channels are summed (``n``).
    alpha : float
        The scale of the sum (default ``1e-4``, PyTorch's).
    beta : float
        The exponent (default ``0.75``).
    k : float
        The additive constant (default ``1``); must be positive, so that the
        denominator is positive and the sign of every value is kept.
    """

    neuron_kind = "view"  # for relevance and rule choice: passed through (see the module)

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__(None)
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"LocalResponseNorm: size must be a positive int, got {size!r}")
        values = {}
        for what, value in (("alpha", alpha), ("beta", beta), ("k", k)):
            try:
                values[what] = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"LocalResponseNorm: {what} must be a number, got {value!r}") from None
            if not math.isfinite(values[what]):
                raise ValueError(f"LocalResponseNorm: {what} must be finite, got {value!r}")
        if values["k"] <= 0 or values["alpha"] < 0:
            raise ValueError(f"LocalResponseNorm: needs k > 0 and alpha ≥ 0 (a positive "
                             f"denominator), got k={k!r}, alpha={alpha!r}")
        self.size = int(size)
        self.alpha, self.beta, self.k = values["alpha"], values["beta"], values["k"]

    def infer_shape(self, input_shapes):
        return self.image(input_shapes[0])

    def forward(self, inputs, ops=layer_ops):
        """``a / (k + α/n · Σ_window a²)^β`` across channels, in the input's float type."""
        return ops.local_response_norm(inputs[0], self.size, self.alpha, self.beta, self.k)

    def view(self, out):
        """No neuron-level form: a ValueError saying so (see the module)."""
        raise ValueError(f"layer {self.name!r} (LocalResponseNorm) has no neuron-level form: "
                         "relevance passes through it unchanged at layer level only; explain "
                         "with compile_layers, or take the neuron view of a window below it "
                         "(net.neurons(window, output=<a layer before it>))")

    def expression(self):
        c, u, v = self.index_symbols()
        k = sp.Idx("c'")
        x = sp.IndexedBase(self.sources[0])
        before, after = self.size // 2, (self.size - 1) // 2
        window = sp.Sum(x[k, u, v] ** 2, (k, c - before, c + after))
        scale = sp.Float(self.alpha / self.size)
        denominator = (sp.Float(self.k) + scale * window) ** sp.Float(self.beta)
        return sp.Eq(sp.IndexedBase(self.name)[c, u, v], x[c, u, v] / denominator)

    def __repr__(self):
        return (f"LocalResponseNorm({self.name!r}, size={self.size}, alpha={self.alpha}, "
                f"beta={self.beta}, k={self.k})")
