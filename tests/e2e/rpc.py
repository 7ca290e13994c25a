"""A raw JSON-RPC client over a server's stdio: sends anything, even bytes that are not JSON.

pytest-lsp speaks only well-formed LSP; the robustness tests also need
malformed frames, unknown methods and wrong params, and to see every answer.
"""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import threading


class RawClient:
    def __init__(self, command: list[str], stderr=subprocess.DEVNULL, env: dict | None = None):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env)
        self.ids = itertools.count(1)
        self.responses: dict[object, dict] = {}
        self.notifications: queue.Queue = queue.Queue()
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self._arrived:
                        self._arrived.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            message = json.loads(out.read(length))
            if "id" in message and "method" not in message:
                if not isinstance(message["id"], (int, str, type(None))):
                    message["id"] = repr(message["id"])  # a bad id echoed back: still counted, under its repr
                with self._arrived:
                    self.responses.setdefault(message["id"], message)
                    self.responses.setdefault(("all", message["id"]), [])  # how many answers this id got
                    self.responses[("all", message["id"])].append(message)
                    self._arrived.notify_all()
            elif "id" in message:  # a request from the server (e.g. workspace/configuration): answer null
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            else:
                self.notifications.put(message)

    def send_bytes(self, body: bytes) -> None:
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def send(self, message) -> None:
        self.send_bytes(json.dumps(message).encode("utf-8", "surrogatepass"))

    def notify(self, method: str, params=None) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request_async(self, method: str, params=None) -> int:
        request_id = next(self.ids)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return request_id

    def wait(self, request_id, timeout: float = 30.0) -> dict:
        with self._arrived:
            if not self._arrived.wait_for(
                lambda: request_id in self.responses or self.process.poll() is not None, timeout
            ):
                raise TimeoutError(f"no answer to request {request_id} in {timeout} s")
        if request_id not in self.responses:
            raise ConnectionError(f"the server ended (exit code {self.process.poll()}) before answering {request_id}")
        return self.responses[request_id]

    def request(self, method: str, params=None, timeout: float = 30.0):
        """The result, or raise on a JSON-RPC error."""
        answer = self.wait(self.request_async(method, params), timeout)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["result"]

    def initialize(self, encodings=None, options=None, process_id=None) -> dict:
        caps = {"general": {"positionEncodings": encodings}} if encodings else {}
        result = self.request(
            "initialize", {"processId": process_id, "capabilities": caps, "initializationOptions": options}
        )
        self.notify("initialized", {})
        return result

    def close(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            try:
                self.request("shutdown", timeout=timeout)
                self.notify("exit")
            except (OSError, TimeoutError, ConnectionError, RuntimeError):
                pass
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
