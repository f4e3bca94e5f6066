"""`RequestBatcher`: coalesce concurrent single requests into batches for an engine.

Callers `submit(item)` from any thread and get a `concurrent.futures.Future`. A worker thread takes up to
`max_batch` queued items (waiting at most `max_wait_s` for more after the first), hands them to
`dispatch(items) -> list of per-item results or a Future of that list`, and resolves each caller's future.
At most `max_in_flight` dispatched batches are outstanding at once (one or two per engine actor keeps every
engine busy without piling work onto one).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any


class RequestBatcher:
    """See the module docstring."""

    def __init__(
        self,
        dispatch: Callable[[list[Any]], Sequence[Any] | Future],
        max_batch: int = 64,
        max_wait_s: float = 0.005,
        max_in_flight: int = 2,
    ) -> None:
        self.dispatch = dispatch
        self.max_batch, self.max_wait_s = max_batch, max_wait_s
        self._queue: queue.Queue = queue.Queue()
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._closed = False
        self.batches = 0  # dispatched batches so far
        self._thread = threading.Thread(target=self._run, name="raytool-batcher", daemon=True)
        self._thread.start()

    def submit(self, item: Any) -> Future:
        if self._closed:
            raise RuntimeError("RequestBatcher is closed")
        future: Future = Future()
        self._queue.put((item, future))
        return future

    def map(self, items: Sequence[Any]) -> list[Any]:
        """Submit every item and wait for all results, in order."""
        futures = [self.submit(item) for item in items]
        return [f.result() for f in futures]

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            self._slots.acquire()
            self.batches += 1
            self._send(batch)

    def _send(self, batch: list[tuple[Any, Future]]) -> None:
        futures = [f for _, f in batch]
        try:
            result = self.dispatch([item for item, _ in batch])
        except BaseException as err:  # noqa: BLE001 - handed to every caller of the batch
            self._slots.release()
            for f in futures:
                f.set_exception(err)
            return
        if isinstance(result, Future):
            result.add_done_callback(lambda done: self._resolve(done, futures))
        else:
            self._slots.release()
            for f, value in zip(futures, result, strict=True):
                f.set_result(value)

    def _resolve(self, done: Future, futures: list[Future]) -> None:
        self._slots.release()
        err = done.exception()
        for i, f in enumerate(futures):
            if err is not None:
                f.set_exception(err)
            else:
                f.set_result(done.result()[i])
