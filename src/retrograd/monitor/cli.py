"""`retrograd report RUN_DIR`: the offline HTML report of a run directory (and PNG plots).

    retrograd report runs/digits-cnn-20250101-120000            # -> that directory/report.html
    retrograd report runs/demo --out /tmp/demo.html --png       # + learning_curves.png, ...
"""

import argparse
import os
import sys

__all__ = ["add_parser", "run"]

DESCRIPTION = (
    "Build a self-contained HTML page about a training run: learning curves, per-layer "
    "gradient norms and update ratios over time, histograms of weights, gradients and "
    "activations with a step slider, the gradient-flow findings and the run's config. It "
    "reads the run directory written by `retrograd train` (monitor.jsonl and histograms.jsonl "
    "when trained with --monitor-every, or rg.monitor.Monitor in your own loop). The page "
    "fetches nothing: open it from disk, offline, or send it as one file."
)


def add_parser(commands):
    """Add the `report` subcommand to an argparse subparsers object; returns its parser."""
    parser = commands.add_parser(
        "report", help="build an offline HTML report of a training run", description=DESCRIPTION,
        epilog="examples:\n  retrograd train --monitor-every 10 --out runs/demo\n"
               "  retrograd report runs/demo\n  retrograd report runs/demo --out demo.html --png",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("run_dir", metavar="RUN_DIR", help="the run directory (config.json, metrics.jsonl, "
        "monitor.jsonl, ...)")
    add("--out", metavar="PATH", help="where to write the page (default: RUN_DIR/report.html)")
    add("--png", action="store_true", help="also write learning_curves.png and "
        "gradient_norms.png beside the page (needs matplotlib: pip install 'retrograd[plots]')")
    add("--title", metavar="TEXT", help="the page's title (default: the run directory's name)")
    add("--max-ridges", type=_at_least_two, default=16, metavar="N", help="logged steps shown "
        "in each histogram ridgeline, spread over the run (default: %(default)s)")
    add("--serve", action="store_true", help="serve the page on 127.0.0.1 instead, rebuilt "
        "from the logs on every request and reloading itself every few seconds, to follow a "
        "run while it trains (Ctrl-C stops it)")
    add("--port", type=int, default=8000, help="the port for --serve (default: %(default)s)")
    return parser


def run(args):
    """Build the report for parsed `args`; returns the exit status."""
    from .report import build_report, write_pngs
    from .runlog import read_run

    if not os.path.isdir(args.run_dir):
        print(f"retrograd report: error: no run directory at {args.run_dir}", file=sys.stderr)
        return 2
    if args.serve:
        return _serve(args)
    try:
        path = build_report(args.run_dir, args.out, title=args.title,
                            max_ridges=args.max_ridges)
    except ValueError as err:  # a damaged log file
        print(f"retrograd report: error: {err}", file=sys.stderr)
        return 2
    print(f"retrograd report: wrote {path}", flush=True)
    if args.png:
        try:
            pngs = write_pngs(read_run(args.run_dir), os.path.dirname(os.path.abspath(path)))
        except ImportError as err:
            print(f"retrograd report: no PNG plots: {err}", file=sys.stderr)
        else:
            for png in pngs:
                print(f"retrograd report: wrote {png}", flush=True)
    return 0


def _serve(args):
    from .report.serve import make_server

    try:
        server = make_server(args.run_dir, args.port, args.title, args.max_ridges)
    except OSError as err:
        print(f"retrograd report: error: cannot listen on port {args.port}: {err}",
              file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(f"retrograd report: serving {args.run_dir} at http://{host}:{port}/ "
          "(Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _at_least_two(text):
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be an integer of at least 2, got {text}")
    return value
