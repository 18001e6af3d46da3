"""Configuration errors: every problem found at once, each a line naming file, keyword, value."""

from __future__ import annotations

from typing import NamedTuple

from orchestrator.errors import UsageError


class ConfigProblem(NamedTuple):
    path: str
    line: int | None
    section: str | None
    keyword: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        """One line, whatever the value: a value written on several lines shows its first
        line and how many more there are (the line number is the keyword's)."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        what = f"[{self.section}]" if self.section else ""
        if self.keyword is not None:
            what += f" {self.keyword}"
            if self.value is not None:
                what += f" = {_one_line(self.value)}"
        what = what.strip()
        reason = " ".join(self.reason.split())
        return f"{where}: {what}: {reason}" if what else f"{where}: {reason}"


def _one_line(value: str) -> str:
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    more = len(lines) - 1
    return f"{lines[0]} ... (+{more} more line{'s' if more > 1 else ''})"


class ConfigError(UsageError):
    """A config file that cannot be used; ``problems`` lists every error found."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
