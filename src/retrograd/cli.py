"""The command line: `retrograd train` (also `python -m retrograd train`).

    retrograd train                                   # a small CNN on the bundled digits
    retrograd train --model mlp --epochs 5
    retrograd train --dataset mnist --data-dir ~/data/mnist --out runs/mnist
    retrograd train --resume runs/mnist               # continue from runs/mnist/last.safetensors
    mpiexec -n 2 retrograd train --distributed        # data parallel over 2 MPI ranks

A run writes a directory with `config.json` (every setting), `metrics.jsonl` (one line per
epoch), `last.safetensors` and `best.safetensors` (full training checkpoints; `--resume`
continues from either exactly) and `results.json` (the final test loss and accuracy).
"""

import argparse
import contextlib
import json
import os
import sys
import time

from . import __version__, amp, datasets, distributed, nn, optim
from .autograd import dtypes
from .lm import cli as lm_cli
from .monitor import Monitor
from .monitor import cli as monitor_cli
from .monitor.report import build_report
from .ops.random import Generator, manual_seed
from .serialization import load
from .train import EarlyStopping, MetricsLogger, ModelCheckpoint, Trainer
from .train.models import build_model
from .utils.allocator import keep_freed_memory
from .utils.data import DataLoader, DistributedSampler, random_split

__all__ = ["main", "build_parser"]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "mnist1d")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULERS = ("none", "cosine", "step", "onecycle")

# The settings used when an option is not given.
MONITOR_EVERY = 100  # steps between monitor logs: under 10% of a step even for the digits MLP

DEFAULTS = {
    "model": "cnn",
    "dataset": "digits",
    "data_dir": None,
    "epochs": 15,
    "batch_size": 32,
    "lr": 3e-3,
    "optimizer": "adam",
    "momentum": 0.9,
    "weight_decay": 0.0,
    "scheduler": "cosine",
    "seed": 0,
    "val_fraction": 0.1,
    "patience": 0,
    "grad_clip": None,
    "amp": None,
    "checkpoint_segments": 0,
}

# Model widths per dataset: enough to do well, small enough to train in seconds to minutes.
WIDTHS = {
    "digits": {"cnn": {"channels": (32, 64), "hidden": 128}, "mlp": {"hidden": (256, 128)},
               "gru": {"hidden": 128}},
    "mnist": {"cnn": {"channels": (16, 32), "hidden": 128}, "mlp": {"hidden": (256, 128)},
              "gru": {"hidden": 128}},
    "fashion-mnist": {"cnn": {"channels": (32, 64), "hidden": 128},
                      "mlp": {"hidden": (256, 128)}, "gru": {"hidden": 128}},
    "cifar10": {"cnn": {"channels": (32, 64, 128), "hidden": 256},
                "mlp": {"hidden": (512, 256)}, "gru": {"hidden": 256}},
    "mnist1d": {"cnn": {"channels": (32, 64), "hidden": 128}, "mlp": {"hidden": (256, 256)},
                "gru": {"hidden": 128}},
}

# The settings a resumed run may change; the others in DEFAULTS come from the checkpoint.
RESUMABLE = ("epochs", "data_dir")


class UsageError(Exception):
    """A problem with the command line or the environment: printed without a traceback."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="retrograd",
        description="retrograd: a deep-learning framework on its own backpropagation engine.",
    )
    parser.add_argument("--version", action="version", version=f"retrograd {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train a reference model on a benchmark dataset",
        description=(
            "Train an MLP or a small CNN on a benchmark dataset, print the metrics of every\n"
            "epoch and the final test accuracy, and write a run directory: config.json,\n"
            "metrics.jsonl, last.safetensors and best.safetensors (full checkpoints) and\n"
            "results.json. With no options: a CNN on the 8x8 digits bundled with\n"
            "scikit-learn, in seconds."
        ),
        epilog=(
            "examples:\n"
            "  retrograd train\n"
            "  retrograd train --model mlp --epochs 5 --out runs/mlp\n"
            "  retrograd train --dataset mnist --data-dir ~/data/mnist --download\n"
            "  retrograd train --dataset mnist1d --optimizer sgd --lr 0.05 --scheduler onecycle\n"
            "  retrograd train --resume runs/mlp"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = train.add_argument
    add("--model", choices=("mlp", "cnn", "gru"), help=f"network (default "
        f"{DEFAULTS['model']}); the CNN uses Conv1d for 1-D signals (mnist1d); the GRU reads "
        "signals step by step and images row by row")
    add("--dataset", choices=DATASETS, help=f"benchmark (default {DEFAULTS['dataset']}): digits "
        "and mnist1d need no files; mnist, fashion-mnist and cifar10 read them from --data-dir")
    add("--data-dir", metavar="DIR", help="directory holding the dataset files (default: "
        "$RETROGRAD_DATA/<dataset> or ~/.cache/retrograd/<dataset>)")
    add("--download", action="store_true", help="download missing dataset files (checked "
        "against their published MD5)")
    add("--epochs", type=_positive_int, metavar="N", help=f"epochs to train in total "
        f"(default {DEFAULTS['epochs']})")
    add("--batch-size", type=_positive_int, metavar="N", help="samples per optimizer step "
        f"(default {DEFAULTS['batch_size']})")
    add("--lr", type=_positive_float, metavar="LR", help=f"learning rate (peak rate with "
        f"onecycle) (default {DEFAULTS['lr']})")
    add("--optimizer", choices=OPTIMIZERS, help=f"optimizer (default {DEFAULTS['optimizer']})")
    add("--momentum", type=float, metavar="M", help="momentum for sgd and rmsprop "
        f"(default {DEFAULTS['momentum']})")
    add("--weight-decay", type=float, metavar="WD", help="weight decay (L2 penalty; decoupled "
        f"for adamw) (default {DEFAULTS['weight_decay']})")
    add("--scheduler", choices=SCHEDULERS, help="learning-rate schedule: cosine annealing to 0 "
        "over the run, step (x0.1 at 1/2 and 3/4 of the epochs), onecycle (per batch) or none "
        f"(default {DEFAULTS['scheduler']})")
    add("--seed", type=int, metavar="S", help="seed for initialisation, dropout, the "
        f"validation split and shuffling (default {DEFAULTS['seed']})")
    add("--val-fraction", type=_fraction, metavar="F", help="fraction of the training set held "
        f"out for validation; 0 for none (default {DEFAULTS['val_fraction']})")
    add("--patience", type=_nonnegative_int, metavar="N", help="stop early when the "
        "validation loss has not improved for N epochs, keeping the best weights; 0 never "
        f"stops early (default {DEFAULTS['patience']})")
    add("--grad-clip", type=_positive_float, metavar="NORM", help="clip the gradients' total "
        "L2 norm to NORM before each step (default: no clipping)")
    add("--amp", choices=("fp16", "bf16"), help="mixed precision: matrix products and "
        "convolutions in float16 (with a GradScaler) or bfloat16 (needs ml_dtypes: pip install "
        "'retrograd[amp]'), reductions and the loss in float32 (default: float32 throughout)")
    add("--checkpoint-segments", type=_nonnegative_int, metavar="N", help="gradient "
        "checkpointing: run the model's layers in N checkpointed segments, recomputing "
        "activations in backward to save memory (default 0: off)")
    add("--out", metavar="DIR", help="run directory (default: runs/<dataset>-<model>-<time>; "
        "with --resume, the checkpoint's directory)")
    add("--resume", metavar="PATH", help="continue a run from a checkpoint file or a run "
        "directory (its last.safetensors) with the saved settings; only --out, --data-dir, "
        "--no-progress and (for a run without a scheduler) --epochs may be given with it")
    add("--threads", type=_positive_int, default=1, metavar="N", help="BLAS threads for "
        "NumPy (default 1: these small models train fastest on one, and several threads "
        "that wait on each other can make a run 5-10x slower on a busy machine)")
    add("--no-progress", action="store_true", help="no progress bar (it is only shown on a "
        "terminal anyway); the per-epoch lines are still printed")
    add("--distributed", action="store_true", help="data parallel over the ranks of an MPI "
        "job (run as: mpiexec -n N retrograd train --distributed ...; needs pip install "
        "'retrograd[distributed]'): each rank trains on its share of the training set with "
        "batches of --batch-size, so one step sees N x --batch-size samples; rank 0 prints "
        "and writes the run directory")
    add("--monitor-every", type=_nonnegative_int, default=MONITOR_EVERY, metavar="N",
        help="log per-layer gradient norms, update ratios, gradient-flow findings and "
        "histograms of weights, gradients and activations every N steps into the run "
        "directory, and build its HTML report (RUN_DIR/report.html, as `retrograd report` "
        "does) at the end; 0 turns the monitor and the report off (default: %(default)s, a "
        "few percent of the run's time)")
    add("--tensorboard", action="store_true", help="also write TensorBoard event files to "
        "RUN_DIR/tensorboard (needs tensorboardX: pip install 'retrograd[monitor]'; needs the "
        "monitor, so not with --monitor-every 0)")
    lm_cli.add_parser(commands)
    monitor_cli.add_parser(commands)
    return parser


def main(argv=None):
    """Run the command line with `argv` (default: sys.argv[1:]); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    # NOTE: a process-wide malloc setting: fine for the command line, which owns its process;
    # it saves the page faults of re-allocating every step's large arrays (utils/allocator.py).
    keep_freed_memory()
    if args.command == "train-lm":
        return lm_cli.run(args)
    if args.command == "report":
        return monitor_cli.run(args)
    try:
        with _blas_threads(args.threads):
            return train_command(args)
    except UsageError as err:
        if getattr(args, "distributed", False) and distributed.is_initialized():
            distributed.abort(f"retrograd train: error: {err}", code=2)  # all ranks stop
        print(f"retrograd train: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nretrograd train: interrupted; the last checkpoint is kept", file=sys.stderr)
        return 130


def train_command(args):
    started = time.perf_counter()
    if args.tensorboard and not args.monitor_every:
        raise UsageError("--tensorboard needs the monitor: give --monitor-every a positive N")
    rank, world_size = _start_distributed(args.distributed)
    checkpoint = None
    if args.resume:
        checkpoint, config = _resume_config(args)
    else:
        config = {key: getattr(args, key) if getattr(args, key) is not None else default
                  for key, default in DEFAULTS.items()}
    manual_seed(config["seed"])
    train_set, test_set = _load_dataset(config, args)
    input_shape = tuple(train_set.data.shape[1:])
    num_classes = len(train_set.classes)
    train_part, val_part = _split(train_set, config)

    loader_rng = Generator(seed=config["seed"] + 1)
    if world_size > 1:  # each rank its own share, batches of batch_size per rank
        sampler = DistributedSampler(train_part, seed=config["seed"] + 1)
        train_loader = DataLoader(train_part, batch_size=config["batch_size"], sampler=sampler)
    else:
        train_loader = DataLoader(train_part, batch_size=config["batch_size"], shuffle=True,
                                  generator=loader_rng)
    val_loader = DataLoader(val_part, batch_size=512) if val_part is not None else None
    test_loader = DataLoader(test_set, batch_size=512)

    widths = WIDTHS[config["dataset"]][config["model"]]
    model = build_model(config["model"], input_shape, num_classes, **widths,
                        checkpoint_segments=config["checkpoint_segments"])
    if args.distributed:
        model = nn.parallel.DistributedDataParallel(model)  # rank 0's initial weights
    precision, scaler = _mixed_precision(config["amp"])
    optimizer = _optimizer(model, config)
    scheduler, interval = _scheduler(optimizer, config, len(train_loader))

    run_dir = _run_dir(args, config)
    if rank == 0:
        os.makedirs(run_dir, exist_ok=True)
    n_params = sum(p.numel() for p in model.parameters())
    details = {"input_shape": list(input_shape), "num_classes": num_classes,
               "parameters": n_params, "train_samples": len(train_part),
               "val_samples": len(val_part) if val_part is not None else 0,
               "test_samples": len(test_set), "retrograd": __version__,
               "world_size": world_size}
    if rank == 0:
        _write_json(os.path.join(run_dir, "config.json"), {**config, **details})

    shape = "x".join(map(str, input_shape))
    ranks = f" on {world_size} ranks" if args.distributed else ""
    _print(rank, f"retrograd train: {config['model']} ({n_params:,} parameters) on "
           f"{config['dataset']} ({len(train_part)} train / {details['val_samples']} val / "
           f"{len(test_set)} test, input {shape}, {num_classes} classes){ranks}; run directory "
           f"{run_dir}")

    callbacks = [MetricsLogger(os.path.join(run_dir, "metrics.jsonl")),
                 ModelCheckpoint(run_dir, extra={"config": config})]
    if config["patience"]:
        callbacks.append(EarlyStopping(monitor="val_loss" if val_loader else "train_loss",
                                       patience=config["patience"], restore_best_weights=True))
    monitoring = bool(args.monitor_every) and rank == 0
    if monitoring:
        callbacks.append(Monitor(run_dir, every=args.monitor_every,
                                 tensorboard=args.tensorboard))
    trainer = Trainer(model, nn.functional.cross_entropy, optimizer, scheduler=scheduler,
                      scheduler_interval=interval, callbacks=callbacks,
                      grad_clip=config["grad_clip"], progress=not args.no_progress,
                      autocast=precision, grad_scaler=scaler)
    history = trainer.fit(train_loader, val_loader, config["epochs"], resume=checkpoint)

    test = trainer.evaluate(test_loader)
    elapsed = time.perf_counter() - started
    results = {"test_loss": test["loss"], "test_accuracy": test["accuracy"],
               "epochs": trainer.epoch, "best_epoch": _best_epoch(history),
               "wall_time_s": elapsed}
    if rank == 0:
        _write_json(os.path.join(run_dir, "results.json"), results)
    epochs = f"{trainer.epoch} epoch{'' if trainer.epoch == 1 else 's'}"
    _print(rank, f"test accuracy {100 * test['accuracy']:.2f}%  (loss {test['loss']:.4f}, "
           f"{len(test_set)} samples)  after {epochs}, {elapsed:.1f}s; saved in {run_dir}")
    if monitoring:
        print(f"report: {build_report(run_dir)}", flush=True)
    if args.distributed:
        distributed.destroy_process_group()
    return 0


def _start_distributed(enabled):
    """(rank, world size): join the MPI job's process group with --distributed, else (0, 1)."""
    if not enabled:
        return 0, 1
    if not distributed.is_available():
        raise UsageError("--distributed needs mpi4py and an MPI library: pip install "
                         "'retrograd[distributed]', then run mpiexec -n N retrograd train "
                         "--distributed ...")
    if not distributed.is_initialized():
        distributed.init_process_group("mpi")
    return distributed.get_rank(), distributed.get_world_size()


def _print(rank, message):
    if rank == 0:  # the ranks of a data-parallel run would print the same lines
        print(message, flush=True)


# ---------------------------------------------------------------------------- pieces


def _resume_config(args):
    path = args.resume
    if os.path.isdir(path):
        path = os.path.join(path, "last.safetensors")
    if not os.path.exists(path):
        raise UsageError(f"--resume: no checkpoint at {path}")
    try:
        checkpoint = load(path)
    except ValueError as err:
        raise UsageError(str(err)) from None
    saved = checkpoint.get("config") if isinstance(checkpoint, dict) else None
    if not isinstance(saved, dict) or not {"model", "dataset"} <= set(saved):
        raise UsageError(f"--resume: {path} was not written by `retrograd train`")
    config = {**DEFAULTS, **saved}
    for key in DEFAULTS:
        given = getattr(args, key)
        if given is None or key in RESUMABLE:
            continue
        if _normalise(given) != _normalise(config[key]):
            flag = "--" + key.replace("_", "-")
            raise UsageError(f"{flag} {given} differs from the resumed run's {config[key]}; a "
                             f"resumed run keeps its settings (only --epochs, --out, --data-dir "
                             "and --no-progress may change)")
    if args.epochs is not None and args.epochs != config["epochs"]:
        if config["scheduler"] != "none":
            raise UsageError(f"--epochs: the {config['scheduler']} schedule was laid out for "
                             f"{config['epochs']} epochs; only a run without a scheduler can be "
                             "given more epochs when it resumes")
        config["epochs"] = args.epochs
    if args.data_dir is not None:
        config["data_dir"] = args.data_dir
    args.resume_path = path
    return checkpoint, config


def _mixed_precision(name):
    """(autocast dtype or None, GradScaler or None) for --amp."""
    if name is None:
        return None, None
    if name == "fp16":
        return dtypes.float16, amp.GradScaler()
    if dtypes.bfloat16 is None:
        raise UsageError("--amp bf16 needs the ml_dtypes package: pip install 'retrograd[amp]'")
    return dtypes.bfloat16, None  # bfloat16 has float32's range: no loss scaling


def _normalise(value):
    return list(value) if isinstance(value, tuple) else value


def _load_dataset(config, args):
    name = config["dataset"]
    options = {}
    if name in ("mnist", "fashion-mnist", "cifar10"):
        options = {"root": config["data_dir"], "download": args.download}
    try:
        return datasets.load(name, **options)
    except FileNotFoundError as err:
        hint = "Put the files there, point --data-dir at their directory, or add --download."
        raise UsageError(f"{err}\n{hint}") from None
    except ImportError as err:
        raise UsageError(f"{err} (or: pip install 'retrograd[datasets]')") from None
    except (RuntimeError, ValueError) as err:  # a failed download, a damaged file
        raise UsageError(str(err)) from None


def _split(train_set, config):
    fraction = config["val_fraction"]
    if not fraction:
        return train_set, None
    n_val = max(1, round(len(train_set) * fraction))
    generator = Generator(seed=config["seed"])
    train_part, val_part = random_split(train_set, [len(train_set) - n_val, n_val],
                                        generator=generator)
    return train_part, val_part


def _optimizer(model, config):
    name, lr, wd = config["optimizer"], config["lr"], config["weight_decay"]
    params = model.parameters()
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=config["momentum"], weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=config["momentum"], weight_decay=wd)
    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad}
    return classes[name](params, lr=lr, weight_decay=wd)


def _scheduler(optimizer, config, steps_per_epoch):
    """(scheduler or None, "epoch" or "step")."""
    name, epochs = config["scheduler"], config["epochs"]
    schedulers = optim.lr_scheduler
    if name == "cosine":
        return schedulers.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if name == "step":
        milestones = sorted({max(1, epochs // 2), max(1, 3 * epochs // 4)})
        return schedulers.MultiStepLR(optimizer, milestones=milestones, gamma=0.1), "epoch"
    if name == "onecycle":
        return schedulers.OneCycleLR(optimizer, max_lr=config["lr"], epochs=epochs,
                                     steps_per_epoch=steps_per_epoch), "step"
    return None, "epoch"


def _run_dir(args, config):
    if args.out:
        return args.out
    if args.resume:
        return os.path.dirname(os.path.abspath(args.resume_path))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join("runs", f"{config['dataset']}-{config['model']}-{stamp}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    return path


def _best_epoch(history):
    key = "val_loss" if "val_loss" in history.keys() else "train_loss"
    best = history.best(key)
    return best["epoch"] if best else None


def _blas_threads(n):
    """Limit NumPy's BLAS to `n` threads while the run lasts (needs threadpoolctl, which
    scikit-learn brings along; without it the BLAS keeps its own setting)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def _write_json(path, obj):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
