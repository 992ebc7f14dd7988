import threading
import urllib.error
import urllib.request

import pytest

from retrograd.monitor.report.serve import make_server


@pytest.fixture
def served(healthy_run):
    server = make_server(healthy_run, port=0, refresh=3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_serves_the_report_and_reloads_itself(served):
    with urllib.request.urlopen(served + "/", timeout=30) as response:
        page = response.read().decode("utf-8")
        assert response.headers["Cache-Control"] == "no-store"
    assert '<meta http-equiv="refresh" content="3">' in page
    assert "<svg" in page and "learning" in page.lower()


def test_other_paths_are_not_found(served):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(served + "/etc/passwd", timeout=30)
    assert err.value.code == 404
