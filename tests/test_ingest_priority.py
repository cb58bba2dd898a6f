"""Questions keep their latency while a report is indexed: ingest work runs on a thread
of its own at a lower CPU priority, and in the encoder a question waits for the batch
being embedded, not for every batch queued behind it (latency: bench/ingest_load.py)."""

import contextvars
import os
import threading
import time

import pytest

from assistant.background import NICENESS, LowPriorityWorker
from assistant.embeddings import QuestionsFirst

REQUEST = contextvars.ContextVar("request", default=None)


def test_ingest_work_runs_niced_on_its_own_thread_in_the_callers_context():
    worker = LowPriorityWorker()
    REQUEST.set("upload 7")  # Gradio's progress bar finds its request through the context

    def job() -> tuple[int, int, str | None]:
        tid = threading.get_native_id()
        return tid, os.getpriority(os.PRIO_PROCESS, tid), REQUEST.get()

    tid, nice, seen = worker.run(job)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert tid != threading.get_native_id() and nice == min(19, mine + NICENESS) and seen == "upload 7"
    assert worker.run(job)[0] == tid  # one thread, reused


def test_a_failed_ingest_raises_in_the_caller():
    def job() -> None:
        raise ValueError("too large")

    with pytest.raises(ValueError, match="too large"):
        LowPriorityWorker().run(job)


def _waiter(turns: QuestionsFirst, question: bool, order: list[str], name: str) -> threading.Thread:
    def run() -> None:
        with turns.hold(question):
            order.append(name)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_until_blocked(turns: QuestionsFirst, questions: int) -> None:
    for _ in range(500):
        if turns._questions_waiting == questions:
            return
        time.sleep(0.01)


def test_a_waiting_question_goes_before_waiting_report_batches():
    turns, order = QuestionsFirst(), []
    with turns.hold(question=False):  # a batch of report text is being embedded
        batches = [_waiter(turns, False, order, f"batch {i}") for i in range(3)]
        time.sleep(0.05)
        question = _waiter(turns, True, order, "question")
        _wait_until_blocked(turns, 1)
    for thread in [*batches, question]:
        thread.join(5)
    assert order[0] == "question" and sorted(order[1:]) == ["batch 0", "batch 1", "batch 2"]


def test_one_call_at_a_time():
    turns, inside, most = QuestionsFirst(), [0], [0]
    lock = threading.Lock()

    def call(question: bool) -> None:
        with turns.hold(question):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.005)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=call, args=(i % 2 == 0,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert most[0] == 1
