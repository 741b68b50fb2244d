"""Progress bars of long commands (tqdm), drawn only on a terminal.

A bar redraws itself with carriage returns; written into a log file or a pipe (CI, ``2> log``,
a service manager) it is noise, line after line. Every bar of the project is made here, so the
rule holds for all of them: drawn when its stream (stderr by default) is a terminal, else silent.
"""
from __future__ import annotations

import sys


def is_terminal(stream) -> bool:
    """True when ``stream`` is an interactive terminal (False for files, pipes, captured output)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(**tqdm_kwargs):
    """A tqdm bar on ``file`` (default: stderr), disabled unless that stream is a terminal.

    Takes tqdm's keyword arguments; a disabled bar accepts the same calls and draws nothing."""
    from tqdm import tqdm

    stream = tqdm_kwargs.pop("file", None) or sys.stderr
    disable = tqdm_kwargs.pop("disable", False) or not is_terminal(stream)
    return tqdm(file=stream, disable=disable, **tqdm_kwargs)
