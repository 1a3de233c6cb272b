"""A validation rule = one Great Expectations expectation plus what a person needs to read it.

Rules are plain data (no GX import), so suites can be built, listed and tested without paying
the GX import; validation.gx turns each into an expectation only when a run needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

#: The frames a suite validates: the file's text (empty cells as missing) and the typed values.
TEXT_FRAME = "text"
TYPED_FRAME = "typed"


@dataclass(frozen=True)
class Rule:
    """One expectation: stable ``id``, the source ``columns`` it is about, the human ``text``,
    ``severity`` (critical fails the run, warning is reported), the ``frame`` it runs on, and
    the GX expectation class name with its keyword arguments."""

    id: str
    columns: tuple[str, ...]
    text: str
    severity: str
    frame: str
    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def per_row(self) -> bool:
        """True for row-level rules (counted in offending rows), False for table-level ones."""
        return not self.expectation.startswith("ExpectTable")

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: unknown severity {self.severity!r}")
        if self.frame not in (TEXT_FRAME, TYPED_FRAME):
            raise ValueError(f"rule {self.id}: unknown frame {self.frame!r}")
