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

The gradient comes from one batched backward pass over the same
generations :meth:`Network.layers` defines (ReLU gate ``1[z > 0]``, the
first of the largest inputs for max-pooling, as :meth:`Network.forward`).

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
import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..core.numbers import check_positive_int
from ..core.rules import Rule
from ..network.composites import Composite
from ..network.graph import Network
from ..network.kind_registry import kind_named

__all__ = ["dtd", "gradient", "sensitivity", "gradient_x_input", "random_attribution",
           "pixel_flipping", "FlipResult", "mean_ci", "compiled", "check_patch"]

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(network, key, build):
    """One compiled object per (network, key), rebuilt when the network changes.

    Changes through :class:`Network` methods and direct edits of
    ``network.graph`` alike are seen (:meth:`Network._sync` bumps the version).
    """
    entry = _CACHE.setdefault(network, {})
    sync = getattr(network, "_sync", None)
    version = sync() if sync is not None else None
    if key not in entry or entry[key][0] != version:
        entry[key] = (version, build())
    return entry[key][1]


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
    return _cached(network, ("compiled", composite),
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


class _GradientPlan:
    """Sparse matrices per generation for a batched forward and backward pass."""

    def __init__(self, network):
        import scipy.sparse as sps

        G = network.graph
        self.layers = network.layers()
        pos = {n: (g, c) for g, names in enumerate(self.layers) for c, n in enumerate(names)}
        self.sizes = [len(names) for names in self.layers]
        self.out = [pos[o] for o in network.outputs]
        self.gens = []
        for g, names in enumerate(self.layers[1:], start=1):
            kinds = [kind_named(G.nodes[n]["kind"]) for n in names]
            bias = np.array([float(G.nodes[n]["bias"]) for n in names])
            mats, pools, groups = {}, [], {}
            for c, n in enumerate(names):
                if kinds[c].selects:  # predecessor order: ties go to the first
                    pools.append((c, kinds[c], [pos[p] for p in G.pred[n]]))
                    continue
                groups.setdefault(kinds[c].name, (kinds[c], []))[1].append(c)
                for p, edge in G.pred[n].items():
                    mats.setdefault(pos[p][0], []).append((pos[p][1], c, float(edge["weight"])))
            mats = {s: sps.csr_array(([e[2] for e in entries], ([e[0] for e in entries],
                                                               [e[1] for e in entries])),
                                     shape=(self.sizes[s], len(names)))
                    for s, entries in mats.items()}
            activations = [(kind, np.array(cols)) for kind, cols in groups.values() if not kind.identity]
            self.gens.append((g, activations, bias, mats, pools))

    def run(self, X, target):
        """Outputs ``(batch, n_outputs)`` and ``∂x_f/∂x`` for ``x_f`` = output *target* per row."""
        A = [X]
        gates, winners = [], []
        for g, activations, bias, mats, pools in self.gens:  # noqa: B007 (g names the generation)
            Z = np.tile(bias, (len(X), 1))
            for s, M in mats.items():
                Z += (M.T @ A[s].T).T
            gate = np.ones(Z.shape)  # ∂x/∂z (x = z kinds: 1; selecting neurons: routed below)
            for kind, cols in activations:  # one call per kind, not per neuron
                gate[:, cols] = kind.slope_batch(Z[:, cols])
                Z[:, cols] = kind.activate_batch(Z[:, cols])
            gates.append(gate)
            won = []
            for c, kind, preds in pools:
                values = np.stack([A[s][:, k] for s, k in preds], axis=1)
                k = kind.choose_batch(values)
                Z[:, c] = values[np.arange(len(X)), k]
                won.append((c, preds, k))
            winners.append(won)
            A.append(Z)
        out = np.stack([A[s][:, c] for s, c in self.out], axis=1)
        D = [np.zeros((len(X), n)) for n in self.sizes]
        rows = np.arange(len(X))
        for k, (s, c) in enumerate(self.out):
            D[s][rows[target == k], c] = 1.0
        for (g, _, _, mats, _), gate, won in zip(self.gens[::-1], gates[::-1],
                                                             winners[::-1]):
            delta = D[g] * gate
            for c, preds, k in won:
                for j, (s, i) in enumerate(preds):
                    D[s][:, i] += np.where(k == j, delta[:, c], 0.0)
                delta[:, c] = 0.0
            for s, M in mats.items():
                D[s] += (M @ delta.T).T
        return out, D[0]


def _target_rows(network, target, batch):
    outputs = network.outputs
    arr = np.asarray(target)
    if arr.dtype.kind in "UO":
        index = {o: k for k, o in enumerate(outputs)}
        if not all(t in index for t in np.atleast_1d(arr).tolist()):
            raise ValueError(f"target: {target!r} is not an output; outputs are {outputs}")
        arr = np.vectorize(index.get, otypes=[np.int64])(arr)
    arr = np.broadcast_to(arr, (batch,)).astype(np.int64)
    if ((arr < 0) | (arr >= len(outputs))).any():
        raise ValueError(f"target: index out of range 0..{len(outputs) - 1}")
    return arr


def gradient(network: Network, X: ArrayLike, target: int | str | ArrayLike) -> np.ndarray:
    """The gradient ``∂x_f/∂x_p`` of one output with respect to every input, row by row.

    One batched forward and backward pass over the network's generations
    (the plan is built once per network and cached). A ReLU has derivative 0
    at ``z = 0``; a max-pooling neuron passes the gradient to the first of
    its largest inputs.

    Parameters
    ----------
    network : Network
        The network, evaluated in float64.
    X : array-like, shape (batch, n_inputs)
        The input rows (one row may be given as a 1-D array).
    target : int, str or array-like
        The output ``x_f`` to differentiate: its index in ``network.outputs``,
        its name, or one index or name per row.

    Returns
    -------
    numpy.ndarray, shape (batch, n_inputs)
        ``∂x_f/∂x_p`` for every row and input (float64).

    Raises
    ------
    ValueError
        *X* of the wrong width, or a *target* that is not an output.

    Examples
    --------
    >>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
    >>> gradient(net, [[1.0, 0.25], [0.0, 1.0]], 0)   # inactive in the second row
    array([[ 3., -6.],
           [ 0.,  0.]])
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if X.shape[1:] != (len(network.inputs),):
        raise ValueError(f"X must have shape (batch, {len(network.inputs)}), got {X.shape}")
    plan = _cached(network, "gradient", lambda: _GradientPlan(network))
    return plan.run(X, _target_rows(network, target, len(X)))[1]


def sensitivity(network: Network, X: ArrayLike, target: int | str | ArrayLike) -> np.ndarray:
    """Sensitivity analysis: the squared gradient ``(∂x_f/∂x_p)²``.

    It says how much the output would change if an input moved, not how
    much the input contributes: a baseline for :func:`pixel_flipping`.

    Parameters
    ----------
    network : Network
        The network, evaluated in float64.
    X : array-like, shape (batch, n_inputs)
        The input rows.
    target : int, str or array-like
        The output followed: an index, a name, or one per row (as for :func:`gradient`).

    Returns
    -------
    numpy.ndarray, shape (batch, n_inputs)
        ``(∂x_f/∂x_p)²`` for every row and input.

    Examples
    --------
    >>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
    >>> sensitivity(net, [[1.0, 0.25]], 0)
    array([[ 9., 36.]])
    """
    return gradient(network, X, target) ** 2


def gradient_x_input(network: Network, X: ArrayLike, target: int | str | ArrayLike) -> np.ndarray:
    """Gradient × input: ``x_p · ∂x_f/∂x_p``.

    For a ReLU network without biases the scores add up to the output.

    Parameters
    ----------
    network : Network
        The network, evaluated in float64.
    X : array-like, shape (batch, n_inputs)
        The input rows.
    target : int, str or array-like
        The output followed: an index, a name, or one per row (as for :func:`gradient`).

    Returns
    -------
    numpy.ndarray, shape (batch, n_inputs)
        ``x_p · ∂x_f/∂x_p`` for every row and input.

    Examples
    --------
    >>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
    >>> gradient_x_input(net, [[1.0, 0.25]], 0)       # sums to the output 1.5
    array([[ 3. , -1.5]])
    """
    return np.atleast_2d(np.asarray(X, dtype=float)) * gradient(network, X, target)


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
