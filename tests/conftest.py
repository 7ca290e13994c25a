import sys
from pathlib import Path

# Test modules import their shared fakes and paths from tests/fixtures.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
