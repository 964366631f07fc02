"""Run a case in a forked child process, so that its memory is returned to the system.

A child builds the store, runs the case, sends back the pickled ``CaseOutcome`` (which
contains no store) and exits, and the system gets all of its memory back. In the pytest
process, a case's objects are freed when it ends, but the memory CPython took for them
may stay with the process. Progress lines and log records of the child are sent to the
parent and handled there, so they reach pytest's terminal and log capture as in-process
ones do. The case's observers (``CaseSetup.observers``) would run in the child, where
state they keep for the parent process, such as Prometheus metrics served from it, is
never seen, so ``auto`` keeps a case with observers in process.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import pickle
import signal
import sys
import traceback
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, Literal

from pytest_syncbench.harness import CaseOutcome, CaseSetup, run_case

logger = logging.getLogger(__name__)

IsolateMode = Literal["auto", "always", "never"]
ISOLATE_MODES: tuple[IsolateMode, ...] = ("auto", "always", "never")

# ``auto`` isolates cases with at least this many seeded companies: the 1,000,000-company
# cases of ``full``, which need 4.3 to 5.8 GB each. The largest case of ``default``
# (250,000 companies, about 1.5 GB) stays in process, as its published figures were
# measured. A child costs about 0.4 s a case (fork and pickling), so ``always`` is cheap.
ISOLATE_MIN_COMPANIES = 500_000

# An estimate of a case's memory, for the message when a child is killed: hybrid-cdc's
# 1,000,000-company scale case peaked at 5.8 GB, the largest measured, about 6 KB per company.
BYTES_PER_COMPANY_ESTIMATE = 6_000

# Wall seconds a child may take to exit after its last message before it is killed.
EXIT_TIMEOUT_S = 60.0

_PROGRESS = "progress"
_LOG = "log"
_RESULT = "result"
_ERROR = "error"


class IsolatedCaseError(Exception):
    """Raised when a child process ends without sending a case's outcome."""


class ChildTraceback(Exception):
    """The formatted traceback of an exception raised in a child process."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0])


def should_isolate(setup: CaseSetup, mode: IsolateMode) -> bool:
    """Return whether ``mode`` runs the case of ``setup`` in a child process."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if mode == "auto":
        # Observers such as the Prometheus endpoint live in this process, and a child's
        # updates would never reach them.
        if setup.observers:
            return False
        return setup.spec.companies >= ISOLATE_MIN_COMPANIES
    raise ValueError(
        f"invalid isolate mode {mode!r}: expected one of {', '.join(ISOLATE_MODES)}"
    )


def run_case_as(setup: CaseSetup, mode: IsolateMode) -> CaseOutcome:
    """Run the case of ``setup`` in a child process or in this one, as ``mode`` selects."""
    if should_isolate(setup, mode):
        return run_case_isolated(setup)
    return run_case(setup)


def fork_available() -> bool:
    """Return whether this platform can fork, which isolation needs."""
    return "fork" in multiprocessing.get_all_start_methods()


def run_case_isolated(setup: CaseSetup) -> CaseOutcome:
    """Run ``run_case(setup)`` in a forked child process and return its outcome.

    The case runs in this process where the platform has no fork. An exception of
    ``run_case`` in the child is raised here again: the same exception when it pickles,
    otherwise an ``IsolatedCaseError`` with its message. ``IsolatedCaseError`` is raised
    when the child dies or exits without an outcome. An exception here, Ctrl-C included,
    kills the child, and the child is always joined.
    """
    if not fork_available():
        return run_case(setup)
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    # Output buffered in this process would be written a second time by the child.
    _flush_stdio()
    child = context.Process(
        target=_child_main,
        args=(setup, sender),
        name=f"syncbench-case-{_case_label(setup)}",
        daemon=True,
    )
    # NOTE: Python 3.12 and later warn (DeprecationWarning) when a process with other
    # threads forks, and this project's pytest settings turn warnings into errors. Only
    # Python 3.11 without such threads (no metrics server or span exporter) was tested.
    child.start()
    # Only the child has the write end from here on, so its exit closes the stream.
    sender.close()
    try:
        message = _receive_until_done(receiver, child, setup)
    except BaseException:
        child.kill()
        raise
    finally:
        receiver.close()
        # After its message the child flushes its output and exits, unless a thread it
        # started keeps it alive.
        child.join(EXIT_TIMEOUT_S)
        if child.exitcode is None:
            child.kill()
            child.join()
    if message is None:
        raise IsolatedCaseError(_death_message(setup, child.pid, child.exitcode))
    kind, payload = message
    if kind == _RESULT:
        outcome: CaseOutcome = pickle.loads(payload)
        return outcome
    exception, text, summary = payload
    if exception is not None:
        raise pickle.loads(exception) from ChildTraceback(text)
    raise IsolatedCaseError(
        f"case {_case_label(setup)} raised in its child process: {summary}"
    ) from ChildTraceback(text)


def _receive_until_done(
    receiver: Connection, child: BaseProcess, setup: CaseSetup
) -> tuple[str, Any] | None:
    """Pass the child's progress lines and log records on until its result or error.

    Returns the result or error message, or None when the child ended without either.
    """
    while True:
        # Blocks until a message arrives or the child ends, without polling.
        ready = wait([receiver, child.sentinel])
        if receiver not in ready:
            # The child ended: take what it sent before it did.
            if not receiver.poll(0):
                return None
        try:
            kind, payload = receiver.recv()
        except EOFError:
            return None
        if kind == _PROGRESS:
            if setup.progress is not None:
                setup.progress(payload)
        elif kind == _LOG:
            logging.getLogger(payload.name).handle(payload)
        else:
            return kind, payload


def _child_main(setup: CaseSetup, sender: Connection) -> None:
    """Run the case and send its outcome, or the exception it raised, to the parent."""
    # Ctrl-C reaches the whole foreground process group, and the parent kills the child
    # when it receives KeyboardInterrupt.
    # NOTE: a parent killed by SIGKILL leaves the child running. The child's next
    # progress line then fails the case. Without a progress callback it runs to its end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _forward_logging(sender)
    progress = None
    if setup.progress is not None:
        progress = _Forward(sender, _PROGRESS)
    try:
        outcome = run_case(dataclasses.replace(setup, progress=progress))
        payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        sender.send((_ERROR, _error_payload(exc)))
    else:
        del outcome
        sender.send((_RESULT, payload))
    finally:
        _flush_tracing(setup)
        _flush_stdio()


class _Forward:
    """A progress callback that sends each line to the parent."""

    def __init__(self, sender: Connection, kind: str) -> None:
        self._sender = sender
        self._kind = kind

    def __call__(self, message: str) -> None:
        self._sender.send((self._kind, message))


class _ForwardHandler(logging.Handler):
    """Send each log record to the parent, formatted, so that it pickles."""

    def __init__(self, sender: Connection) -> None:
        super().__init__()
        self._sender = sender

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            forwarded = logging.makeLogRecord(record.__dict__)
            forwarded.msg = message
            forwarded.args = None
            forwarded.exc_info = None
            forwarded.exc_text = None
            forwarded.stack_info = None
            self._sender.send((_LOG, forwarded))
        except Exception:
            self.handleError(record)


def _forward_logging(sender: Connection) -> None:
    """Replace the child's root logger handlers with one that sends to the parent.

    The inherited handlers would keep the records in the child's memory, or write them
    to the terminal a second time after the parent has handled the forwarded copy.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = _ForwardHandler(sender)
    # The message with its traceback, as logging's default formatter writes it.
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)


def _error_payload(exc: Exception) -> tuple[bytes | None, str, str]:
    """Return the pickled exception (None if it does not round-trip) and its text."""
    text = "".join(traceback.format_exception(exc)).rstrip()
    summary = "".join(traceback.format_exception_only(exc)).strip()
    try:
        pickled: bytes | None = pickle.dumps(exc)
        pickle.loads(pickled)
    except Exception:
        pickled = None
    return pickled, text, summary


def _death_message(setup: CaseSetup, pid: int | None, exitcode: int | None) -> str:
    label = _case_label(setup)
    if exitcode is not None and exitcode < 0:
        number = -exitcode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        message = f"the child process (pid {pid}) of case {label} was killed by {name}"
        if number == signal.SIGKILL:
            needed = _estimated_need_bytes(setup) / 1e9
            message += (
                f", probably by the out-of-memory killer: a case with "
                f"{setup.spec.companies:,} companies is estimated to need about "
                f"{needed:.1f} GB of memory (see the kernel log, `dmesg`)"
            )
        return message
    return (
        f"the child process (pid {pid}) of case {label} exited with code {exitcode} "
        "without returning an outcome"
    )


def _estimated_need_bytes(setup: CaseSetup) -> float:
    return setup.spec.companies * BYTES_PER_COMPANY_ESTIMATE


def _case_label(setup: CaseSetup) -> str:
    return f"{setup.spec.name}[{setup.solution_cls.name}]"


def _flush_tracing(setup: CaseSetup) -> None:
    """Export the spans the child's batch processors still buffer before it exits.

    The child ends with ``os._exit``, which runs no exit handlers and so no shutdown of
    the tracer provider.
    """
    # NOTE: flushing spans from a child is not covered by a test.
    provider = getattr(setup, "tracer_provider", None)
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush()


def _flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


__all__ = [
    "ISOLATE_MIN_COMPANIES",
    "ISOLATE_MODES",
    "IsolateMode",
    "IsolatedCaseError",
    "fork_available",
    "run_case_as",
    "run_case_isolated",
    "should_isolate",
]
