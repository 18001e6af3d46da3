"""Configuration errors: every problem found at once, each a line naming file, keyword, value."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.errors import UsageError


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    line: int | None
    section: str | None
    keyword: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        what = f"[{self.section}]" if self.section else ""
        if self.keyword is not None:
            what += f" {self.keyword}"
            if self.value is not None:
                what += f" = {self.value}"
        what = what.strip()
        return f"{where}: {what}: {self.reason}" if what else f"{where}: {self.reason}"


class ConfigError(UsageError):
    """A config file that cannot be used; ``problems`` lists every error found."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
