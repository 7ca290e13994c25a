import subprocess
import sys

import numpy as np
import pytest

from nib.model.runtime.rows import Rows


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.integers(-128, 128, size=(5000, 24), dtype=np.int8)
    path = tmp_path / "embedding.npy"
    np.save(path, values)
    return path, values


def test_rows_are_the_tables_rows_each_read_once(table):
    path, values = table
    rows = Rows(path)
    ids = np.asarray([7, 4999, 7, 0, 1234, 4999])
    assert rows[ids].tolist() == values[ids].tolist()
    assert rows.read == 4
    grown = np.arange(0, 5000, 3)  # more than the first allotment: the kept rows grow, and stay right
    assert rows[grown].tolist() == values[grown].tolist()
    assert rows[ids].tolist() == values[ids].tolist()
    assert rows.read == len(set(grown.tolist()) | {7, 4999, 1234})
    assert rows[np.asarray([[1, 2], [3, 4]])].tolist() == values[[[1, 2], [3, 4]]].tolist()
    every = np.asarray([-1, *range(5000)])  # -1 is the last row, as numpy takes it: read once
    assert rows[every].tolist() == values[every].tolist() and rows.read == 5000
    assert (len(rows), rows.shape, rows.dtype) == (5000, (5000, 24), np.dtype(np.int8))


def test_a_row_outside_the_table_or_a_short_file_is_a_clear_error(table):
    path, _ = table
    with pytest.raises(IndexError):
        Rows(path)[np.asarray([5000])]
    path.write_bytes(path.read_bytes()[: -24 * 10])  # the last ten rows lost
    rows = Rows(path)
    assert rows[np.asarray([4989])].shape == (1, 24)
    with pytest.raises(ValueError, match=r"embedding\.npy ends before row 4990 of 5000: import the model again"):
        rows[np.asarray([4990])]
    path.write_bytes(b"not a table")
    with pytest.raises(ValueError):
        Rows(path)


# In a process of its own: a 64 MB table just written (in the page cache, as after an import),
# 2,000 rows scattered over it asked for. The process holds those rows, not the table's pages.
SCRIPT = """
import sys
import numpy as np
from nib.model.runtime.rows import Rows

def resident_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024

path = sys.argv[1]
np.save(path, np.ones((65536, 1024), np.int8))
rows = Rows(path)
before = resident_mb()
rows[np.random.default_rng(0).choice(65536, 2000, replace=False)]
print(round(resident_mb() - before, 1), path in open("/proc/self/maps").read())
"""


def test_scattered_rows_of_a_large_table_keep_only_those_rows_resident(tmp_path):
    out = subprocess.run(
        [sys.executable, "-I", "-c", SCRIPT, str(tmp_path / "table.npy")], capture_output=True, text=True, check=True
    )
    grown, mapped = out.stdout.split()
    assert float(grown) < 8 and mapped == "False"  # a memory-mapped table grew by most of its 64 MB here
