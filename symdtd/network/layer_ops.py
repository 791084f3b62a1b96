"""Array kernels of layer nodes: convolution, window sums and maxima, and their transposes.

This module is the NumPy backend of the layer-level pass: the layers and
:mod:`symdtd.compiler.layer_pass` call these functions through an ``ops``
namespace, which is this module or a
:class:`~symdtd.compiler.layer_torch.TorchOps` (the same names on tensors).
Besides the maps, it has the few array steps the pass needs (conversion,
``relu``, row sums, the guarded division, concatenation and its split).

Pure NumPy, batched, no per-neuron Python loops: a convolution is im2col (a
strided view of the padded input's receptive fields, copied in chunks of
rows) times the kernel matrix, and its transpose multiplies by the kernel
matrix and adds the columns back with one strided slice per kernel offset. Window sums and
maxima work on an :func:`numpy.lib.stride_tricks.as_strided` view of the
padded input. Arrays are ``(batch, C, H, W)``.

The transposed maps are the adjoints of the forward ones,
``⟨T x, y⟩ = ⟨x, Tᵀ y⟩``: they are what relevance propagation runs backwards.

Examples
--------
>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> conv2d(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0]
array([[10., 18.],
       [42., 50.]])
>>> window_sum(x, (2, 2), (2, 2), (0, 0))[0, 0]
array([[10., 18.],
       [42., 50.]])
>>> conv2d_t(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), (4, 4), stride=2)[0, 0]
array([[1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.]])
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["BACKEND", "pair", "conv_geometry", "transpose_padding", "output_size", "dense", "dense_t",
           "conv2d", "conv2d_t", "window_sum", "window_sum_t", "window_argmax", "scatter_winners",
           "adaptive_matrix", "float_dtype", "adaptive_sum", "adaptive_sum_t", "local_response_norm", "asarray",
           "constant", "numpy", "zeros_like", "relu", "relu_", "row_sum", "safe_divide", "lost", "take",
           "one_hot", "cat", "split"]

#: the backend these functions are (``TorchOps.BACKEND`` is ``"torch"``)
BACKEND = "numpy"


def pair(value, what, minimum=0):
    """``(a, b)`` from an int or a pair of ints, each ≥ *minimum*.

    >>> pair(2, "stride"), pair((1, 3), "padding")
    ((2, 2), (1, 3))
    """
    items = (value, value) if np.isscalar(value) else tuple(value)
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and v >= minimum for v in items):
        raise ValueError(f"{what} must be an int ≥ {minimum} or a pair of them, got {value!r}")
    return int(items[0]), int(items[1])


def float_dtype(dtype):
    """The NumPy float type of a NumPy or torch dtype (``torch.float32`` → ``float32``).

    >>> float_dtype("float32"), float_dtype(np.float64)
    (dtype('float32'), dtype('float64'))
    """
    text = str(dtype)
    return np.dtype(text.removeprefix("torch.") if text.startswith("torch.") else dtype)


def conv_geometry(stride, padding, dilation):
    """``(stride, padding, dilation)`` of a convolution, each checked as a pair.

    >>> conv_geometry(2, (1, 0), 1)
    ((2, 2), (1, 0), (1, 1))
    """
    return pair(stride, "stride", 1), pair(padding, "padding"), pair(dilation, "dilation", 1)


def transpose_padding(input_hw, kernel, stride, padding, dilation):
    """``(output_padding, missing)`` of a transposed convolution giving back *input_hw*.

    A transposed convolution's output padding must be smaller than the stride
    or the dilation; the rows and columns beyond it, which the forward never
    read (they get no relevance), are *missing* and padded with zeros.

    >>> transpose_padding((5, 5), (2, 2), (2, 2), (0, 0), (1, 1))   # the 5th row is never read
    ((1, 1), (0, 0))
    >>> transpose_padding((7, 7), (1, 1), (3, 3), (0, 0), (1, 1))
    ((0, 0), (0, 0))
    """
    extra = tuple(size - (output_size(size, k, st, p, d) - 1) * st + 2 * p - d * (k - 1) - 1
                  for size, k, st, p, d in zip(input_hw, kernel, stride, padding, dilation))
    out_pad = tuple(min(e, max(st, d) - 1) for e, st, d in zip(extra, stride, dilation))
    return out_pad, tuple(e - o for e, o in zip(extra, out_pad))


def output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """Output length along one axis (PyTorch's floor rule, or its ``ceil_mode`` rule).

    With ``ceil_mode`` a last, partial window is added when the windows do not
    cover the padded input, as long as it starts inside the input or its left
    padding (PyTorch's pooling).

    >>> output_size(28, 5, 1, 0), output_size(8, 3, 2, 1), output_size(7, 3, 1, 0, dilation=2)
    (24, 4, 3)
    >>> output_size(112, 3, 2, 0), output_size(112, 3, 2, 0, ceil_mode=True)
    (55, 56)
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= size + padding else out


def dense(x, weight, bias=None):
    """``x @ weight.T (+ bias)``: a fully connected map, *weight* of shape ``(n_out, n_in)``."""
    out = x @ weight.T
    return out if bias is None else out + bias.astype(out.dtype)


def dense_t(s, weight):
    """``s @ weight``: the transpose of :func:`dense`."""
    return s @ weight


def _offsets(kernel, stride, dilation, out_hw):
    """The strided slices of the padded input seen by each kernel offset ``(p, q)``."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    for p in range(kh):
        for q in range(kw):
            yield p, q, (slice(p * dh, p * dh + sh * (Ho - 1) + 1, sh),
                         slice(q * dw, q * dw + sw * (Wo - 1) + 1, sw))


#: entries of the im2col buffer built at a time (rows of the batch are taken in chunks)
IM2COL_ENTRIES = 2 ** 22


def _patches(xp, kernel, stride, dilation, out_hw):
    """``(B, Ho, Wo, C, kh, kw)`` strided view of the padded input's receptive fields."""
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    B, C = xp.shape[:2]
    b, c, r, t = xp.strides
    return as_strided(xp, (B, Ho, Wo, C, kh, kw), (b, r * sh, t * sw, c, r * dh, t * dw),
                      writeable=False)


def _rows(batch, per_row):
    step = max(1, IM2COL_ENTRIES // max(1, per_row))
    return [slice(k, k + step) for k in range(0, batch, step)]


def conv2d(x, weight, stride=1, padding=0, dilation=1, groups=1, bias=None):
    """Cross-correlation as PyTorch's ``conv2d`` computes it (no bias).

    im2col in chunks of rows: each chunk's receptive fields (a strided view of
    the zero-padded input, copied into a ``(rows·Ho·Wo, C_in/G·kh·kw)`` matrix)
    times the kernel matrix, one product per group.

    Parameters
    ----------
    x : ndarray, shape (batch, C_in, H, W)
    weight : ndarray, shape (C_out, C_in // groups, kh, kw)
    stride, padding, dilation : int or pair
    groups : int
    bias : ndarray, shape (C_out,), optional
        Added to each output channel.

    Returns
    -------
    ndarray, shape (batch, C_out, Ho, Wo)
    """
    (sh, sw), (ph, pw), (dh, dw) = conv_geometry(stride, padding, dilation)
    B, C, H, W = x.shape
    C_out, Cg, kh, kw = weight.shape
    Ho, Wo = output_size(H, kh, sh, ph, dh), output_size(W, kw, sw, pw, dw)
    xp = np.zeros((B, C, H + 2 * ph, W + 2 * pw), dtype=np.result_type(x, weight))
    xp[:, :, ph:ph + H, pw:pw + W] = x
    out = np.empty((B, Ho, Wo, C_out), dtype=xp.dtype)
    per_group = C_out // groups
    for rows in _rows(B, Ho * Wo * C * kh * kw):
        view = _patches(xp[rows], (kh, kw), (sh, sw), (dh, dw), (Ho, Wo))
        n = view.shape[0] * Ho * Wo
        for g in range(groups):
            cols = view[:, :, :, g * Cg:(g + 1) * Cg].reshape(n, Cg * kh * kw)
            wg = weight[g * per_group:(g + 1) * per_group].reshape(per_group, -1)
            out[rows, :, :, g * per_group:(g + 1) * per_group] = (cols @ wg.T).reshape(
                -1, Ho, Wo, per_group)
    out = out.transpose(0, 3, 1, 2)
    return out if bias is None else out + bias.reshape(-1, 1, 1).astype(out.dtype)


def conv2d_t(s, weight, input_hw, stride=1, padding=0, dilation=1, groups=1):
    """The transpose (adjoint) of :func:`conv2d`: a transposed convolution.

    One matrix product ``S @ W[:, :, p, q]`` per kernel offset (channels last),
    added into the strided slice of the padded input that offset read.

    Parameters
    ----------
    s : ndarray, shape (batch, C_out, Ho, Wo)
    weight : ndarray, shape (C_out, C_in // groups, kh, kw)
    input_hw : pair of int
        ``(H, W)`` of the forward input (the output padding follows from it).

    Returns
    -------
    ndarray, shape (batch, C_in, H, W)
    """
    (sh, sw), (ph, pw), (dh, dw) = conv_geometry(stride, padding, dilation)
    B, C_out, Ho, Wo = s.shape
    _, Cg, kh, kw = weight.shape
    H, W = input_hw
    sc = s.transpose(0, 2, 3, 1)
    grad = np.zeros((B, H + 2 * ph, W + 2 * pw, Cg * groups), dtype=np.result_type(s, weight))
    for p, q, (rows, cols) in _offsets((kh, kw), (sh, sw), (dh, dw), (Ho, Wo)):
        if groups == 1:
            grad[:, rows, cols, :] += sc @ weight[:, :, p, q]
        else:
            wg = weight[:, :, p, q].reshape(groups, C_out // groups, Cg)
            part = np.einsum("bhwgo,goc->bhwgc", sc.reshape(B, Ho, Wo, groups, C_out // groups), wg)
            grad[:, rows, cols, :] += part.reshape(B, Ho, Wo, groups * Cg)
    return grad[:, ph:ph + H, pw:pw + W, :].transpose(0, 3, 1, 2)


def _windows(x, kernel, stride, padding, fill, ceil_mode=False):
    """A ``(batch, C, Ho, Wo, kh·kw)`` array of the windows (padded with *fill*; partial
    windows at the bottom and right with ``ceil_mode``)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    B, C, H, W = x.shape
    Ho, Wo = output_size(H, kh, sh, ph, ceil_mode=ceil_mode), output_size(W, kw, sw, pw, ceil_mode=ceil_mode)
    xp = np.full((B, C, max(H + 2 * ph, (Ho - 1) * sh + kh), max(W + 2 * pw, (Wo - 1) * sw + kw)), fill,
                 dtype=x.dtype)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    b, c, r, t = xp.strides
    view = as_strided(xp, (B, C, Ho, Wo, kh, kw), (b, c, r * sh, t * sw, r, t), writeable=False)
    return view.reshape(B, C, Ho, Wo, kh * kw)


def window_sum(x, kernel, stride, padding, ceil_mode=False):
    """``Σ`` over each pooling window (zero padding): ``(batch, C, Ho, Wo)``."""
    return _windows(x, kernel, stride, padding, 0.0, ceil_mode).sum(axis=-1)


def window_sum_t(s, input_hw, kernel, stride, padding, ceil_mode=False):
    """The transpose of :func:`window_sum`: each window's value added back to its cells.

    *ceil_mode* is read from the shape of *s* (accepted for the backends' common signature).
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    B, C, Ho, Wo = s.shape
    H, W = input_hw
    grad = np.zeros((B, C, max(H + 2 * ph, (Ho - 1) * sh + kh), max(W + 2 * pw, (Wo - 1) * sw + kw)),
                    dtype=s.dtype)
    for p in range(kh):  # one slice-add per window offset
        for q in range(kw):
            grad[:, :, p:p + sh * (Ho - 1) + 1:sh, q:q + sw * (Wo - 1) + 1:sw] += s
    return grad[:, :, ph:ph + H, pw:pw + W]


def window_argmax(x, kernel, stride, padding, ceil_mode=False):
    """Each window's maximum and the flat index (into one ``H×W`` image) of its first maximiser.

    Padded cells are ``-inf``, so they never win; ties go to the first cell in
    row-major order, as the neuron-level max-pooling neurons list their inputs.
    """
    kw, (sh, sw), (ph, pw) = kernel[1], stride, padding
    B, C, H, W = x.shape
    V = _windows(x, kernel, stride, padding, -np.inf, ceil_mode)
    slot = V.argmax(axis=-1)
    value = np.take_along_axis(V, slot[..., None], axis=-1)[..., 0]
    Ho, Wo = slot.shape[2:]
    r = np.arange(Ho)[:, None] * sh - ph + slot // kw
    c = np.arange(Wo)[None, :] * sw - pw + slot % kw
    return value, r * W + c


def scatter_winners(values, winners, input_hw):
    """Add each window's *values* onto its winning cell: the winner-take-all backward map."""
    B, C, Ho, Wo = values.shape
    H, W = input_hw
    plane = (np.arange(B * C) * (H * W)).reshape(B, C, 1, 1)
    flat = np.bincount((winners + plane).ravel(), values.ravel(), B * C * H * W)
    return flat.reshape(B, C, H, W).astype(values.dtype)


def adaptive_matrix(size, out):
    """0/1 matrix ``(out, size)`` of adaptive pooling's windows along one axis (PyTorch's).

    Window ``i`` covers ``floor(i·size/out) ≤ r < ceil((i+1)·size/out)``.

    >>> adaptive_matrix(5, 3).astype(int).tolist()
    [[1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1]]
    """
    i = np.arange(out)[:, None]
    r = np.arange(size)[None, :]
    start, stop = (i * size) // out, -((-(i + 1) * size) // out)
    return ((r >= start) & (r < stop)).astype(float)


def adaptive_sum(x, Ah, Aw):
    """``Ah · x · Awᵀ`` on each image: the window sums of adaptive pooling (:func:`adaptive_matrix`)."""
    return np.einsum("ir,bcrs,js->bcij", Ah.astype(x.dtype), x, Aw.astype(x.dtype), optimize=True)


def adaptive_sum_t(s, Ah, Aw):
    """The transpose of :func:`adaptive_sum`: ``Ahᵀ · s · Aw``."""
    return np.einsum("ir,bcij,js->bcrs", Ah.astype(s.dtype), s, Aw.astype(s.dtype), optimize=True)


def local_response_norm(x, size, alpha, beta, k):
    """``a / (k + α/n · Σ_window a²)^β`` across channels, as ``torch.nn.functional.local_response_norm``.

    >>> local_response_norm(np.array([1.0, 2.0, 1.0]).reshape(1, 3, 1, 1), 3, 3.0, 1.0, 1.0).ravel()
    array([0.16666667, 0.28571429, 0.16666667])
    """
    B, C, H, W = x.shape
    before, after = size // 2, (size - 1) // 2
    padded = np.zeros((B, C + before + after, H, W), dtype=x.dtype)
    padded[:, before:before + C] = x * x
    total = padded[:, 0:C].copy()
    for j in range(1, size):
        total += padded[:, j:j + C]
    dt = x.dtype.type
    return x / (dt(k) + dt(alpha / size) * total) ** dt(beta)


# ------------------------------------------------------------------- the pass's array steps
def asarray(a, dtype=None):
    """*a* as an array (of *dtype* if given)."""
    return np.asarray(a, dtype)


def constant(a, dtype):
    """A constant array (weights, biases, masks) in *dtype*."""
    return np.asarray(a, dtype)


def numpy(a):
    """*a* as a NumPy array (the identity here)."""
    return np.asarray(a)


def zeros_like(a):
    return np.zeros_like(a)


def relu(z):
    """``max(0, z)``."""
    return np.maximum(z, 0)


def relu_(z):
    """``max(0, z)`` written into *z*."""
    return np.maximum(z, 0, out=z)


def row_sum(a):
    """Each row's sum, in float64."""
    return a.reshape(len(a), -1).sum(axis=1, dtype=float)


def safe_divide(R, Z, zero):
    """``R / Z`` where not *zero*, else 0.

    >>> safe_divide(np.array([1.0, 2.0]), np.array([2.0, 0.0]), np.array([False, True]))
    array([0.5, 0. ])
    """
    return np.divide(R, Z, out=np.zeros(R.shape, R.dtype), where=~zero)


def lost(R, zero):
    """Each row's relevance on zero denominators (*zero* true), float64."""
    return row_sum(np.where(zero, R, 0))


def take(A, t):
    """``A[b, t[b]]`` of the flattened rows."""
    return A.reshape(len(A), -1)[np.arange(len(A)), t]


def one_hot(A, t, values):
    """Zeros shaped as *A* with *values* at ``[b, t[b]]`` of the flattened rows."""
    R = np.zeros(A.shape, A.dtype)
    R.reshape(len(A), -1)[np.arange(len(A)), t] = values
    return R


def cat(parts):
    """Concatenation along the channel axis."""
    return np.concatenate(parts, axis=1)


def split(a, sizes):
    """*a* split along the channel axis into pieces of *sizes* channels."""
    return np.split(a, np.cumsum(sizes)[:-1], axis=1)
