"""Reading a traced ``torch.fx`` graph: what each node does, its arguments by name, its place.

:class:`FxGraph` wraps a ``torch.fx.GraphModule`` for
:mod:`symdtd.real.fx_import`: :meth:`FxGraph.kind` says which supported
operation a node is (``"conv"``, ``"relu"``, ``"add"``, …), whatever form the
model wrote it in (a module, a function of ``torch`` or
``torch.nn.functional``, a tensor method), with its arguments bound to their
names and defaults; :meth:`FxGraph.where` names a node for messages (its fx
name and module path or function); :meth:`FxGraph.follow` finds the chains a
layer can absorb (the identities that are the only reader of the node before).
:data:`FX_SUPPORTED` lists what is read.

Examples
--------
>>> BATCH
batch
>>> "Linear" in FX_SUPPORTED
True
"""
from __future__ import annotations

import inspect
import operator

__all__ = ["FxGraph", "FX_SUPPORTED", "BATCH"]

#: what :func:`layers_from_torch` reads (listed in its errors)
FX_SUPPORTED = (
    "Linear", "Conv2d (stride, zero padding, dilation, groups)",
    "ReLU (module, F.relu, torch.relu, Tensor.relu, in place too)",
    "BatchNorm1d/2d with running statistics", "MaxPool2d / F.max_pool2d",
    "AvgPool2d / F.avg_pool2d", "AdaptiveAvgPool2d / F.adaptive_avg_pool2d / Tensor.mean over (2, 3)",
    "Flatten / torch.flatten(x, 1) / Tensor.view or reshape(batch, -1)",
    "tensor + tensor / torch.add", "torch.cat along channels (dim=1)",
    "Dropout / Identity (identities in eval mode)",
    "LocalResponseNorm / F.local_response_norm (the identity on relevance)")


class _Batch:
    """The batch size, a symbolic value (``x.size(0)``, ``x.shape[0]``)."""

    def __repr__(self):
        return "batch"


BATCH = _Batch()


# the argument lists of the functions and methods read (bound with inspect.signature)
def _relu(input, inplace=False): ...
def _max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
              return_indices=False): ...
def _avg_pool(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
              divisor_override=None): ...
def _adaptive(input, output_size): ...
def _flatten(input, start_dim=0, end_dim=-1): ...
def _cat(tensors, dim=0): ...
def _add(input, other, alpha=1): ...
def _mean(input, dim=None, keepdim=False, dtype=None): ...
def _dropout(input, p=0.5, training=True, inplace=False): ...
def _size(input, dim=None): ...
def _reshape(input, *shape): ...
def _lrn(input, size, alpha=1e-4, beta=0.75, k=1.0): ...
def _one(input, *rest): ...


_METHODS = {"relu": ("relu", _relu), "relu_": ("relu", _relu), "add": ("add", _add),
            "add_": ("add", _add), "flatten": ("flatten", _flatten), "view": ("reshape", _reshape),
            "reshape": ("reshape", _reshape), "size": ("size", _size), "mean": ("mean", _mean),
            "contiguous": ("identity", _one)}


def _functions(torch):
    F = torch.nn.functional
    table = {F.relu: ("relu", _relu), torch.relu: ("relu", _relu), F.relu_: ("relu", _relu),
             torch.relu_: ("relu", _relu), F.max_pool2d: ("maxpool", _max_pool),
             torch.max_pool2d: ("maxpool", _max_pool), F.avg_pool2d: ("avgpool", _avg_pool),
             F.adaptive_avg_pool2d: ("adaptive", _adaptive), torch.flatten: ("flatten", _flatten),
             operator.add: ("add", _add), operator.iadd: ("add", _add), torch.add: ("add", _add),
             torch.mean: ("mean", _mean), getattr: ("getattr", None),
             operator.getitem: ("getitem", None), F.local_response_norm: ("lrn", _lrn)}
    for name in ("cat", "concat", "concatenate"):
        if hasattr(torch, name):
            table[getattr(torch, name)] = ("cat", _cat)
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
        if hasattr(F, name):
            table[getattr(F, name)] = ("dropout", _dropout)
    return table


def _modules(nn):
    """``(module class, kind)`` in the order they are tried."""
    return [(nn.Linear, "linear"), (nn.Conv2d, "conv"), ((nn.BatchNorm1d, nn.BatchNorm2d), "batchnorm"),
            (nn.ReLU, "relu"), (nn.MaxPool2d, "maxpool"), (nn.AvgPool2d, "avgpool"),
            (nn.AdaptiveAvgPool2d, "adaptive"), (nn.Flatten, "flatten"), (nn.LocalResponseNorm, "lrn"),
            ((nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
              nn.FeatureAlphaDropout, nn.Identity), "identity")]


_MODULE_OPTIONS = {
    "relu": ("inplace",), "maxpool": ("kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                      "return_indices"),
    "avgpool": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "adaptive": ("output_size",), "flatten": ("start_dim", "end_dim"),
    "lrn": ("size", "alpha", "beta", "k")}


class FxGraph:
    """A traced model's graph, read node by node.

    Parameters
    ----------
    torch : module
        The ``torch`` module.
    traced : torch.fx.GraphModule
    """

    def __init__(self, torch, traced):
        self.torch, self.traced = torch, traced
        self.modules = dict(traced.named_modules())
        self.functions, self.module_kinds = _functions(torch), _modules(torch.nn)
        self.names = {n.name for n in traced.graph.nodes}

    def kind(self, node):
        """``(kind, {argument: value})`` of a call node, its arguments bound to their names."""
        if node.op == "call_module":
            module = self.modules[node.target]
            kind = next((k for cls, k in self.module_kinds if isinstance(module, cls)), None)
            if kind is None:
                raise self.unsupported(node)
            if len(node.args) != 1 or node.kwargs:
                raise self.unsupported(node, "a module called with more than one argument")
            args = {"input": node.args[0], "module": module}
            args.update({k: getattr(module, k) for k in _MODULE_OPTIONS.get(kind, ())})
            return kind, args
        kind, stub = (self.functions.get(node.target, (None, None)) if node.op == "call_function"
                      else _METHODS.get(node.target, (None, None)))
        if kind is None:
            raise self.unsupported(node)
        if stub is None:
            return kind, {"args": node.args}
        try:
            bound = inspect.signature(stub).bind(*node.args, **node.kwargs)
        except TypeError as err:
            raise self.unsupported(node, f"arguments not understood ({err})") from None
        bound.apply_defaults()
        args = dict(bound.arguments)
        if node.op != "call_module" and str(node.target).endswith("_") and kind == "relu":
            args["inplace"] = True
        return kind, args

    def where(self, node):
        """``fx node 'name' (module 'path', Class)`` or ``(function torch.cat)``, ``(method Tensor.view)``."""
        if node.op == "call_module":
            return f"fx node {node.name!r} (module {node.target!r}, {type(self.modules[node.target]).__name__})"
        if node.op == "call_method":
            return f"fx node {node.name!r} (method Tensor.{node.target})"
        if node.op == "call_function":
            target = node.target
            module = getattr(target, "__module__", None) or (
                "torch" if getattr(self.torch, getattr(target, "__name__", ""), None) is target else "")
            module = {"_operator": "operator", "torch._C._nn": "torch.nn.functional",
                      "builtins": ""}.get(module, module)
            name = getattr(target, "__name__", repr(target))
            return f"fx node {node.name!r} (function {module + '.' if module else ''}{name})"
        return f"fx node {node.name!r} ({node.op})"

    def unsupported(self, node, why=None):
        return TypeError(f"from_torch: {self.where(node)}: {why or 'is not supported'}; "
                         f"layers_from_torch reads {'; '.join(FX_SUPPORTED)}")

    def only_user(self, node):
        users = list(node.users)
        return users[0] if len(users) == 1 else None

    def follow(self, node):
        """*node* and the identities (dropout, Identity) that are each the only reader of the one before."""
        chain = [node]
        while (nxt := self.only_user(chain[-1])) is not None and self.is_kind(nxt, "identity", "dropout"):
            if self.is_kind(nxt, "dropout") and self.kind(nxt)[1]["training"] is not False:
                break
            chain.append(nxt)
        return chain

    def is_kind(self, node, *kinds):
        if node.op not in ("call_module", "call_function", "call_method"):
            return False
        try:
            return self.kind(node)[0] in kinds
        except TypeError:
            return False
