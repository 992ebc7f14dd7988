"""TensorBoard event files for what the monitor logs, through tensorboardX.

The tags (a layer '' — the model's own parameters — is named "(model)"):

    train/loss, train/loss_avg, train/lr, train/grad_norm_total    every logged step
    epoch/<key>            each epoch's record: epoch/train_loss, epoch/val_accuracy, ...
    scalars/<key>          monitor.log_scalars
    grad_norm/<layer>, weight_norm/<layer>, update_ratio/<layer>   per layer
    weights/<param>, grads/<param>, activations/<module>          histograms
    gradient_flow/findings                                         text, when there are any

Histograms keep the monitor's own bins (`add_histogram_raw`), so TensorBoard shows the same
counts as the HTML report.
"""

import os

__all__ = ["TensorBoardWriter", "HISTOGRAM_TAGS"]

HISTOGRAM_TAGS = {"weight": "weights", "grad": "grads", "activation": "activations"}


class TensorBoardWriter:
    """A thin adapter over `tensorboardX.SummaryWriter` writing into `logdir`.

    `purge_step`: a resumed run passes the step it resumes from, so that TensorBoard drops
    the events a previous run wrote after that step.
    """

    def __init__(self, logdir, purge_step=None):
        try:
            from tensorboardX import SummaryWriter
        except ImportError as err:
            raise ImportError(
                "Monitor(tensorboard=True) needs the tensorboardX package: "
                "pip install 'retrograd[monitor]' (or pip install tensorboardX)"
            ) from err
        self.logdir = os.fspath(logdir)
        self._writer = SummaryWriter(logdir=self.logdir, purge_step=purge_step, flush_secs=10)

    def scalars(self, step, values, prefix=""):
        """`values`: {tag: number}; None, bools and non-numbers are left out."""
        for tag, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self._writer.add_scalar(prefix + tag, float(value), global_step=step)

    def histogram(self, step, kind, name, record):
        """One histogram record (see `retrograd.monitor.histogram`); empty ones are skipped."""
        if not record["counts"]:
            return
        n, mean, std = record["n"], record["mean"], record["std"]
        self._writer.add_histogram_raw(
            f"{HISTOGRAM_TAGS[kind]}/{name}",
            min=record["min"], max=record["max"], num=n, sum=mean * n,
            sum_squares=(std * std + mean * mean) * n,
            bucket_limits=record["edges"][1:], bucket_counts=record["counts"],
            global_step=step,
        )

    def findings(self, step, findings):
        if not findings:
            return
        rows = ["| kind | layer | what | fix |", "|---|---|---|---|"]
        rows += [f"| {f['kind']} | {layer_tag(f['layer'])} | {_cell(f['message'])} | "
                 f"{_cell(f['remedy'])} |" for f in findings]
        self._writer.add_text("gradient_flow/findings", "\n".join(rows), global_step=step)

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()


def layer_tag(name):
    return name if name else "(model)"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")
