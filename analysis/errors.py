"""Errors that the CLI turns into one clear sentence and an exit code (see DESIGN.md)."""


class C2CError(Exception):
    """A problem the user can fix; ``str(err)`` is the sentence printed, ``exit_code`` the exit."""

    exit_code = 2


class InputError(C2CError):
    """Input cannot be read or used: missing, not a CSV, wrong delimiter, bad usage (exit 2)."""

    exit_code = 2


class ValidationFailed(C2CError):
    """The data was read but broke at least one critical expectation (exit 1)."""

    exit_code = 1
