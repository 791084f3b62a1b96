"""Gradients of a network's output, batched: the gradient-based attribution baselines.

:func:`gradient` gives ``∂x_f/∂x_p`` from one batched forward and backward
pass over the generations :meth:`Network.layers
<symdtd.network.graph.Network.layers>` defines (ReLU gate ``1[z > 0]``, the
first of the largest inputs for max-pooling, as :meth:`Network.forward
<symdtd.network.graph.Network.forward>`). :func:`sensitivity` and
:func:`gradient_x_input` are the baselines deep Taylor decomposition is
compared with (:mod:`symdtd.real.evaluate`).

Examples
--------
>>> from symdtd import Network
>>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])   # y = 3·max(0, x1 − 2 x2)
>>> gradient(net, [[1.0, 0.25]], 0), sensitivity(net, [[1.0, 0.25]], 0)
(array([[ 3., -6.]]), array([[ 9., 36.]]))
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..network.graph import Network
from ..network.kind_registry import kind_named
from .cache import per_network

__all__ = ["gradient", "sensitivity", "gradient_x_input", "GradientPlan"]


class GradientPlan:
    """Sparse matrices per generation for a batched forward and backward pass.

    Built once per network (see :func:`gradient`, which caches it) and run on
    any batch of inputs.

    Parameters
    ----------
    network : Network
        The network; its weights and biases are read as float64.

    Examples
    --------
    >>> from symdtd import Network
    >>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
    >>> outputs, grad = GradientPlan(net).run(np.array([[1.0, 0.25]]), np.array([0]))
    >>> outputs, grad
    (array([[1.5]]), array([[ 3., -6.]]))
    """

    def __init__(self, network: Network):
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

    def run(self, X: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outputs ``(batch, n_outputs)`` and ``∂x_f/∂x`` for ``x_f`` = output *target* per row.

        *X* is a float64 array ``(batch, n_inputs)`` and *target* an integer
        array of output indices, one per row.
        """
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
    plan = per_network(network, "gradient", lambda: GradientPlan(network))
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
