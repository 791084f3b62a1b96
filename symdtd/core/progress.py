"""A one-line progress bar on standard error, drawn only on a terminal.

Long loops (exact or symbolic propagation over thousands of neurons, a
compiled explanation in many row chunks) wrap their iterable in
:func:`iterate`. The bar appears after :data:`DELAY` seconds, is redrawn at
most ten times a second and is erased at the end; when standard error is not
a terminal (a pipe, a log file, the test suite) nothing is printed at all.

Examples
--------
>>> format_bar(3, 10, "propagate")
'[#########.....................] 3/10 propagate'
>>> [rows for rows in chunks(5, 2, "explain")]
[slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
"""
from __future__ import annotations

import sys
import time

__all__ = ["iterate", "chunks", "format_bar", "is_active", "ENABLED", "DELAY"]

#: None: draw only when standard error is a terminal; True / False: always / never
ENABLED = None
#: seconds before the bar first appears, so that quick runs print nothing
DELAY = 0.5


def format_bar(done, total, label, width=30):
    """The text of the bar: ``[####....] done/total label``."""
    filled = int(width * done / max(total, 1))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"


def is_active(stream=None):
    """Whether a bar is drawn on *stream* (default standard error): :data:`ENABLED`,
    or when that is None, whether *stream* is a terminal."""
    stream = sys.stderr if stream is None else stream
    if ENABLED is not None:
        return bool(ENABLED)
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def iterate(items, label, total=None, stream=None):
    """Yield from *items*, drawing a progress bar on *stream* (standard error).

    Parameters
    ----------
    items : iterable
    label : str
        What is being done, printed after the count.
    total : int, optional
        Number of items (default ``len(items)``).
    stream : file, optional
        Default ``sys.stderr``; the bar is drawn only if it is a terminal
        (see :data:`ENABLED`).
    """
    stream = sys.stderr if stream is None else stream
    total = len(items) if total is None else total
    if not is_active(stream):
        yield from items
        return
    start = last = time.monotonic()
    drawn = False
    done = 0
    try:
        for done, item in enumerate(items, 1):
            yield item
            now = time.monotonic()
            if now - start >= DELAY and (now - last >= 0.1 or done == total):
                stream.write("\r" + format_bar(done, total, label))
                stream.flush()
                last, drawn = now, True
    finally:
        if drawn:  # erase the bar: the command's own output follows
            stream.write("\r" + " " * len(format_bar(done, total, label)) + "\r")
            stream.flush()


def chunks(n, step, label, stream=None):
    """``slice(start, stop)`` of every chunk of *step* rows out of *n*, with a bar."""
    slices = [slice(start, min(start + step, n)) for start in range(0, n, step)]
    return iterate(slices, label, stream=stream)
