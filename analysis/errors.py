"""Errors that the CLI turns into one clear sentence and an exit code (see DESIGN.md)."""

import re


class C2CError(Exception):
    """A problem the user can fix; ``str(err)`` is the sentence printed, ``exit_code`` the exit."""

    exit_code = 2


class InputError(C2CError):
    """Input cannot be read or used: missing, not a CSV, wrong delimiter, bad usage (exit 2)."""

    exit_code = 2


class ValidationFailed(C2CError):
    """The data was read but broke at least one critical expectation (exit 1)."""

    exit_code = 1


#: Longest piece of data (a cell, a column name) a message quotes; longer text is cut.
QUOTE_CHARS = 80


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was when it was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def clip_list(items: list[str], limit: int = 10) -> str:
    """The first ``limit`` items, each clipped, comma-separated, with how many more there are."""
    shown = ", ".join(clip(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit:,} more" if len(items) > limit else "")


#: C0 and C1 control characters (ESC starts ANSI/OSC sequences) but tab; shown escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x1b``), so that a cell or a
    column name printed to the terminal cannot clear the screen or set the window title;
    newlines stay."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))
