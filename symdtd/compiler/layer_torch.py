"""PyTorch backend of the layer-level pass: ``compile_layers(net, backend="torch")``.

:class:`TorchOps` has every function of :mod:`symdtd.network.layer_ops` that
the layers and the pass call, run on tensors of one float type on one device:
dense maps and convolutions and their transposes (``linear``, ``conv2d``,
``conv_transpose2d``), window sums and their transposes (``avg_pool2d`` with
``divisor_override=1`` and its backward), max-pooling winners
(``max_pool2d(return_indices=True)``; ties go to the first maximum in
row-major order, as in NumPy) and their scatter back (``scatter_add``),
adaptive pooling, concatenation, local response normalisation, and the
elementwise steps of a rule (division, the zero-denominator test). With it the
whole pass keeps its arrays as tensors on the device, from the checked input to
the results, which are NumPy again (:meth:`TorchOps.numpy`).

Constant NumPy arrays (modified weights ``g(W)``, biases, masks, box bounds)
are converted once: :meth:`TorchOps.constant` keeps each array's tensor.

Examples
--------
>>> import numpy as np
>>> ops = TorchOps()
>>> x = ops.asarray(np.ones((1, 1, 3, 3)))
>>> ops.numpy(ops.conv2d(x, np.ones((1, 1, 2, 2))))[0, 0]
array([[4., 4.],
       [4., 4.]])
"""
from __future__ import annotations

import numpy as np

from ..network.layer_ops import conv_geometry, float_dtype, transpose_padding

__all__ = ["TorchOps"]


class TorchOps:
    """The array operations of the layer-level pass, run by PyTorch.

    Parameters
    ----------
    device : str, optional
        A torch device (default ``"cpu"``).

    Raises
    ------
    ValueError
        If torch cannot be imported.
    """

    BACKEND = "torch"

    def __init__(self, device=None):
        try:
            import torch
        except ImportError:
            raise ValueError("backend='torch' needs PyTorch; install it or use backend='numpy'") from None
        self.torch = torch
        self.functional = torch.nn.functional
        self.device = torch.device(device or "cpu")
        self.constants = {}

    # ------------------------------------------------------------ conversion
    def asarray(self, a, dtype=None):
        """*a* (NumPy) as a tensor on the device (float32 if *a* is, else float64)."""
        if isinstance(a, self.torch.Tensor):
            return a
        dtype = float_dtype(dtype or (np.float32 if np.asarray(a).dtype == np.float32 else np.float64))
        # writable and C-ordered (a broadcast view is neither): torch shares the memory on CPU
        return self.torch.from_numpy(np.require(a, dtype, ["C", "W"])).to(self.device)

    def constant(self, a, dtype):
        """The tensor of a NumPy array that does not change (weights, biases, masks), made once."""
        key = (id(a), float_dtype(dtype).name)
        hit = self.constants.get(key)
        if hit is None or hit[0] is not a:
            hit = self.constants[key] = (a, self.asarray(np.asarray(a), dtype))
        return hit[1]

    def numpy(self, t):
        """A NumPy array of tensor *t* (on the CPU)."""
        return t.detach().cpu().numpy() if isinstance(t, self.torch.Tensor) else np.asarray(t)

    # ------------------------------------------------------------ elementwise
    def zeros_like(self, a):
        return self.torch.zeros_like(a)

    def relu(self, z):
        return self.torch.relu(z)

    def relu_(self, z):
        """``max(0, z)`` written into *z*."""
        return z.relu_()

    def row_sum(self, a):
        """Each row's sum as float64 (summed in the tensor's type: torch's cascade sum keeps
        float32 to a few units of rounding, and converting first is many times slower)."""
        return a.reshape(len(a), -1).sum(dim=1).to(self.torch.float64)

    def safe_divide(self, R, Z, zero):
        """``R / Z`` where not *zero*, else 0."""
        S = R / Z
        return S.masked_fill_(zero, 0)

    def lost(self, R, zero):
        """Each row's relevance on zero denominators, float64."""
        if not zero.any():
            return self.torch.zeros(len(R), dtype=self.torch.float64, device=R.device)
        return self.row_sum(R * zero)

    def take(self, A, t):
        """``A[b, t[b]]`` of the flattened rows."""
        rows = self.torch.arange(len(A), device=A.device)
        return A.reshape(len(A), -1)[rows, self.torch.as_tensor(t, device=A.device)]

    def one_hot(self, A, t, values):
        """Zeros shaped as *A* with *values* at ``[b, t[b]]`` of the flattened rows."""
        R = self.torch.zeros_like(A)
        rows = self.torch.arange(len(A), device=A.device)
        R.reshape(len(A), -1)[rows, self.torch.as_tensor(t, device=A.device)] = values
        return R

    def cat(self, parts):
        return self.torch.cat(parts, dim=1)

    def split(self, a, sizes):
        return list(self.torch.split(a, list(sizes), dim=1))

    # ------------------------------------------------------------ linear maps
    def dense(self, x, weight, bias=None):
        """``x @ weight.T (+ bias)``."""
        bias = None if bias is None else self.constant(bias, x.dtype)
        return self.functional.linear(x, self.constant(weight, weight.dtype), bias)

    def dense_t(self, s, weight):
        """``s @ weight``."""
        return s @ self.constant(weight, weight.dtype)

    def conv2d(self, x, weight, stride=1, padding=0, dilation=1, groups=1, bias=None):
        """As :func:`symdtd.network.layer_ops.conv2d`."""
        stride, padding, dilation = conv_geometry(stride, padding, dilation)
        bias = None if bias is None else self.constant(bias, x.dtype)
        return self.functional.conv2d(x, self.constant(weight, weight.dtype), bias, stride=stride,
                                      padding=padding, dilation=dilation, groups=groups)

    def conv2d_t(self, s, weight, input_hw, stride=1, padding=0, dilation=1, groups=1):
        """As :func:`symdtd.network.layer_ops.conv2d_t`: ``conv_transpose2d`` with the
        output padding that gives back the input size."""
        stride, padding, dilation = conv_geometry(stride, padding, dilation)
        out_pad, missing = transpose_padding(input_hw, weight.shape[2:], stride, padding, dilation)
        out = self.functional.conv_transpose2d(
            s, self.constant(weight, weight.dtype), stride=stride, padding=padding,
            output_padding=out_pad, groups=groups, dilation=dilation)
        if any(missing):   # rows and columns the forward never read: no relevance
            out = self.functional.pad(out, (0, missing[1], 0, missing[0]))
        return out

    def window_sum(self, x, kernel, stride, padding, ceil_mode=False):
        """As :func:`symdtd.network.layer_ops.window_sum` (``avg_pool2d`` with divisor 1)."""
        return self.functional.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode,
                                          count_include_pad=True, divisor_override=1)

    def window_sum_t(self, s, input_hw, kernel, stride, padding, ceil_mode=False):
        """As :func:`symdtd.network.layer_ops.window_sum_t` (the backward of :meth:`window_sum`)."""
        like = s.new_empty(s.shape[:2] + tuple(input_hw))
        return self.torch.ops.aten.avg_pool2d_backward(s, like, list(kernel), list(stride),
                                                       list(padding), ceil_mode, True, 1)

    def window_argmax(self, x, kernel, stride, padding, ceil_mode=False):
        """As :func:`symdtd.network.layer_ops.window_argmax` (``max_pool2d`` with indices)."""
        return self.functional.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode,
                                          return_indices=True)

    def scatter_winners(self, values, winners, input_hw):
        """As :func:`symdtd.network.layer_ops.scatter_winners` (``scatter_add``: a cell winning
        two overlapping windows gets both)."""
        B, C = values.shape[:2]
        out = values.new_zeros((B, C, input_hw[0] * input_hw[1]))
        out.scatter_add_(2, winners.reshape(B, C, -1), values.reshape(B, C, -1))
        return out.reshape(B, C, *input_hw)

    def adaptive_sum(self, x, Ah, Aw):
        """As :func:`symdtd.network.layer_ops.adaptive_sum`."""
        Ah, Aw = self.constant(Ah, x.dtype), self.constant(Aw, x.dtype)
        return Ah @ x @ Aw.T

    def adaptive_sum_t(self, s, Ah, Aw):
        """As :func:`symdtd.network.layer_ops.adaptive_sum_t`."""
        Ah, Aw = self.constant(Ah, s.dtype), self.constant(Aw, s.dtype)
        return Ah.T @ s @ Aw

    def local_response_norm(self, x, size, alpha, beta, k):
        """As :func:`symdtd.network.layer_ops.local_response_norm` (torch's own)."""
        return self.functional.local_response_norm(x, size, alpha, beta, k)
