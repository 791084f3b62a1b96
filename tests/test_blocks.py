"""symdtd.blocks: a network laid out as generations of blocks."""

import numpy as np
import pytest

from symdtd import Box, Network, examples
from symdtd import compile as compile_network
from symdtd.compiler.blocks import DENSE_THRESHOLD, Generation, NetworkBlocks
from symdtd.compiler.kernels import Block
from symdtd.compiler.rule_kernels import rule_kernel
from symdtd.compiler.segments import Segment


def test_blocks_of_a_skip_dag_and_the_kernels_asked_for():
    asked = []

    def kernel_for(rule, l_is_x=False, h_is_x=False):
        asked.append((rule.name, l_is_x, h_is_x))
        return rule_kernel(rule, l_is_x, h_is_x)

    blocks = NetworkBlocks(examples.skip_dag(), np.float32, kernel_for)
    assert blocks.names[0] == blocks.inputs == ["x1", "x2", "x3"]
    assert all(isinstance(g, Generation) for g in blocks.gens)
    assert [g.index for g in blocks.gens] == [1, 2, 3]
    assert all(isinstance(b, Block) and all(isinstance(s, Segment) for s in b.segments)
               for g in blocks.gens for b in g.blocks)
    assert blocks.rules == {"h1": "zB", "h2": "zB", "h3": "z+", "y": "zB"}
    assert set(asked) == {("zB", False, False), ("zB", False, True), ("z+", False, False)}
    assert set(blocks.kernels) == {("zB", (False, False)), ("zB", (False, True)),
                                   ("z+", (False, False))}
    assert blocks.out.tolist() == [[3, 0]] and blocks.n_edges == 10
    assert all(M.M.dtype == np.float32 for g in blocks.gens for _, M in g.fwd)


def test_same_layout_as_the_compiled_network():
    net = examples.skip_dag()
    model = compile_network(net)
    blocks = NetworkBlocks(net, np.float64, rule_kernel)
    assert blocks.describe() == model.describe()
    assert blocks.edge_names() == model.edge_names()
    assert len(blocks.edge_names()) == net.graph.number_of_edges()


def test_dense_threshold_chooses_the_storage():
    net = examples.skip_dag()
    assert "dense" not in NetworkBlocks(net, np.float64, rule_kernel,
                                        dense_threshold=2).describe()
    assert "sparse" not in NetworkBlocks(net, np.float64, rule_kernel).describe()
    assert 0 < DENSE_THRESHOLD < 1


def test_structural_errors():
    cyclic = examples.xor()
    cyclic.graph.add_edge("y", "h1", weight=1.0)
    with pytest.raises(ValueError, match="the network has a cycle"):
        NetworkBlocks(cyclic, np.float64, rule_kernel)
    missing = examples.xor()
    del missing.graph.edges["x2", "h2"]["weight"]
    with pytest.raises(ValueError, match="weight of edge 'x2' -> 'h2' is missing"):
        NetworkBlocks(missing, np.float64, rule_kernel)
    lonely = Network()
    lonely.add_input("p", Box(0, 1))
    with pytest.raises(ValueError, match="the network has no output neuron"):
        NetworkBlocks(lonely, np.float64, rule_kernel)
    assert not Network().inputs
    with pytest.raises(ValueError, match="the network has no inputs"):
        NetworkBlocks(Network(), np.float64, rule_kernel)


def test_positive_biases_are_listed():
    net = Network.from_dense([[[1.0, -1.0]], [[1.0], [1.0]]], [[0.5, -0.5], [0.25]],
                             input_domain=Box(0, 1))
    blocks = NetworkBlocks(net, np.float64, rule_kernel)
    assert blocks.positive_bias == [net.layers()[1][0], net.outputs[0]]
