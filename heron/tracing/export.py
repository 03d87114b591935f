"""The export queue and its thread: finished spans leave the traced code's thread in one deque append.

- ``enqueue`` appends to a deque (no lock, no I/O). Past ``HERON_TRACE_QUEUE_SIZE`` waiting spans, new
  spans are dropped and counted: the traced code never waits.
- One daemon thread, started at the first span (never at import), takes batches off the queue, turns them
  into records (span processors, content capture, cost) and writes them to their sink, one transaction
  per batch.
- A sink that fails (read-only file, database down, endpoint unreachable) drops that batch: the spans
  are counted in ``stats()``, ONE warning is logged for the process, later failures go to debug.
- ``flush`` waits until everything queued before it is written; an ``atexit`` hook flushes at exit.
- A sink's first write (its imports, opening or creating the store) runs with a short switch interval
  (``_prompt_switches``), so that a busy app thread cannot hold it back for seconds.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from heron import config
from heron.tracing.pending import Finished, PendingSpan, Target, from_finished, strip_content
from heron.tracing.sinks import PartialWrite, Sink, open_sink, sink_key

__all__ = ["Exporter", "ExportSettings", "SpanProcessorFn", "EXPORTER"]

_logger = logging.getLogger("heron.tracing")

SpanProcessorFn = Callable[[PendingSpan], Any]
Item = Finished  # a finished span, where it goes, and whether it is its trace's first span here

BATCH_SIZE = 4_096  # four statements a table on SQLite (sqlwrite._CHUNKS)
INTERVAL_S = 0.5  # how long finished spans may wait when fewer than a batch are queued
OPENING_SWITCH_S = 0.0001  # the interpreter's switch interval while a sink opens (see _prompt_switches)


@dataclass(frozen=True)
class ExportSettings:
    """What the export thread does to spans before writing them (set by ``configure``)."""

    capture_content: bool = True
    span_processors: tuple[SpanProcessorFn, ...] = ()


class _FlushRequest:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


@dataclass
class _Counters:
    exported: int = 0
    dropped_queue_full: int = 0
    dropped_export_error: int = 0
    dropped_by_processor: int = 0
    processor_errors: int = 0
    failed_batches: int = 0
    last_error: str | None = None
    warned: set[str] = field(default_factory=set)


class Exporter:
    """The queue of finished spans and the thread that writes them. One per process (``EXPORTER``)."""

    def __init__(self) -> None:
        self.settings = ExportSettings()
        self._queue: deque[Item | _FlushRequest] = deque()
        self._max = config.TRACE_QUEUE_SIZE.default
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._busy = threading.Lock()  # held while a batch is being written
        self._drop_lock = threading.Lock()
        self._counters = _Counters()
        self._sinks: dict[str, Sink] = {}
        self._atexit_registered = False
        self._generation = 0  # bumped by reset(): a batch taken before it is not counted after it
        os.register_at_fork(after_in_child=self._after_fork)

    # ------------------------------------------------------------------ the traced code's thread

    def enqueue(self, item: Item) -> None:
        """Queue one finished span. Never blocks, never raises; drops and counts when full."""
        queue = self._queue
        if len(queue) >= self._max:
            with self._drop_lock:
                self._counters.dropped_queue_full += 1
            self._warn_once("queue", "the export queue is full (%d spans): spans are being dropped; raise "
                            "HERON_TRACE_QUEUE_SIZE or call heron.flush_traces()", self._max)
            return
        queue.append(item)
        if self._thread is None:
            self._start()
        if len(queue) >= BATCH_SIZE and not self._wake.is_set():
            self._wake.set()

    def drop_unreadable(self, exc: BaseException) -> None:
        """Count a finished span that could not be read (logged once, like an export failure)."""
        with self._drop_lock:
            self._failed(1, f"could not read a span: {exc!r}", exc)

    # ------------------------------------------------------------------------------- any thread

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every span queued before this call is written (or dropped); False on timeout.

        Spans of traces still open are not finished, so they are not flushed. Thread-safe; called from
        the export thread itself (a span processor), it returns False at once instead of deadlocking.
        """
        if threading.current_thread() is self._thread:
            return False
        if not self._queue and self._thread is None:
            return True
        request = _FlushRequest()
        self._queue.append(request)
        self._start()
        self._wake.set()
        return request.done.wait(timeout)

    def stats(self) -> dict[str, Any]:
        c = self._counters
        waiting = sum(1 for item in list(self._queue) if not isinstance(item, _FlushRequest))
        dropped = c.dropped_queue_full + c.dropped_export_error
        return {
            "queued": waiting,
            "exported": c.exported,
            "dropped": dropped,
            "dropped_queue_full": c.dropped_queue_full,
            "dropped_export_error": c.dropped_export_error,
            "dropped_by_processor": c.dropped_by_processor,
            "processor_errors": c.processor_errors,
            "failed_batches": c.failed_batches,
            "last_error": c.last_error,
        }

    def reset(self) -> None:
        """Forget queued spans, counters, warnings and open sinks (tests; the thread keeps running)."""
        self._queue.clear()
        with self._busy:
            self._generation += 1
            self._queue.clear()
            self._counters = _Counters()
            self._sinks.clear()
            self.settings = ExportSettings()
        self._max = _queue_size()

    # --------------------------------------------------------------------------- export thread

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._max = _queue_size()
            thread = threading.Thread(target=self._run, name="heron-trace-export", daemon=True)
            self._thread = thread
            thread.start()
            if not self._atexit_registered:
                atexit.register(self._flush_at_exit)
                self._atexit_registered = True

    def _run(self) -> None:
        while True:
            self._wake.wait(INTERVAL_S)
            self._wake.clear()
            try:
                self._drain()
            except Exception:  # noqa: BLE001 - the thread must survive anything
                _logger.debug("Heron trace export loop failed", exc_info=True)

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            batch: list[Item] = []
            flushes: list[_FlushRequest] = []
            while queue and len(batch) < BATCH_SIZE:
                item = queue.popleft()
                if isinstance(item, _FlushRequest):
                    flushes.append(item)
                    break  # everything before the request goes out before it is answered
                batch.append(item)
            with self._busy:
                if batch:
                    self._export(batch, self._generation)
            for request in flushes:
                request.done.set()

    def _export(self, batch: Sequence[Item], generation: int) -> None:
        settings = self.settings
        groups: dict[str, list[tuple[PendingSpan, Target]]] = {}
        keys: dict[Target, str] = {}
        for span in batch:
            target = span.target
            try:
                pending = from_finished(span)
            except Exception as exc:  # noqa: BLE001 - a span we cannot read is dropped, not fatal
                self._failed(1, f"could not read a span: {exc!r}", exc)
                continue
            if not settings.capture_content:
                strip_content(pending)
            if settings.span_processors and not self._process(pending, settings.span_processors):
                continue
            key = keys.get(target)
            if key is None:
                key = keys[target] = sink_key(target)
            group = groups.get(key)
            if group is None:
                group = groups[key] = []
            group.append((pending, target))
        for key, spans in groups.items():
            try:
                sink = self._sinks.get(key)
                if sink is None:
                    with _prompt_switches():
                        sink = self._sinks[key] = open_sink(key)
                        sink.write(spans)
                else:
                    sink.write(spans)
            except Exception as exc:  # noqa: BLE001 - never let a store failure reach anyone
                written = exc.written if isinstance(exc, PartialWrite) else 0
                if generation == self._generation:
                    self._counters.exported += written
                lost = len(spans) - written
                self._failed(lost, f"could not write {lost} spans to {_safe(key)}: {exc}", exc)
                self._sinks.pop(key, None)  # reopen next time (the store may come back)
            else:
                if generation == self._generation:
                    self._counters.exported += len(spans)

    def _process(self, span: PendingSpan, processors: tuple[SpanProcessorFn, ...]) -> bool:
        for fn in processors:
            try:
                keep = fn(span)
            except Exception as exc:  # noqa: BLE001 - fail closed: an unredacted span is never exported
                self._counters.processor_errors += 1
                self._counters.dropped_by_processor += 1
                self._warn_once(f"processor:{id(fn)}", "span processor %r raised %r; its spans are dropped "
                                "(not exported unredacted)", fn, exc)
                return False
            if keep is False:
                self._counters.dropped_by_processor += 1
                return False
        return True

    def _failed(self, count: int, message: str, exc: BaseException) -> None:
        c = self._counters
        c.dropped_export_error += count
        c.failed_batches += 1
        c.last_error = message
        if "export" not in c.warned:
            c.warned.add("export")
            _logger.warning("Heron tracing %s. The traced code is not affected; dropped spans are counted in "
                            "heron.tracing.stats(). Further export errors are logged at debug level.", message)
        else:
            _logger.debug("Heron tracing %s", message, exc_info=exc)

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        warned = self._counters.warned
        if key not in warned:
            warned.add(key)
            _logger.warning("Heron tracing: " + message, *args)

    def _flush_at_exit(self) -> None:
        try:
            self.flush(config.TRACE_EXIT_FLUSH_TIMEOUT_S.get())
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def _after_fork(self) -> None:
        # The parent's thread does not exist here; the parent exports what it had queued and counted.
        self._queue = deque()
        self._counters = _Counters()
        self._thread = None
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._busy = threading.Lock()
        self._drop_lock = threading.Lock()
        self._sinks = {}


@contextmanager
def _prompt_switches() -> Iterator[None]:
    """Run the block with the interpreter's switch interval at ``OPENING_SWITCH_S``, then put it back.

    A sink's first write imports its libraries (SQLAlchemy and the store's modules, or the OTLP
    exporter) and opens or creates the store. Each file read and each SQL statement lets go of the
    interpreter lock, and while the app's thread is busy running Python, the export thread then waits
    the switch interval (5 ms by default) to get it back, every time. Under a loop that only made
    traced calls, the first batch took ~7.5 s to reach the store while ~77,000 spans piled up in the
    queue (of 100,000). With a 0.1 ms interval for those moments it takes ~1.5 s, the app sharing the
    CPU meanwhile. The interval is put back only if nobody changed it in between (an app's own value
    stands)."""
    before = sys.getswitchinterval()
    if before <= OPENING_SWITCH_S:
        yield
        return
    sys.setswitchinterval(OPENING_SWITCH_S)
    ours = sys.getswitchinterval()  # as the interpreter stores it (whole microseconds)
    try:
        yield
    finally:
        if sys.getswitchinterval() == ours:
            sys.setswitchinterval(before)


def _queue_size() -> int:
    try:
        size = config.TRACE_QUEUE_SIZE.get()
    except Exception as exc:  # noqa: BLE001 - a bad variable must not raise into the traced code
        _logger.warning("Heron tracing: %s Using %d.", exc, config.TRACE_QUEUE_SIZE.default)
        return config.TRACE_QUEUE_SIZE.default
    return max(size, 1)


def _safe(key: str) -> str:
    """A sink key without credentials, for messages."""
    if "@" in key and "://" in key:
        scheme, rest = key.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return key


EXPORTER = Exporter()
