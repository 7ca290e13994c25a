import os
import sys
import tempfile
from pathlib import Path

# Tests that do not name a model run the bundled one, whichever models this machine imported
# (`artifacts.default_model`); the tests of an imported model name it. Servers started by
# tests inherit this.
os.environ["NIB_MODEL"] = "bundled"
# Servers started by tests count acceptance (`stats.enable`) into a file of their own, never the user's.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="nib-test-data-")

# Test modules import their shared fakes and paths from tests/fixtures.py (the engine's launcher
# is nib.model.pretrained.llama_server, shared with benchmarks/load.py). Nothing in benchmarks/ is imported.
sys.path.insert(0, str(Path(__file__).resolve().parent))
