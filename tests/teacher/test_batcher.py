"""`RequestBatcher`: order, coalescing, in-flight limit and error propagation."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from raytool.teacher.batcher import RequestBatcher


def test_results_in_order_and_batched() -> None:
    sizes = []

    def dispatch(items):
        sizes.append(len(items))
        return [x * 2 for x in items]

    batcher = RequestBatcher(dispatch, max_batch=4, max_wait_s=0.05)
    assert batcher.map(list(range(10))) == [x * 2 for x in range(10)]
    assert max(sizes) <= 4 and len(sizes) < 10
    batcher.close()


def test_future_dispatch_and_in_flight_limit() -> None:
    active, peak = [0], [0]
    both = threading.Condition()

    def dispatch(items):
        future: Future = Future()
        with both:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
            both.notify_all()

        def finish():  # holds its batch until a second one is in flight (or 2 s pass): the limit is reached
            with both:
                both.wait_for(lambda: active[0] >= 2, timeout=2.0)
                active[0] -= 1
            future.set_result([x + 1 for x in items])

        threading.Thread(target=finish).start()
        return future

    batcher = RequestBatcher(dispatch, max_batch=2, max_wait_s=0.0, max_in_flight=2)
    assert batcher.map(list(range(12))) == list(range(1, 13))
    assert peak[0] == 2  # two batches in flight at once, never three
    batcher.close()


def test_errors_reach_every_caller() -> None:
    def dispatch(items):
        raise ValueError("engine down")

    batcher = RequestBatcher(dispatch, max_batch=8)
    futures = [batcher.submit(i) for i in range(3)]
    for f in futures:
        with pytest.raises(ValueError, match="engine down"):
            f.result(timeout=5)
    batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit(1)
