"""PyTorch backend of the layer-level linear maps: ``compile_layers(net, backend="torch")``.

:class:`TorchOps` has the functions of :mod:`symdtd.network.layer_ops` that a
layer's dense and convolution maps call (``dense``, ``dense_t``, ``conv2d``,
``conv2d_t``), run by ``torch.nn.functional`` (``linear``, ``conv2d``,
``conv_transpose2d``) in float64 or float32 (the arrays' type) on a device; arrays go in and come out as
NumPy. The rest of the pass (pooling, the rule factors) stays in NumPy.

Examples
--------
>>> import numpy as np
>>> ops = TorchOps()                                   # doctest: +SKIP
>>> ops.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))[0, 0]   # doctest: +SKIP
array([[4., 4.],
       [4., 4.]])
"""
from __future__ import annotations

import numpy as np

from ..network.layer_ops import output_size, pair

__all__ = ["TorchOps"]


class TorchOps:
    """The linear maps of dense and convolution layers, run by PyTorch.

    Parameters
    ----------
    device : str, optional
        A torch device (default ``"cpu"``).

    Raises
    ------
    ValueError
        If torch cannot be imported.
    """

    def __init__(self, device=None):
        try:
            import torch
        except ImportError:
            raise ValueError("backend='torch' needs PyTorch; install it or use backend='numpy'") from None
        self.torch = torch
        self.functional = torch.nn.functional
        self.device = torch.device(device or "cpu")

    def tensor(self, a):
        """A tensor on the device, float32 if *a* is, else float64."""
        dtype = np.float32 if np.asarray(a).dtype == np.float32 else np.float64
        # writable and C-ordered (a broadcast view is neither): torch shares the memory on CPU
        return self.torch.from_numpy(np.require(a, dtype, ["C", "W"])).to(self.device)

    def array(self, t):
        return t.detach().cpu().numpy()

    def dense(self, x, weight):
        """``x @ weight.T``."""
        return self.array(self.functional.linear(self.tensor(x), self.tensor(weight)))

    def dense_t(self, s, weight):
        """``s @ weight``."""
        return self.array(self.tensor(s) @ self.tensor(weight))

    def conv2d(self, x, weight, stride=1, padding=0, dilation=1, groups=1):
        """As :func:`symdtd.network.layer_ops.conv2d`."""
        return self.array(self.functional.conv2d(
            self.tensor(x), self.tensor(weight), stride=pair(stride, "stride", 1),
            padding=pair(padding, "padding"), dilation=pair(dilation, "dilation", 1), groups=groups))

    def conv2d_t(self, s, weight, input_hw, stride=1, padding=0, dilation=1, groups=1):
        """As :func:`symdtd.network.layer_ops.conv2d_t`: ``conv_transpose2d`` with the
        output padding that gives back the input size."""
        stride, padding = pair(stride, "stride", 1), pair(padding, "padding")
        dilation = pair(dilation, "dilation", 1)
        kh, kw = weight.shape[2:]
        extra = tuple(size - (output_size(size, k, st, p, d) - 1) * st + 2 * p - d * (k - 1) - 1
                      for size, k, st, p, d in zip(input_hw, (kh, kw), stride, padding, dilation))
        # output_padding must be smaller than the stride or the dilation; rows the
        # forward never read (extra ≥ stride) get no relevance: pad them with zeros
        out_pad = tuple(min(e, max(st, d) - 1) for e, st, d in zip(extra, stride, dilation))
        out = self.array(self.functional.conv_transpose2d(
            self.tensor(s), self.tensor(weight), stride=stride, padding=padding,
            output_padding=out_pad, groups=groups, dilation=dilation))
        H, W = input_hw
        if out.shape[2:] != (H, W):
            full = np.zeros(out.shape[:2] + (H, W), out.dtype)
            full[:, :, :out.shape[2], :out.shape[3]] = out
            out = full
        return out
