"""Classify MNIST-1D signals with a GRU reading them one time step at a time.

Each signal (40 samples, one channel) is a sequence; a GRU runs over it and a linear layer
maps its last hidden state to the 10 classes. Trained with rg.train.fit (AdamW, one-cycle
schedule, gradient clipping); prints each epoch and the final test accuracy. The data are
generated locally by the `mnist1d` package (no download). About a minute on two cores:

    python examples/mnist1d_gru.py [--hidden 128] [--layers 1] [--epochs 20] [--seed 0]
"""

import argparse
import time

import retrograd as rg
from retrograd import nn


class GRUClassifier(nn.Module):
    """(N, channels, length) signals -> GRU over the length -> logits from the last state."""

    def __init__(self, channels, num_classes, hidden=128, layers=1, bidirectional=False):
        super().__init__()
        self.gru = nn.GRU(channels, hidden, num_layers=layers, batch_first=True,
                          bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), num_classes)

    def forward(self, x):
        _, h_n = self.gru(x.transpose(1, 2))  # (N, length, channels): time steps in order
        if self.gru.bidirectional:
            last = rg.cat([h_n[-2], h_n[-1]], dim=1)  # the last layer's two directions
        else:
            last = h_n[-1]
        return self.head(last)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--samples", type=int, default=5000,
                        help="signals generated (80%% train; 5000 is the published set)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rg.manual_seed(args.seed)
    splits = rg.datasets.mnist1d(num_samples=args.samples)
    n_val = len(splits.train) // 10  # validation comes out of the training signals
    train_set, val_set = rg.utils.data.random_split(
        splits.train, [len(splits.train) - n_val, n_val],
        generator=rg.Generator().manual_seed(args.seed))
    test_set = splits.test
    loader = rg.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                      generator=rg.Generator().manual_seed(args.seed))
    val_loader = rg.utils.data.DataLoader(val_set, batch_size=500)
    test_loader = rg.utils.data.DataLoader(test_set, batch_size=500)
    model = GRUClassifier(1, 10, args.hidden, args.layers, args.bidirectional)
    optimizer = rg.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = rg.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * len(loader))
    print(f"GRU({args.hidden}, layers={args.layers}"
          f"{', bidirectional' if args.bidirectional else ''}): "
          f"{sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(train_set)} training, {len(val_set)} validation and {len(test_set)} test "
          "signals")
    started = time.perf_counter()
    trainer = rg.train.Trainer(model, nn.CrossEntropyLoss(), optimizer, scheduler=scheduler,
                               scheduler_interval="step", grad_clip=1.0)
    trainer.fit(loader, val_loader, epochs=args.epochs)
    result = trainer.evaluate(test_loader)
    print(f"test accuracy {100 * result['accuracy']:.1f}% "
          f"({time.perf_counter() - started:.0f}s)")
    return result


if __name__ == "__main__":
    main()
