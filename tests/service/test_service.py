"""The completion service's own bookkeeping: how long a request waited for its model's thread."""

import time
from concurrent.futures import ThreadPoolExecutor

from nib.model.completion.result import Result, Timings
from nib.model.service.service import _queued


def test_the_wait_for_the_inference_thread_is_the_requests_queue_ms():
    with ThreadPoolExecutor(1) as thread:
        thread.submit(time.sleep, 0.1)  # another request's work, on the thread first
        result = thread.submit(_queued(lambda cancel: Result([], Timings(prefill_ms=5.0))), None).result()
    assert result.timings.queue_ms >= 90 and result.timings.prefill_ms == 5.0
    assert result.timings.total_ms() == result.timings.queue_ms + 5.0
