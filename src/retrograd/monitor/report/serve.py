"""`retrograd report RUN_DIR --serve`: the report on localhost while the run goes on.

Each request rebuilds the page from the run directory's logs, and the page reloads itself every
few seconds, so it follows a training run live. It listens on 127.0.0.1 only.
"""

import http.server
from html import escape

from ..runlog import read_run
from .page import render_report

__all__ = ["make_server"]

REFRESH_SECONDS = 5


def make_server(run_dir, port=0, title=None, max_ridges=16, refresh=REFRESH_SECONDS):
    """An HTTP server (not yet serving) for the report of `run_dir` on 127.0.0.1:`port`
    (0: any free port; read it from `server.server_address`). Call `serve_forever()`."""

    class ReportHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            if self.path.split("?")[0] not in ("/", "/index.html", "/report.html"):
                self.send_error(404, "the report is at /")
                return
            try:
                page = render_report(read_run(run_dir), title, max_ridges)
            except (ValueError, OSError) as err:  # a log being written: shown, retried
                page = f"<!doctype html><html><head></head><body><p>{escape(str(err))}</p>"
            body = _with_refresh(page, refresh).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # noqa: A002 - quiet: one line per refresh
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), ReportHandler)


def _with_refresh(page, seconds):
    tag = f'<meta http-equiv="refresh" content="{int(seconds)}">'
    return page.replace("<head>", "<head>" + tag, 1)
