"""llama.cpp's server (llama-cpp-python[server], installed by tests/engine_tools.sh) serving
Gemma 3 270M's GGUF from its PyPI package, on a free port of 127.0.0.1: the engine that the
engine tests and `load.py --engine llama` drive.

    python -m nib.model.pretrained.llama_server     # serves until Ctrl-C; prints its base URL for engine.url
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import httpx

from .registry import gguf


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def llama_server(threads: int = 2, model: str = "gemma3-270m", api_key: str | None = None, timeout_s: float = 120):
    """The server's base URL (http://127.0.0.1:PORT/v1) while it runs; stopped after.
    api_key: requests must carry it (`Authorization: Bearer KEY`)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    key = ["--api_key", api_key] if api_key else []
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with tempfile.TemporaryFile() as log:  # a file, so that the server never blocks on a full pipe
        serve = [sys.executable, "-I", "-m", "llama_cpp.server", "--model", str(gguf(model))]
        where = ["--n_threads", str(threads), "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen([*serve, *where, *key], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    httpx.get(f"{url}/models", headers=headers, timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(
                            f"llama.cpp's server did not start (exit status {server.poll()}): "
                            + log.read().decode("utf-8", "replace")[-2000:]
                        ) from None
                    time.sleep(0.2)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="llama-cpp-python's server on a pinned GGUF, until stopped")
    parser.add_argument("--model", default="gemma3-270m", help="a model `nib model gguf` knows")
    parser.add_argument("--threads", type=int, default=2)
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops the engine too, as Ctrl-C does
    with llama_server(options.threads, options.model) as base:
        print(base, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
