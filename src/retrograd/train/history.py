"""History: what `fit` returns, one record per epoch (losses, metrics, learning rate, time)."""

import json
import math

__all__ = ["History"]


class History:
    """The per-epoch records of a training run.

    Each record is a dict such as `{"epoch": 3, "train_loss": 0.41, "train_accuracy": 0.88,
    "val_loss": 0.45, "val_accuracy": 0.86, "lr": 0.01, "time": 1.7}` (keys without a value in
    this run, such as `val_loss` without a validation loader, are left out).

        history.records[-1]["val_loss"]   # one epoch
        history["val_loss"]               # one column: a list over the epochs (None where absent)
        history.to_dict()                 # the columns, ready for JSON; from_dict() inverts it
    """

    def __init__(self, records=()):
        self.records = [dict(r) for r in records]

    def append(self, record):
        self.records.append(dict(record))

    def keys(self):
        """Every key that appears in some record, in order of first appearance."""
        seen = {}
        for record in self.records:
            seen.update(dict.fromkeys(record))
        return list(seen)

    def __getitem__(self, key):
        if key not in self.keys():
            raise KeyError(f"History: no column {key!r}; the columns are {self.keys()}")
        return [record.get(key) for record in self.records]

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def best(self, monitor, mode="auto"):
        """The record with the best value of `monitor` (lowest for losses, highest for
        accuracies unless `mode` says "min" or "max"); None when no record has a value."""
        sign = -1.0 if resolve_mode(monitor, mode) == "max" else 1.0
        scored = [r for r in self.records if _finite(r.get(monitor))]
        return min(scored, key=lambda r: sign * r[monitor]) if scored else None

    def to_dict(self):
        """`{column: [value per epoch]}` with None where an epoch has no value."""
        return {key: self[key] for key in self.keys()}

    @classmethod
    def from_dict(cls, columns):
        n = max((len(v) for v in columns.values()), default=0)
        return cls(
            {k: v[i] for k, v in columns.items() if v[i] is not None} for i in range(n)
        )

    def to_json(self, **kwargs):
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self):
        last = self.records[-1] if self.records else {}
        return f"History(epochs={len(self.records)}, last={last})"


def resolve_mode(monitor, mode):
    """"min" or "max" for a monitored quantity: "auto" means max for accuracies and scores."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    maximised = ("acc", "accuracy", "score", "f1", "auc", "precision", "recall")
    return "max" if monitor.split("_")[-1] in maximised else "min"


def _finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)
