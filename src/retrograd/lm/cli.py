"""`retrograd train-lm`: train a character-level language model, or sample from one.

    retrograd train-lm                         # transformer on Python's stdlib sources
    retrograd train-lm --text book.txt --model lstm --epochs 5
    retrograd train-lm --checkpoint runs/lm-transformer-... --sample 500 --prompt "def "

Training prints the unigram baseline, one line per epoch with the held-out bits per character
(`val ... bpc`), then a sample, and writes a run directory (config.json, metrics.jsonl, last and
best checkpoints). With --checkpoint it only samples from a saved model.
"""

import argparse
import contextlib
import os
import sys
import time

from .models import MODEL_DEFAULTS
from .sampling import generate
from .training import TRAIN_DEFAULTS, load_model, train_lm

__all__ = ["main", "add_parser", "run"]

DESCRIPTION = (
    "Train a character-level language model (a decoder-only transformer by default, or an "
    "LSTM) on a text file, or with no --text on about 1 MB of Python's standard library "
    "sources (no download). Reports bits per character on held-out text after every epoch "
    "next to the unigram baseline, saves checkpoints in a run directory and prints a sample. "
    "With --checkpoint, only samples from a saved model."
)

# command-line option -> config key, for the model sizes
SIZE_OPTIONS = {"d_model": "d_model", "heads": "nhead", "layers": "num_layers",
                "dim_feedforward": "dim_feedforward", "dropout": "dropout"}


def add_parser(commands):
    """Add the `train-lm` subcommand to an argparse subparsers object; returns its parser."""
    parser = commands.add_parser("train-lm", help="train or sample a character-level "
                                 "language model", description=DESCRIPTION)
    _add_arguments(parser)
    return parser


def _add_arguments(parser):
    add = parser.add_argument
    d, t = TRAIN_DEFAULTS, MODEL_DEFAULTS["transformer"]
    add("--text", metavar="PATH", help="UTF-8 text to train on (default: Python's standard "
        "library sources)")
    add("--model", choices=("transformer", "lstm"), default=d["model"],
        help="network (default: %(default)s)")
    add("--epochs", type=_positive(int), default=d["epochs"], metavar="N",
        help="passes over the training text (default: %(default)s)")
    add("--batch-size", type=_positive(int), default=d["batch_size"], metavar="N",
        help="windows per step (default: %(default)s)")
    add("--block-size", type=_positive(int), default=d["block_size"], metavar="N",
        help="context length in characters (default: %(default)s)")
    add("--lr", type=_positive(float), default=d["lr"], metavar="LR",
        help="peak learning rate of the one-cycle schedule (default: %(default)s)")
    add("--weight-decay", type=float, default=d["weight_decay"], metavar="WD",
        help="AdamW weight decay (default: %(default)s)")
    add("--grad-clip", type=_positive(float), default=d["grad_clip"], metavar="NORM",
        help="clip the gradients' total norm (default: %(default)s)")
    add("--d-model", type=_positive(int), metavar="N", help=f"embedding / hidden size "
        f"(default: {t['d_model']} transformer, {MODEL_DEFAULTS['lstm']['d_model']} lstm)")
    add("--heads", type=_positive(int), metavar="N",
        help=f"attention heads (default: {t['nhead']})")
    add("--layers", type=_positive(int), metavar="N", help=f"layers (default: "
        f"{t['num_layers']} transformer, {MODEL_DEFAULTS['lstm']['num_layers']} lstm)")
    add("--dim-feedforward", type=_positive(int), metavar="N",
        help=f"transformer feed-forward width (default: {t['dim_feedforward']})")
    add("--dropout", type=float, metavar="P", help=f"dropout (default: {t['dropout']})")
    add("--max-chars", type=_positive(int), default=d["max_chars"], metavar="N",
        help="use at most N characters of the text (default: %(default)s)")
    add("--val-fraction", type=float, default=d["val_fraction"], metavar="F",
        help="held-out fraction, taken from the end of the text (default: %(default)s)")
    add("--seed", type=int, default=d["seed"], help="seed for initialisation, dropout, "
        "batch order and sampling (default: %(default)s)")
    add("--out", metavar="DIR", help="run directory (default: runs/lm-<model>-<time>)")
    add("--threads", type=_positive(int), default=1, metavar="N", help="BLAS threads for "
        "NumPy (default: %(default)s; several threads that wait on each other can make a run "
        "5-10x slower on a busy machine)")
    add("--no-progress", action="store_true", help="no progress bar")
    add("--sample", type=_nonnegative_int, default=300, metavar="N",
        help="characters to generate after training, or from --checkpoint "
             "(default: %(default)s)")
    add("--checkpoint", metavar="PATH", help="sample from this checkpoint (a .safetensors "
        "file or a run directory) instead of training")
    add("--temperature", type=float, default=0.8, metavar="T",
        help="sampling temperature; 0 picks the most likely character (default: %(default)s)")
    add("--top-k", type=_positive(int), metavar="K",
        help="sample among the K most likely characters (default: all)")
    add("--prompt", default="", help="text the sample continues (default: a newline)")


def run(args):
    """Carry out a parsed `train-lm` command; returns the exit status."""
    try:
        with _blas_threads(args.threads):
            return _run(args)
    except (OSError, ValueError, RuntimeError) as err:
        print(f"retrograd train-lm: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nretrograd train-lm: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130


def _run(args):
    if args.checkpoint:
        model, vocab, _ = load_model(args.checkpoint)
    else:
        config = {
            "model": args.model, "text": args.text, "max_chars": args.max_chars,
            "val_fraction": args.val_fraction, "block_size": args.block_size,
            "batch_size": args.batch_size, "epochs": args.epochs, "lr": args.lr,
            "weight_decay": args.weight_decay, "grad_clip": args.grad_clip, "seed": args.seed,
            **{key: getattr(args, opt) for opt, key in SIZE_OPTIONS.items()},
        }
        out = args.out or os.path.join("runs",
                                       f"lm-{args.model}-{time.strftime('%Y%m%d-%H%M%S')}")
        model, vocab, _, _ = train_lm(config, out=out, progress=not args.no_progress)
        print(f"checkpoints in {out}")
    if args.sample:
        text = generate(model, vocab, args.sample, prompt=args.prompt,
                        temperature=args.temperature, top_k=args.top_k, seed=args.seed)
        print(f"--- sample ({args.sample} characters, temperature {args.temperature}) ---")
        print(text)
    return 0


def main(argv=None):
    """`train-lm` on its own: `python -m retrograd.lm.cli [options]`."""
    parser = argparse.ArgumentParser(prog="retrograd train-lm", description=DESCRIPTION)
    _add_arguments(parser)
    return run(parser.parse_args(argv))


def _blas_threads(n):
    """Limit NumPy's BLAS to `n` threads while the command runs (with threadpoolctl, when
    installed; otherwise the BLAS keeps its own setting)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def _positive(kind):
    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
