"""DataLoader: batches from a dataset, in the calling process.

Settings follow PyTorch: `batch_size`, `shuffle`, `sampler`, `batch_sampler`, `drop_last`,
`collate_fn`, `generator`. `num_workers > 0` is accepted with a warning and runs in the main
process (the batches are the same; only the parallelism is missing). For a `TensorDataset`
(or a `Subset` of one) with the default collate function, a batch is cut with one NumPy
fancy-index per tensor instead of being stacked sample by sample; the result is identical.
"""

import warnings

from ._rng import check_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over `dataset` in batches.

    - `batch_size=len(dataset)`: full-batch; `batch_size=32`: mini-batch; `batch_size=1`:
      online (one sample per step, still with a batch dimension); `batch_size=None`: samples
      without a batch dimension.
    - `shuffle=True` draws a new order every epoch; with `generator=rg.Generator(seed=s)` the
      sequence of orders is reproducible, without it it follows `rg.manual_seed`.
    - `drop_last=True` drops a last, incomplete batch.
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
    ):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                f"DataLoader: num_workers option should be a non-negative integer, "
                f"got {num_workers!r}"
            )
        if num_workers > 0:
            warnings.warn(
                f"DataLoader: num_workers={num_workers} is ignored; retrograd loads batches in "
                "the main process (the batches are the same as with workers)",
                RuntimeWarning,
                stacklevel=2,
            )
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        check_generator(generator, "DataLoader")

        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size = None
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )

        if sampler is None and not isinstance(dataset, IterableDataset):
            if shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            if sampler is None:  # an IterableDataset: validate batch_size all the same
                BatchSampler([], batch_size, drop_last)
            else:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.collate_fn = collate_fn or (
            default_convert if batch_size is None and batch_sampler is None else default_collate
        )

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return self._iter_batches()

    def _iter_batches(self):
        fetch = self._fetcher()
        for indices in self.batch_sampler:
            yield fetch(indices)

    def _fetcher(self):
        dataset, collate = self.dataset, self.collate_fn
        if collate is default_collate:
            fast = getattr(dataset, "_batch_fetcher", None)
            fast = fast() if fast is not None else None
            if fast is not None:
                return fast
        getitems = getattr(dataset, "__getitems__", None)
        if getitems is not None:
            return lambda indices: collate(getitems(indices))
        return lambda indices: collate([dataset[i] for i in indices])

    def _iter_stream(self):
        collate = self.collate_fn
        if self.batch_size is None:
            for sample in self.dataset:
                yield collate(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self):
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"sampler={type(self.sampler).__name__}, drop_last={self.drop_last})"
        )
