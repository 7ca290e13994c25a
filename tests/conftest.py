import os
import sys
from pathlib import Path

# Tests that do not name a model run the bundled one, whichever models this machine imported
# (`artifacts.default_model`); the tests of an imported model name it. Servers started by
# tests inherit this.
os.environ["NIB_MODEL"] = "bundled"

# Test modules import their shared fakes and paths from tests/fixtures.py (the engine's launcher
# is nib.model.pretrained.llama_server, shared with benchmarks/load.py). Nothing in benchmarks/ is imported.
sys.path.insert(0, str(Path(__file__).resolve().parent))
