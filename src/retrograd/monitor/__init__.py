"""rg.monitor: watch a training run and build an offline HTML report of it.

    monitor = rg.monitor.Monitor("runs/demo", every=20)          # a rg.train callback
    rg.train.fit(model, loss_fn, optimizer, train_loader, val_loader, epochs=3,
                 callbacks=[monitor])
    rg.monitor.build_report("runs/demo")                          # runs/demo/report.html

The monitor writes `monitor.jsonl` and `histograms.jsonl` into the run directory (format in
`retrograd.monitor.runlog`), and TensorBoard event files with `tensorboard=True`.
"""

from .histogram import bounded_sample, histogram
from .monitor import Monitor
from .report import build_report, write_pngs
from .runlog import RunLog, read_run

__all__ = ["Monitor", "build_report", "write_pngs", "histogram", "bounded_sample", "read_run",
           "RunLog"]
