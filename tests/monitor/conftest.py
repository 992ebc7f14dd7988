import pytest

from .helpers import train


@pytest.fixture(scope="session")
def healthy_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("healthy")
    train(run_dir, epochs=2, every=3)
    return run_dir


@pytest.fixture(scope="session")
def dead_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("dead")
    train(run_dir, epochs=2, every=4, dead=True)
    return run_dir
