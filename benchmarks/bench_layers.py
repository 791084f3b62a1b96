"""Layer-level compiled explain against the neuron-level path and a hand-written NumPy reference.

The digits-CNN-sized net (1×28×28 pixels in [0, 1]; conv 1→16 5×5, ReLU,
max-pool 2; conv 16→32 5×5, ReLU, max-pool 2; linear 512 → 10; random
weights, biases ≤ 0) at batch 256, float64, with the paper's default
composite (zᴮ at the input, z⁺ above, winner-take-all max-pooling). Printed:

* build time: the :class:`~symdtd.network.layer_graph.LayerNetwork` and
  ``compile_layers``, against ``net.neurons()`` (the neuron DAG) and
  ``symdtd.compile`` of it;
* explain time (min of ``REPEAT`` runs) of the layer-level pass (NumPy, and
  torch when importable), the neuron-level ``symdtd.compile(...).explain`` and
  a hand-written im2col reference (below: independent of symdtd), with ratios
  to the reference, and the largest difference of their relevances;
* peak memory (``tracemalloc``) of each explain call;
* the convolution kernels alone: conv 16→32 5×5 on 28×28 at batch 256,
  forward and transposed, NumPy (:mod:`symdtd.network.layer_ops`) and torch;
* with torch: the shipped digits CNN (:func:`symdtd.real.models.load_model`'s
  ``"cnn"``, rebuilt as its ``torch.nn.Sequential`` from the shipped weights) and
  a 28×28 LeNet (conv 1→6 5×5 pad 2, ReLU, max-pool 2, conv 6→16 5×5, ReLU,
  max-pool 2, 120, 84, 10; random weights), imported by ``layers_from_torch``:
  compile time cold (the first in the process, SymPy derivation included) and
  warm, and explain at batch 256 in float32 with the torch backend against the
  hand-written torch reference :func:`symdtd.real.torch_reference.dtd_reference`
  on the same model (min of runs, measured side by side), and the targets table
  (issue 12): compile < 0.2 s, torch explain ≤ 1.0× the reference, NumPy
  explain ≤ 1.1× the hand-written im2col version.

Run: ``python benchmarks/bench_layers.py`` (about a minute, most of it building
the neuron DAG).
"""
import time
import tracemalloc

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import symdtd
from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box
from symdtd.network.join_layers import Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layer_ops import conv2d, conv2d_t
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.pool_layers import MaxPool2d

BATCH, REPEAT = 256, 3


# --------------------------------------------------- the hand-written reference
def im2col(x, k):
    """``(B, Ho, Wo, C·k·k)`` patches of a valid k×k convolution."""
    p = sliding_window_view(x, (k, k), axis=(2, 3))            # B, C, Ho, Wo, k, k
    return p.transpose(0, 2, 3, 1, 4, 5).reshape(p.shape[0], p.shape[2], p.shape[3], -1)


def col2im(cols, shape, k):
    """The transpose of :func:`im2col`: patches added back onto the image."""
    B, C, H, W = shape
    Ho, Wo = H - k + 1, W - k + 1
    cols = cols.reshape(B, Ho, Wo, C, k, k)
    out = np.zeros(shape)
    for p in range(k):
        for q in range(k):
            out[:, :, p:p + Ho, q:q + Wo] += cols[:, :, :, :, p, q].transpose(0, 3, 1, 2)
    return out


def reference(X, params, target):
    """zᴮ (l = 0, h = 1) on conv1, winner-take-all pooling, z⁺ above, by hand."""
    (w1, b1), (w2, b2), (w3, b3) = params
    B = len(X)
    W1 = w1.reshape(16, -1).T
    C1 = im2col(X, 5)
    A1 = np.maximum(C1 @ W1 + b1, 0).transpose(0, 3, 1, 2)                 # B,16,24,24
    P1 = A1.reshape(B, 16, 12, 2, 12, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, 16, 12, 12, 4)
    win1 = P1.argmax(-1)
    M1 = P1.max(-1)
    W2 = w2.reshape(32, -1).T
    C2 = im2col(M1, 5)
    A2 = np.maximum(C2 @ W2 + b2, 0).transpose(0, 3, 1, 2)                 # B,32,8,8
    P2 = A2.reshape(B, 32, 4, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, 32, 4, 4, 4)
    win2 = P2.argmax(-1)
    M2 = P2.max(-1).reshape(B, -1)
    Y = M2 @ w3.T + b3
    R = np.zeros_like(Y)
    R[np.arange(B), target] = Y[np.arange(B), target]
    # z+ on the dense layer
    Wp = np.maximum(w3, 0)
    Z = M2 @ Wp.T
    R = M2 * (np.divide(R, Z, out=np.zeros_like(Z), where=Z != 0) @ Wp)
    R = unpool(R.reshape(B, 32, 4, 4), win2)
    # z+ on conv2
    W2p = np.maximum(W2, 0)
    Z = (C2 @ W2p).transpose(0, 3, 1, 2)
    S = np.divide(R, Z, out=np.zeros_like(Z), where=Z != 0)
    R = M1 * col2im(S.transpose(0, 2, 3, 1) @ W2p.T, M1.shape, 5)
    R = unpool(R, win1)
    # zB on conv1: q = x·w − l·w⁺ − h·w⁻ with l = 0, h = 1
    W1n = np.minimum(W1, 0)
    Z = (C1 @ W1 - np.ones_like(C1) @ W1n).transpose(0, 3, 1, 2)
    S = np.divide(R, Z, out=np.zeros_like(Z), where=Z != 0).transpose(0, 2, 3, 1)
    return X * col2im(S @ W1.T, X.shape, 5) - col2im(S @ W1n.T, X.shape, 5)


def unpool(R, winners):
    """Each 2×2 window's relevance onto its winner."""
    B, C, Ho, Wo = R.shape
    out = np.zeros((B, C, Ho, Wo, 4))
    np.put_along_axis(out, winners[..., None], R[..., None], axis=-1)
    return out.reshape(B, C, Ho, Wo, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(B, C, 2 * Ho, 2 * Wo)


# ------------------------------------------------------------------- timing
def best(fn, repeat=REPEAT):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def peak(fn):
    tracemalloc.start()
    fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top / 2 ** 20


def main():
    rng = np.random.default_rng(0)
    params = [(rng.normal(0, 0.3, (16, 1, 5, 5)), -rng.uniform(0, 0.1, 16)),
              (rng.normal(0, 0.1, (32, 16, 5, 5)), -rng.uniform(0, 0.1, 32)),
              (rng.normal(0, 0.1, (10, 512)), np.zeros(10))]
    X = rng.uniform(size=(BATCH, 1, 28, 28))

    def build():
        net = LayerNetwork()
        net.add_input("x", (1, 28, 28), Box(0, 1))
        net.add_layer("conv1", Conv2d(*params[0]))
        net.add_layer("pool1", MaxPool2d(2))
        net.add_layer("conv2", Conv2d(*params[1]))
        net.add_layer("pool2", MaxPool2d(2))
        net.add_layer("flat", Flatten())
        net.add_layer("y", Dense(*params[2], activation="linear"))
        return net

    t_build, net = best(build)
    t_compile, model = best(lambda: compile_layers(net))
    target = net.forward(X).argmax(axis=1)
    print(f"build: LayerNetwork {t_build * 1e3:.1f} ms, compile_layers {t_compile * 1e3:.1f} ms")
    t_neurons, neurons = best(lambda: net.neurons(limit=2 * 10 ** 6), repeat=1)
    t_ncompile, nmodel = best(lambda: symdtd.compile(neurons), repeat=1)
    print(f"       neurons() {t_neurons:.1f} s ({neurons}), symdtd.compile {t_ncompile:.1f} s")

    t_ref, r_ref = best(lambda: reference(X, params, target))
    runs = [("hand-written im2col reference", t_ref, r_ref, lambda: reference(X, params, target))]
    t, e = best(lambda: model.explain(X, target))
    runs.append(("layer-level, numpy", t, e.relevance, lambda: model.explain(X, target)))
    try:
        tmodel = compile_layers(net, backend="torch")
    except ValueError:
        tmodel = None
    if tmodel is not None:
        t, e = best(lambda: tmodel.explain(X, target))
        runs.append(("layer-level, torch", t, e.relevance, lambda: tmodel.explain(X, target)))
    flat = X.reshape(BATCH, -1)
    t, e = best(lambda: nmodel.explain(flat, target))
    runs.append(("neuron-level symdtd.compile", t, e.relevance.reshape(X.shape),
                 lambda: nmodel.explain(flat, target)))
    print(f"explain, batch {BATCH}, float64 (min of {REPEAT}):")
    for name, t, rel, fn in runs:
        print(f"  {name:30s} {t * 1e3:8.1f} ms  ×{t / t_ref:5.2f} of the reference  "
              f"peak {peak(fn):7.1f} MB  max |ΔR| vs reference {np.abs(rel - r_ref).max():.1e}")
    return runs[1][1] / t_ref


# ------------------------------------------------------------ torch models, batch 256
def digits_cnn(torch):
    """The shipped digits CNN as the ``nn.Sequential`` it was trained as (8×8 input)."""
    from importlib import resources

    nn = torch.nn
    with resources.files("symdtd").joinpath("data", "digits_cnn.npz").open("rb") as fh:
        weights = dict(np.load(fh))
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                          nn.Flatten(), nn.Linear(64, 10))
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in weights.items()})
    return model.eval(), (1, 8, 8)


def lenet(torch):
    """LeNet-5 on 28×28 with random weights and biases ≤ 0."""
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    with torch.no_grad():
        for m in model.modules():
            if getattr(m, "bias", None) is not None:
                m.bias.copy_(-m.bias.abs())
    return model.eval(), (1, 28, 28)


def torch_models():
    """Compile cold and warm, explain against dtd_reference at batch 256, float32 (first in the process)."""
    from symdtd.real.fx_import import layers_from_torch  # before anything else compiles: cold
    try:
        import torch
    except ImportError:
        print("torch not installed: no torch-backend figures")
        return []
    from symdtd.real.torch_reference import dtd_reference

    torch.set_num_threads(2)
    rows, cold = [], None
    for name, make in (("digits CNN (8×8)", digits_cnn), ("LeNet (28×28)", lenet)):
        model, shape = make(torch)

        def build():
            net = layers_from_torch(model, shape, Box(0, 1))
            return compile_layers(net, backend="torch", dtype="float32")
        t = time.perf_counter()
        compiled = build()
        first = time.perf_counter() - t
        cold = first if cold is None else cold
        warm, _ = best(build, 5)
        x = torch.rand((BATCH,) + shape, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            target = model(x).argmax(dim=1)
        X = x.numpy()
        compiled.explain(X, target.numpy())                    # modified weights made once
        mine, ref = [], []
        for _ in range(5):                                    # side by side, alternating
            t_m, e = best(lambda: compiled.explain(X, target.numpy()), 1)
            t_r, r = best(lambda: dtd_reference(model, x, target.tolist(), low=0.0, high=1.0), 1)
            mine.append(t_m)
            ref.append(t_r)
        diff = np.abs(e.relevance - r[0].numpy()).max() / np.abs(r[0].numpy()).max()
        rows.append((name, first, warm, min(mine), min(ref), diff))
    print(f"\ntorch backend, batch {BATCH}, float32, {torch.get_num_threads()} threads "
          f"(compile cold = the first layers_from_torch + compile_layers in the process):")
    print("| model | compile cold s | compile warm s | explain torch ms | reference ms | × ref | max rel. ΔR |")
    print("|---|---|---|---|---|---|---|")
    for name, first, warm, mine, ref, diff in rows:
        print(f"| {name} | {first:.3f} | {warm:.3f} | {mine * 1e3:.1f} | {ref * 1e3:.1f} | "
              f"{mine / ref:.2f} | {diff:.1e} |")
    return rows


def targets(rows, numpy_ratio):
    """The table of issue 12's targets for these models, and whether each is met."""
    print("\ntargets (issue 12):")
    print("| target | measured | met |")
    print("|---|---|---|")
    for name, first, warm, mine, ref, _ in rows:
        print(f"| {name}: compile < 0.2 s (warm; cold {first:.2f} s) | {warm:.3f} s | {warm < 0.2} |")
        print(f"| {name}: torch explain ≤ 1.0× reference | {mine / ref:.2f}× | {mine <= ref} |")
    print(f"| 28×28 CNN: NumPy explain ≤ 1.1× im2col reference (float64) | {numpy_ratio:.2f}× | "
          f"{numpy_ratio <= 1.1} |")


def kernels():
    rng = np.random.default_rng(1)
    x, w = rng.uniform(size=(BATCH, 16, 28, 28)), rng.normal(size=(32, 16, 5, 5))
    t_fwd, y = best(lambda: conv2d(x, w))
    t_t, _ = best(lambda: conv2d_t(y, w, (28, 28)))
    line = f"conv 16→32 5×5, 28×28, batch {BATCH}: numpy {t_fwd * 1e3:.0f} ms forward, {t_t * 1e3:.0f} ms transposed"
    try:
        import torch
    except ImportError:
        print(line)
        return
    tx, tw, ty = (torch.from_numpy(a) for a in (x, w, y))
    t_fwd, _ = best(lambda: torch.nn.functional.conv2d(tx, tw))
    t_t, _ = best(lambda: torch.nn.functional.conv_transpose2d(ty, tw))
    print(line + f"; torch {t_fwd * 1e3:.0f} ms, {t_t * 1e3:.0f} ms")


if __name__ == "__main__":
    import os
    print(f"load average {os.getloadavg()[0]:.2f}")
    rows = torch_models()
    kernels()
    targets(rows, main())
