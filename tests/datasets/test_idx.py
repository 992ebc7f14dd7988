import gzip

import numpy as np
import pytest

from retrograd.datasets import read_idx

from .idx_files import idx_bytes, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips_every_type(tmp_path, dtype, gz):
    array = (np.arange(24).reshape(2, 3, 4) * 3 - 20).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / ("x.idx" + (".gz" if gz else "")), array, gz=gz)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, array)
    out[0, 0, 0] = 1  # a writable, independent copy


def test_read_idx_rejects_a_bad_magic_number(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_read_idx_reports_truncation(tmp_path):
    data = idx_bytes(np.zeros((5, 4, 4), dtype=np.uint8))
    (tmp_path / "short").write_bytes(data[:-3])
    with pytest.raises(ValueError, match=r"truncated or corrupt.*\(5, 4, 4\).*80 bytes.*77"):
        read_idx(tmp_path / "short")
    (tmp_path / "header").write_bytes(data[:6])
    with pytest.raises(ValueError, match="header"):
        read_idx(tmp_path / "header")


def test_read_idx_reports_a_truncated_gzip(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="cut.gz.*gzip"):
        read_idx(path)
