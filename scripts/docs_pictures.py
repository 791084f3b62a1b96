"""Write the two figures of docs/guide/pictures.md (run from the repository root).

docs/images/layer-flow-residual.png: render_layers of the page's residual network;
docs/images/pictures-china.png: china.jpg beside the heatmap of the page's random CNN.
The networks and seeds are the page's own, in the page's order.
"""
import numpy as np

from symdtd import Box
from symdtd.compiler import compile_layers
from symdtd.network import LayerNetwork
from symdtd.network.join_layers import Add, Flatten
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.pool_layers import AdaptiveAvgPool2d, MaxPool2d
from symdtd.real.photos import sample_image
from symdtd.see import render_layers
from symdtd.see.flow import write
from symdtd.see.pictures import picture_figure
from symdtd.see.plotting import save_figure

rng = np.random.default_rng(0)
net = LayerNetwork()
net.add_input("x", (1, 6, 6), Box(0, 1))
net.add_layer("conv", Conv2d(rng.normal(size=(2, 1, 3, 3)), [-0.1, -0.2], padding=1))
net.add_layer("skip", Conv2d(rng.normal(size=(2, 1, 1, 1)), [-0.1, -0.1]), "x")
net.add_layer("res", Add(), ["conv", "skip"])
net.add_layer("pool", MaxPool2d(2))
net.add_layer("flat", Flatten())
net.add_layer("y", Dense(np.abs(rng.normal(size=(3, 18))), activation="linear"))
X = rng.uniform(size=(1, 1, 6, 6))
e = compile_layers(net).explain(X, target=0, return_layers=True)
print(write(render_layers(net, e), "docs/images/layer-flow-residual.png", dpi=80))

photo = sample_image("china.jpg", 224)
cnn = LayerNetwork()
cnn.add_input("x", (3, 224, 224), Box(0, 1))
cnn.add_layer("conv1", Conv2d(rng.normal(0, 0.3, size=(8, 3, 5, 5)), np.full(8, -0.1), stride=2, padding=2))
cnn.add_layer("pool1", MaxPool2d(2))
cnn.add_layer("conv2", Conv2d(rng.normal(0, 0.2, size=(16, 8, 3, 3)), np.full(16, -0.1), padding=1))
cnn.add_layer("pool2", MaxPool2d(2))
cnn.add_layer("gap", AdaptiveAvgPool2d((4, 4)))
cnn.add_layer("flat", Flatten())
cnn.add_layer("y", Dense(rng.normal(size=(10, 256)), activation="linear"))
compiled = compile_layers(cnn)
top = int(compiled.forward(photo[None]).argmax())
pe = compiled.explain(photo[None], top)
fig = picture_figure(photo, pe.relevance[0], title=f"china.jpg, class {top}")
print(save_figure(fig, "docs/images/pictures-china.png", dpi=80))
