"""The garbage collector's full passes, kept off what lives as long as the process.

A Django process holds some 230,000 objects after its first request (modules, classes,
URL patterns, compiled templates, translation catalogues), nearly all of them for good.
The collector's full pass walks every one of them: a page that builds many objects (the
planning week: 2,000 blocks, 1,400 cells) set one off every ten requests or so, and it
cost about a third of that page's time. After the first request (whose lazy loading
makes most of them), one collection clears its garbage and `gc.freeze()` moves the
survivors out of the collector's generations: reference counting still frees them, the
full passes no longer walk them. Under gunicorn each worker does so once.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

_done = threading.Event()


def freeze_after_first_request(**_kwargs: Any) -> None:
    """`request_finished` receiver: once per process, collect, then freeze."""
    if _done.is_set():
        return
    _done.set()
    gc.collect()
    gc.freeze()
