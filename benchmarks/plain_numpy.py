"""The reference the compiled path is timed against: DTD written by hand in NumPy.

This is what a person writes straight from the formulas (the rules table of docs/maths.md, and
the LRP tutorial's style): a forward pass with matrix products, then the
backward pass layer by layer — zᴮ on the first layer, z⁺ above. The clipped
weight matrices ``W⁺``, ``W⁻`` are prepared once, outside the timed call.
Nothing here is generated or derived; it is independent of symdtd.

    zᴮ:  Z = X @ W − l @ W⁺ − h @ W⁻,   S = R / Z,
         R_in = X * (S @ W.T) − l * (S @ W⁺.T) − h * (S @ W⁻.T)
    z⁺:  Z = A @ W⁺,   S = R / Z,   R_in = A * (S @ W⁺.T)

Zero denominators give 0 (``S = 0`` where ``Z = 0``). Each object copies the
weights it is given, so that two implementations timed one after the other never
share arrays: otherwise the second finds the first's weights in the cache (a batch
of one row is bound by reading them), and its time says nothing about its code.
"""
import numpy as np


def _divide(R, Z):
    return np.divide(R, Z, out=np.zeros_like(Z), where=Z != 0)


class PlainMLP:
    """A ReLU MLP (linear last layer) explained with zᴮ at the input and z⁺ above."""

    def __init__(self, weights, biases, low, high, dtype=np.float64):
        self.W = [np.array(W, dtype) for W in weights]   # copies (see the module's note)
        self.b = [np.array(b, dtype) for b in biases]
        self.Wp = [np.maximum(W, 0) for W in self.W]
        self.Wn = np.minimum(self.W[0], 0)
        n = self.W[0].shape[0]
        self.l = np.broadcast_to(np.asarray(low, dtype), (n,))
        self.h = np.broadcast_to(np.asarray(high, dtype), (n,))

    def forward(self, X):
        """Activations of every layer, input first."""
        A = [X]
        for k, (W, b) in enumerate(zip(self.W, self.b)):
            z = A[-1] @ W + b
            A.append(np.maximum(z, 0) if k < len(self.W) - 1 else z)
        return A

    def explain(self, X, target):
        """Relevance of the inputs for output ``target`` (one index per row)."""
        A = self.forward(X)
        rows = np.arange(len(X))
        R = np.zeros_like(A[-1])
        R[rows, target] = A[-1][rows, target]
        for k in range(len(self.W) - 1, 0, -1):
            S = _divide(R, A[k] @ self.Wp[k])
            R = A[k] * (S @ self.Wp[k].T)
        W, Wp, Wn, l, h = self.W[0], self.Wp[0], self.Wn, self.l, self.h
        S = _divide(R, X @ W - l @ Wp - h @ Wn)
        return X * (S @ W.T) - l * (S @ Wp.T) - h * (S @ Wn.T)


class PlainSkipDAG:
    """The benchmark's skip-connection DAG, by hand, with dense skip matrices.

    ``h1 = relu(X W1 + b1)``, ``h2 = relu(h1 W2 + X K2 + b2)``,
    ``y = h2 W3 + h1 K3 + b3``. ``h1`` uses zᴮ (box inputs); ``h2`` has box
    inputs among its inputs, so it uses zᴮ too, where a ReLU input acts as
    the box ``[0, h1]`` (its term is then the z⁺ term ``h1 · W2⁺``); ``y``
    has only ReLU inputs and uses z⁺. Absent skip edges are zeros in ``K``.
    """

    def __init__(self, W1, b1, W2, K2, b2, W3, K3, b3, low, high, dtype=np.float64):
        c = lambda a: np.array(a, dtype)  # noqa: E731  (copies, see the module's note)
        self.W1, self.b1, self.W2, self.K2 = c(W1), c(b1), c(W2), c(K2)
        self.b2, self.W3, self.K3, self.b3 = c(b2), c(W3), c(K3), c(b3)
        self.W1p, self.W1n = np.maximum(self.W1, 0), np.minimum(self.W1, 0)
        self.K2p, self.K2n = np.maximum(self.K2, 0), np.minimum(self.K2, 0)
        self.W2p, self.W3p, self.K3p = (np.maximum(M, 0) for M in (self.W2, self.W3, self.K3))
        n = self.W1.shape[0]
        self.l = np.broadcast_to(c(low), (n,))
        self.h = np.broadcast_to(c(high), (n,))

    def forward(self, X):
        h1 = np.maximum(X @ self.W1 + self.b1, 0)
        h2 = np.maximum(h1 @ self.W2 + X @ self.K2 + self.b2, 0)
        return h1, h2, h2 @ self.W3 + h1 @ self.K3 + self.b3

    def explain(self, X, target):
        h1, h2, y = self.forward(X)
        l, h = self.l, self.h
        rows = np.arange(len(X))
        R = np.zeros_like(y)
        R[rows, target] = y[rows, target]
        S = _divide(R, h2 @ self.W3p + h1 @ self.K3p)                     # y: z+
        R2 = h2 * (S @ self.W3p.T)
        R1 = h1 * (S @ self.K3p.T)
        Z = h1 @ self.W2p + X @ self.K2 - l @ self.K2p - h @ self.K2n     # h2: zB
        S = _divide(R2, Z)
        R1 += h1 * (S @ self.W2p.T)
        R0 = X * (S @ self.K2.T) - l * (S @ self.K2p.T) - h * (S @ self.K2n.T)
        S = _divide(R1, X @ self.W1 - l @ self.W1p - h @ self.W1n)        # h1: zB
        return R0 + X * (S @ self.W1.T) - l * (S @ self.W1p.T) - h * (S @ self.W1n.T)


class TunedMLP(PlainMLP):
    """:class:`PlainMLP` with two hand optimisations of the zᴮ layer.

    ``X @ W`` is the forward pass's pre-activation (reused), and the bound
    terms fold into one matrix ``C = −l·W⁺ − h·W⁻``:
    ``Z = (z − b) + Σ_i C_ij``, ``R_in = X * (S @ W.T) + S @ C.T``.
    The compiled path finds the same two savings itself, from the derived
    formula; this is the stricter comparison.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.C = -(self.l[:, None] * self.Wp[0] + self.h[:, None] * self.Wn)
        self.c = self.C.sum(axis=0)

    def explain(self, X, target):
        rows = np.arange(len(X))
        P = X @ self.W[0]
        A = [X, np.maximum(P + self.b[0], 0)]
        for W, b in zip(self.W[1:-1], self.b[1:-1]):
            A.append(np.maximum(A[-1] @ W + b, 0))
        y = A[-1] @ self.W[-1] + self.b[-1]
        R = np.zeros_like(y)
        R[rows, target] = y[rows, target]
        for k in range(len(self.W) - 1, 0, -1):
            S = _divide(R, A[k] @ self.Wp[k])
            R = A[k] * (S @ self.Wp[k].T)
        S = _divide(R, P + self.c)
        return X * (S @ self.W[0].T) + S @ self.C.T
