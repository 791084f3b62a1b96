"""Attribution baselines and pixel-flipping evaluation on compiled networks.

Attribution methods, each returning an array ``(batch, n_inputs)``:

* :func:`dtd` — deep Taylor decomposition with the compiled network
  (:func:`~symdtd.compiler.compiled.compile`): the rules of a composite
  (:mod:`symdtd.network.composites`; default the paper's: zᴮ at a box input,
  z⁺ above), e.g. ``composite=GammaAbove(0.25)``, or a rule for every layer
  above the input (``rule="gamma"``, a shortcut for ``Above("gamma")``);
* :func:`sensitivity` — ``(∂x_f/∂x_p)²``;
* :func:`gradient_x_input` — ``x_p · ∂x_f/∂x_p``;
* :func:`random_attribution` — uniform noise: a random order.

The gradients come from :mod:`symdtd.real.gradients` (re-exported here).

:func:`pixel_flipping` removes features in order of decreasing relevance,
replacing each by a *baseline* value, and records the explained output
after each step; AOPC (Samek et al., 2017) is
``1/(L+1) Σ_{k=0}^{L} (f(x) − f(x^(k)))`` per input, averaged over inputs,
with a t confidence interval over the inputs.

Examples
--------
>>> import numpy as np
>>> from symdtd import Network, Box
>>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]], input_domain=Box(0, 1))
>>> X = np.array([[1.0, 0.25]])
>>> gradient(net, X, 0)                        # y = 3·max(0, x1 − 2 x2)
array([[ 3., -6.]])
>>> dtd(net, X, 0)                              # zᴮ: (x w − l w⁺ − h w⁻) ∝ (1, 2 − 0.5)
array([[0.6, 0.9]])
>>> r = pixel_flipping(net, X, [[2.0, 1.0]], 0)  # x1 first, then x2, both to 0
>>> r.curves
array([[1.5, 0. , 0. ]])
>>> float(r.aopc)                               # (0 + 1.5 + 1.5) / 3
1.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..core.numbers import check_positive_int
from ..core.rules import Rule
from ..network.composites import Composite
from ..network.graph import Network
from .cache import per_network
from .gradients import gradient, gradient_x_input, sensitivity

__all__ = ["dtd", "gradient", "sensitivity", "gradient_x_input", "random_attribution",
           "pixel_flipping", "FlipResult", "mean_ci", "compiled", "check_patch"]


def compiled(network: Network, rule: str | Rule | None = None, parameters: dict | None = None, *,
             composite: Composite | None = None) -> object:
    """The compiled network (cached per network and choice of rules).

    Parameters
    ----------
    network : Network
        The network to compile.
    rule : str or Rule, optional
        A rule for every ReLU or linear neuron where the composite says z⁺:
        the layers above the input (a box input layer keeps zᴮ, real inputs
        w²; pooling keeps its rule). Shortcut for
        :class:`Above(rule, composite) <symdtd.network.composites.Above>`.
    parameters : dict, optional
        Rule parameters such as ``{"gamma": 0.25}`` for every rule taking
        them (:class:`~symdtd.network.composites.WithParameters`).
    composite : Composite, optional
        Which rule each neuron uses; default the paper's.

    Returns
    -------
    CompiledNetwork
        The :class:`~symdtd.compiler.compiled.CompiledNetwork`; the same
        object again until the network changes.

    Examples
    --------
    >>> from symdtd import Network
    >>> net = Network.from_dense([[[1.0]], [[1.0]]])
    >>> compiled(net) is compiled(net)
    True
    """
    from ..compiler.compiled import compile as compile_network
    from ..network.composites import Above, WithParameters
    from ..network.rule_choice import as_composite

    composite = as_composite(composite)
    if rule is not None:
        composite = Above(rule, composite)
    if parameters is not None:
        composite = WithParameters(parameters, composite)
    return per_network(network, ("compiled", composite),
                   lambda: compile_network(network, composite=composite))


def _forward_fn(model):
    if hasattr(model, "graph") and hasattr(model, "rule_for"):  # a Network: compile it
        return compiled(model).forward
    if hasattr(model, "forward"):
        return model.forward
    if callable(model):
        return model
    raise TypeError(f"model must be a Network, a CompiledNetwork or a function, "
                    f"got {type(model).__name__}")


def dtd(network: Network, X: ArrayLike, target: int | str | ArrayLike, *, rule: str | Rule | None = None,
        parameters: dict | None = None, absorb_bias: bool = False,
        composite: Composite | None = None) -> np.ndarray:
    """Deep Taylor relevance ``[x_f]_p`` from the compiled network.

    The network is compiled once (see :func:`compiled`) and reused for
    later calls with the same choice of rules.

    Parameters
    ----------
    network : Network
        The network to explain.
    X : array-like, shape (batch, n_inputs)
        The input rows.
    target : int, str or array-like
        Output index (or name), or one per row; see :meth:`CompiledNetwork.explain`.
    rule : str or Rule, optional
        E.g. ``"gamma"``: replaces z⁺ above the input layer (see :func:`compiled`).
    parameters : dict, optional
        Rule parameters, e.g. ``{"gamma": 0.25}``.
    absorb_bias : bool
        Put ``b⁺`` in the denominators (relevance absorbed by positive biases).
    composite : Composite, optional
        Which rule each neuron uses (:mod:`symdtd.network.composites`), e.g.
        ``GammaAbove(0.25)``; default the paper's.

    Returns
    -------
    numpy.ndarray, shape (batch, n_inputs)
        The relevance ``[x_f]_p`` of every input for every row.

    Examples
    --------
    >>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
    >>> dtd(net, [[1.0, 0.25]], 0)          # positive inputs, z⁺: only w⁺ shares
    array([[1.5, 0. ]])
    """
    model = compiled(network, rule, parameters, composite=composite)
    return model.explain(X, target, absorb_bias=absorb_bias).relevance


def random_attribution(X: ArrayLike, seed: int = 0) -> np.ndarray:
    """Uniform random scores of the shape of *X*: a random flipping order (seeded).

    The baseline every attribution method should beat in :func:`pixel_flipping`.

    Parameters
    ----------
    X : array-like, shape (batch, n_inputs)
        The input rows; only their shape is used.
    seed : int, default 0
        Seed of the random generator, so the order is reproducible.

    Returns
    -------
    numpy.ndarray, shape (batch, n_inputs)
        Scores drawn uniformly from [0, 1).

    Examples
    --------
    >>> random_attribution(np.zeros((2, 3)), seed=1).shape
    (2, 3)
    """
    return np.random.default_rng(seed).random(np.shape(np.atleast_2d(X)))


def mean_ci(values: ArrayLike, confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Mean and the t confidence interval ``mean ± t·s/√n`` over the first axis.

    >>> m, (lo, hi) = mean_ci([1.0, 2.0, 3.0])
    >>> m, round(lo, 3), round(hi, 3)       # t(0.975, 2) = 4.303, s/√3 = 0.577
    (2.0, -0.484, 4.484)
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if len(v) < 2:
        return m, (math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return m, (m - half, m + half)


@dataclass
class FlipResult:
    """What :func:`pixel_flipping` measured.

    Attributes
    ----------
    curves : ndarray, shape (n_inputs, L + 1)
        ``f(x^(k))``, the explained output after ``k`` removal steps (``k = 0``: intact).
    removed : ndarray of int, shape (n_inputs, L + 1)
        Features removed after each step (patches at a ragged border are smaller).
    aopc_per_input : ndarray, shape (n_inputs,)
        ``1/(L+1) Σ_k (f(x) − f(x^(k)))``.
    aopc : float
        Mean over inputs.
    ci : tuple
        95 % t confidence interval of the mean.
    baseline : float or ndarray
    """

    curves: np.ndarray
    removed: np.ndarray
    aopc_per_input: np.ndarray
    aopc: float
    ci: tuple
    baseline: object

    def __str__(self):
        return f"AOPC {self.aopc:.4g} (95% CI {self.ci[0]:.4g} … {self.ci[1]:.4g}, n = {len(self.curves)})"


def check_patch(patch: object) -> tuple[int, int]:
    """The ``(height, width)`` of a pixel-flipping patch, checked.

    :func:`pixel_flipping` calls it; callers that do slow work before
    flipping (such as :func:`symdtd.real.comparison.evaluate_models`) call it
    first, so a bad *patch* fails at once.

    Parameters
    ----------
    patch : int or (int, int)
        One positive integer (a square patch) or a pair of them.

    Returns
    -------
    tuple of (int, int)
        The patch's height and width.

    Raises
    ------
    TypeError
        A size that is not an integer.
    ValueError
        A size below 1, or a sequence that is not a pair.

    Examples
    --------
    >>> check_patch(2), check_patch((2, 3))
    ((2, 2), (2, 3))
    >>> check_patch((1, 2, 3))
    Traceback (most recent call last):
    ...
    ValueError: patch must be an integer or a pair of integers, got (1, 2, 3)
    """
    if isinstance(patch, (tuple, list)) and len(patch) == 2:
        return tuple(check_positive_int(p, "patch") for p in patch)
    if isinstance(patch, (tuple, list)):
        raise ValueError(f"patch must be an integer or a pair of integers, got {patch!r}")
    size = check_positive_int(patch, "patch")
    return size, size


def _patches(n_features, patch, shape):
    """Groups of feature indices: single features, or tiles of *patch* over *shape*."""
    if patch is None:
        return [np.array([p]) for p in range(n_features)]
    shape = shape or (math.isqrt(n_features),) * 2
    if math.prod(shape) != n_features:
        raise ValueError(f"shape {tuple(shape)} does not hold {n_features} features")
    ph, pw = check_patch(patch)
    if ph > shape[0] or pw > shape[1]:
        raise ValueError(f"patch {ph}x{pw} is larger than the {shape[0]}x{shape[1]} image; "
                         f"use at most {shape[0]}x{shape[1]}")
    grid = np.arange(n_features).reshape(shape)
    return [grid[i:i + ph, j:j + pw].ravel()
            for i in range(0, shape[0], ph) for j in range(0, shape[1], pw)]


def pixel_flipping(model: object, X: ArrayLike, relevance: ArrayLike, target: int | ArrayLike, *,
                   baseline: float | ArrayLike = 0.0, patch: int | tuple[int, int] | None = None,
                   shape: tuple[int, int] | None = None, steps: int | None = None,
                   confidence: float = 0.95) -> FlipResult:
    """Remove features in order of decreasing relevance; record the explained output.

    Parameters
    ----------
    model : Network, CompiledNetwork or callable
        Its ``forward`` (or the callable) maps ``(batch, n_inputs)`` to outputs.
    X : array-like, shape (n, n_inputs)
        The intact inputs.
    relevance : array-like, shape (n, n_inputs)
        Scores; the highest is removed first (ties: the lower index first).
    target : int or array-like of int
        The output followed, one index or one per row.
    baseline : float or array-like, shape (n_inputs,)
        The value a removed feature takes. Default 0: for the shipped
        digits the lower bound of the pixel box, the blank background.
    patch : int or (int, int), optional
        Remove tiles of this size of the image *shape* at once (patch
        relevance: the sum over the tile).
    shape : tuple, optional
        Image shape for *patch* (default: square).
    steps : int, optional
        Number of removal steps ``L`` (default: all features or patches).
    confidence : float, default 0.95
        Level of the t confidence interval of the AOPC.

    Returns
    -------
    FlipResult
        The output curves, the features removed per step and the AOPC with
        its confidence interval.

    Raises
    ------
    ValueError
        Shapes that do not match, a *patch* or *shape* that does not tile
        the inputs, or *steps* outside ``1..`` the number of features or patches.

    Examples
    --------
    >>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
    >>> result = pixel_flipping(net, [[1.0, 0.25]], [[2.0, 1.0]], 0)
    >>> result.curves, float(result.aopc)
    (array([[1.5, 0. , 0. ]]), 1.0)
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    R = np.atleast_2d(np.asarray(relevance, dtype=np.float64))
    if R.shape != X.shape:
        raise ValueError(f"relevance has shape {R.shape}, X has {X.shape}")
    n, d = X.shape
    target = np.broadcast_to(np.asarray(target), (n,)).astype(np.int64)
    base = np.broadcast_to(np.asarray(baseline, dtype=np.float64), (d,))
    groups = _patches(d, patch, shape)
    L = len(groups) if steps is None else check_positive_int(steps, "steps")
    if not 0 < L <= len(groups):
        raise ValueError(f"steps must be in 1..{len(groups)}, got {steps!r}")
    scores = np.stack([R[:, g].sum(axis=1) for g in groups], axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :L]
    member = np.zeros((len(groups), d), dtype=bool)
    for k, g in enumerate(groups):
        member[k, g] = True
    # mask[i, k]: features removed from input i after k steps (cumulative)
    mask = np.concatenate([np.zeros((n, 1, d), bool),
                           np.cumsum(member[order], axis=1) > 0], axis=1)
    forward = _forward_fn(model)
    curves = np.empty((n, L + 1))
    chunk = max(1, 4096 // (L + 1))  # ~4096 rows per forward call: cache-friendly
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        Xk = np.where(mask[rows], base, X[rows, None, :]).reshape(-1, d)
        out = np.asarray(forward(Xk), dtype=np.float64).reshape(len(Xk), -1)
        out = out.reshape(-1, L + 1, out.shape[1])
        curves[rows] = out[np.arange(len(out)), :, target[rows]]
    per_input = (curves[:, :1] - curves).mean(axis=1)
    m, ci = mean_ci(per_input, confidence)
    removed = mask.sum(axis=2)
    return FlipResult(curves, removed, per_input, m, ci, baseline)
