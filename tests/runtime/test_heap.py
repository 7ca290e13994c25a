import subprocess
import sys

from nib.model.runtime import heap

# In a process of its own: free a 16 MB buffer (glibc then serves buffers up to 16 MB from its
# heap), fill 160 MB of the heap with 8 MB buffers, each followed by a small one that stays, and
# free the large ones. The heap keeps them resident until its free memory is returned.
SCRIPT = """
import os
import numpy as np
from nib.model.runtime import heap

def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

freed = np.ones(16 << 20, np.uint8)
del freed
large, small = [], []
for _ in range(20):
    large.append(np.ones(8 << 20, np.uint8))
    small.append(bytearray(200_000))
before = resident_mb()
del large
kept = resident_mb()
heap.return_freed()
print(round(before - kept), round(kept - resident_mb()))
"""


def test_the_heap_keeps_freed_buffers_until_they_are_returned():
    assert heap.available()  # glibc's, as on every machine nib is tested on (elsewhere a no-op)
    out = subprocess.run([sys.executable, "-I", "-c", SCRIPT], capture_output=True, text=True, check=True)
    freed_at_once, returned = (int(x) for x in out.stdout.split())
    assert freed_at_once < 20 and returned > 140  # of the 160 MB freed
