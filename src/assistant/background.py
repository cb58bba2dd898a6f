"""Ingest work on one thread of its own, at a lower CPU priority than questions.

A report added from the chat, the HTTP API or the CLI is read, embedded and written on
this thread; the caller waits for the result (and sees its progress bar, since the
caller's context goes along), but the work yields the CPU to the threads answering
questions: on Linux a thread has its own nice value, and the encoder's worker threads
that this thread starts inherit it. With `embeddings.QuestionsFirst` a question waits
for at most one batch of report text in the encoder (`bench/ingest_load.py`)."""

import contextvars
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
NICENESS = 10  # added to the process's nice value: questions get the CPU first (Linux, per thread)


class LowPriorityWorker:
    """One daemon thread that runs jobs in order, niced; started on first use."""

    def __init__(self, niceness: int = NICENESS) -> None:
        self._niceness = niceness
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def run(self, job: Callable[[], T]) -> T:
        """Run `job` on the worker thread in the caller's context; wait for its result
        (or its exception)."""
        future: Future = Future()
        self._jobs.put((contextvars.copy_context(), job, future))
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="ingest", daemon=True)
                self._thread.start()
        return future.result()

    def _work(self) -> None:
        lower_priority(self._niceness)
        while True:
            context, job, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(context.run(job))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)


def lower_priority(niceness: int) -> None:
    """Raise this thread's nice value by `niceness` (Linux: threads have their own)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    except (AttributeError, OSError) as exc:  # not Linux, or not allowed: same priority as questions
        log.info("ingest runs at normal priority (%s)", exc)
