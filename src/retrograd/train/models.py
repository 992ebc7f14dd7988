"""The reference models of `retrograd train`: an MLP and a small CNN for any input shape.

    model = build_model("cnn", input_shape=(1, 28, 28), num_classes=10)

Both output class scores (logits) of shape (N, num_classes), for `cross_entropy`. With
`checkpoint_segments=N > 0`, their layers run through `checkpoint_sequential` in N segments
(activations recomputed in backward, for less memory).
"""

import math

from .. import nn
from ..utils.checkpoint import checkpoint_sequential

__all__ = ["MLP", "CNN", "GRUClassifier", "build_model"]


class MLP(nn.Module):
    """Flatten, then `hidden` fully connected ReLU layers (with dropout), then a linear head."""

    def __init__(self, input_shape, num_classes, hidden=(128, 128), dropout=0.1,
                 checkpoint_segments=0):
        super().__init__()
        self.checkpoint_segments = checkpoint_segments
        width = math.prod(input_shape)
        layers = [nn.Flatten()]
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        if not self.checkpoint_segments:
            return self.net(x)
        return _checkpointed(list(self.net.children()), x, self.checkpoint_segments)


class CNN(nn.Module):
    """Conv blocks (3-wide convolution, ReLU, 2x max pooling), then a small MLP head.

    `input_shape` is (C, H, W) for images (Conv2d) or (C, L) for signals such as MNIST-1D
    (Conv1d). Each block halves the spatial size, so the head sees
    `channels[-1] * (H // 2**blocks) * (W // 2**blocks)` features.
    """

    def __init__(self, input_shape, num_classes, channels=(16, 32), hidden=64, dropout=0.25,
                 checkpoint_segments=0):
        super().__init__()
        self.checkpoint_segments = checkpoint_segments
        if len(input_shape) not in (2, 3):
            raise ValueError(
                f"CNN: input_shape must be (C, L) or (C, H, W), got {tuple(input_shape)}"
            )
        conv, pool = (nn.Conv1d, nn.MaxPool1d) if len(input_shape) == 2 else (
            nn.Conv2d, nn.MaxPool2d)
        in_channels, spatial = input_shape[0], list(input_shape[1:])
        layers = []
        for width in channels:
            if min(spatial) < 2:
                raise ValueError(
                    f"CNN: input {tuple(input_shape)} is too small for {len(channels)} "
                    "pooling blocks"
                )
            layers += [conv(in_channels, width, 3, padding=1), nn.ReLU(), pool(2)]
            in_channels, spatial = width, [s // 2 for s in spatial]
        self.features = nn.Sequential(*layers)
        head = [nn.Flatten()]
        if dropout:
            head.append(nn.Dropout(dropout))
        head += [nn.Linear(in_channels * math.prod(spatial), hidden), nn.ReLU(),
                 nn.Linear(hidden, num_classes)]
        self.classifier = nn.Sequential(*head)

    def forward(self, x):
        if not self.checkpoint_segments:
            return self.classifier(self.features(x))
        layers = [*self.features.children(), *self.classifier.children()]
        return _checkpointed(layers, x, self.checkpoint_segments)


class GRUClassifier(nn.Module):
    """A GRU reading the input as a sequence, then a linear head on its last hidden state.

    Signals (C, L) are read as L steps of C features (MNIST-1D: 40 steps of 1), images
    (C, H, W) row by row: H steps of C * W features.
    """

    def __init__(self, input_shape, num_classes, hidden=128, layers=1, checkpoint_segments=0):
        super().__init__()
        if len(input_shape) not in (2, 3):
            raise ValueError(
                f"GRUClassifier: input_shape must be (C, L) or (C, H, W), got {tuple(input_shape)}"
            )
        if checkpoint_segments:
            raise ValueError("GRUClassifier: checkpoint_segments is not supported (the GRU "
                             "over the sequence is one primitive)")
        features = input_shape[0] * (input_shape[2] if len(input_shape) == 3 else 1)
        self.gru = nn.GRU(features, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        if x.ndim == 4:  # (N, C, H, W) -> (N, H, C * W)
            x = x.permute(0, 2, 1, 3).reshape(x.shape[0], x.shape[2], -1)
        else:  # (N, C, L) -> (N, L, C)
            x = x.transpose(1, 2)
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


def _checkpointed(layers, x, segments):
    return checkpoint_sequential(layers, min(segments, len(layers)), x)


def build_model(name, input_shape, num_classes, **options):
    """`"mlp"`, `"cnn"` or `"gru"` for inputs of `input_shape` (without the batch dimension)."""
    models = {"mlp": MLP, "cnn": CNN, "gru": GRUClassifier}
    if name not in models:
        raise ValueError(f"build_model: unknown model {name!r}; choose from {sorted(models)}")
    return models[name](tuple(input_shape), num_classes, **options)
