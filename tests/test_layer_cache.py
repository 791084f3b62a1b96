"""Builds kept per layer network (real.cache.per_network) are rebuilt when the network changes."""
import numpy as np

from symdtd.core.domains import Box
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Dense
from symdtd.real.evaluate import compiled


def small():
    net = LayerNetwork()
    net.add_input("x", (2,), Box(0, 1))
    net.add_layer("h", Dense([[1.0, -1.0], [1.0, 1.0]], [0.0, 0.0]))
    net.add_layer("y", Dense([[1.0, 1.0]], activation="linear"))
    return net


def test_a_changed_rule_or_layer_rebuilds_the_compiled_network():
    net = small()
    first = compiled(net)
    assert compiled(net) is first
    x = np.array([[1.0, 0.5]])
    net.layer("h").rule = "w2"  # w²: shares w_ij² / Σ_i w_ij², whatever x (all ±1 here: halves)
    second = compiled(net)
    assert second is not first and second.rules["h"] == "w2"
    R = second.explain(x).relevance[0]
    h1, h2 = 0.5, 1.5                      # the hidden values reach y with weight 1
    assert np.allclose(R, [h1 / 2 + h2 / 2, h1 / 2 + h2 / 2])
    net.add_layer("z", Dense([[2.0]], activation="linear"), sources=["y"])
    assert compiled(net) is not second
    assert compiled(net).net.output == "z"
