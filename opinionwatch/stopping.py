"""Stopping the long-running mode cleanly: SIGTERM or Ctrl-C lets the running job finish, starts no other,
and exits 0.

Two races shape it. A signal handler runs on top of whatever its thread was doing, perhaps holding a lock
that the shutdown or the running job needs (the thread pool's, a log handler's), so the handlers here only
note the signal. And APScheduler 3's ``shutdown()`` marks the scheduler stopped before it takes its locks:
called from another thread during a pass over the jobs, it makes that pass fail (removing a finished
one-off job then raises ``JobLookupError``). So the scheduler's loop runs in a thread of its own and stops
itself between two passes, when asked."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from threading import TIMEOUT_MAX

from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler

log = logging.getLogger(__name__)


class ServiceScheduler(BlockingScheduler):
    """A blocking scheduler that, asked to stop, shuts down between two passes over its jobs (waiting for
    the running job) and returns from ``start()``."""

    _stop_requested = False

    def request_stop(self) -> None:
        """Stop after the current pass; safe from any thread but not from a signal handler."""
        self._stop_requested = True
        if self._event is not None:  # else the loop has not begun: its first pass sees the request
            self.wakeup()

    def _main_loop(self) -> None:
        wait_seconds: float | None = TIMEOUT_MAX
        while self.state != STATE_STOPPED:
            self._event.wait(self._sleep_seconds(wait_seconds))
            self._event.clear()
            if self._stop_requested:
                self.shutdown(wait=True)
                return
            wait_seconds = self._process_jobs()

    def _sleep_seconds(self, wait_seconds: float | None) -> float | None:
        """How long to sleep, in real seconds, before the next pass (``None``: until woken)."""
        return None if wait_seconds is None else min(TIMEOUT_MAX, wait_seconds)


@contextmanager
def noted_signals(*numbers: int) -> Iterator[list[int]]:
    """Within the block, the signals ``numbers`` are only noted, in the list it yields (a handler that did
    more could wait on a lock its own thread holds); the old handlers are back after it."""
    received: list[int] = []
    previous = {number: signal.signal(number, lambda got, _: received.append(got)) for number in numbers}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def serve_until_signalled(scheduler: ServiceScheduler, poll_s: float = 0.2) -> None:
    """Run ``scheduler`` until SIGTERM or SIGINT, then return once the running job has finished (and been
    recorded). Call from the main thread. Should the scheduler's loop fail, its error is raised here."""
    failed: list[BaseException] = []

    def loop() -> None:
        try:
            scheduler.start()
        except BaseException as exc:  # raised again on the main thread below
            failed.append(exc)

    runner = threading.Thread(target=loop, name="scheduler")
    with noted_signals(signal.SIGTERM, signal.SIGINT) as received:
        runner.start()
        while not received and runner.is_alive():
            time.sleep(poll_s)
        if received:
            log.info("stopping on signal %s: waiting for the running job", received[0])
            scheduler.request_stop()
        runner.join()
    if failed:
        raise failed[0]
