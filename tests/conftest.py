import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = [sys.executable, "-m", "nib.server.cli", "serve"]
DEMO = ROOT / "benchmarks" / "samples" / "demo.py"
