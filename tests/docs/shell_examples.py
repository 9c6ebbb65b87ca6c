"""The shell examples of a Markdown document, as the test suite runs them.

The convention (also described in README.md, "Examples in the docs are tested"):

- A block fenced as ```` ```sh ```` runs; the blocks of one document run in order, in one bash shell.
- ```` ```sh norun: <reason> ```` is shown but not run; the reason is required.
- Other fences (```` ``` ````, ```` ```console ````, ```` ```yaml ````...) are never run.
- ``# → text`` after a command (on its own line, or at the end of the command's line) is what the
  commands since the previous answer print, or a fragment of it; comment lines right after it continue
  it if they start with ``#`` and two spaces. ``…``, ``...`` and ``<placeholders>`` stand for anything,
  whitespace is ignored, and the pieces between must appear in the output in that order.
- Every command must succeed (exit status 0, pipelines with ``pipefail``), and every server a block
  starts in the background must be stopped by the document.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

ANSWER = "# →"
_FENCE = re.compile(r"^```(?P<info>.*)$")
_WILDCARD = re.compile(r"…|\.\.\.|<[^<>\s][^<>]*>")
_WHITESPACE = re.compile(r"\s+")


@dataclasses.dataclass
class Step:
    """Shell lines and the answer they should print (``None``: anything)."""

    line: int  # in the document, 1-based, of the first shell line
    shell: list[str]
    answer: str | None = None


@dataclasses.dataclass
class Block:
    line: int
    runs: bool
    reason: str  # why a norun block does not run
    steps: list[Step]


def blocks(markdown: str) -> list[Block]:
    """Every ```sh block of a document, in order."""
    found: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        words = fence["info"].split(maxsplit=1)
        if words and words[0] == "sh":
            rest = words[1] if len(words) > 1 else ""
            runs = not rest.startswith("norun")
            reason = rest.removeprefix("norun").lstrip(":").strip()
            found.append(Block(start, runs, reason, _steps(lines[start:end], start + 1)))
        index = end + 1
    return found


def _steps(lines: list[str], first_line: int) -> list[Step]:
    steps = [Step(first_line, [])]
    in_answer = False
    for number, line in enumerate(lines, first_line):
        stripped = line.strip()
        if in_answer and stripped.startswith("#  "):
            steps[-1].answer = f"{steps[-1].answer} {stripped.lstrip('#')}"
            continue
        in_answer = False
        if stripped.startswith(ANSWER):
            _answer(steps, stripped.removeprefix(ANSWER), number)
            in_answer = True
        elif f" {ANSWER}" in line:
            command, answer = line.split(f" {ANSWER}", 1)
            _add_shell(steps, command, number)
            _answer(steps, answer, number)
            in_answer = True
        else:
            _add_shell(steps, line, number)
    return [step for step in steps if step.shell or step.answer is not None]


def _add_shell(steps: list[Step], line: str, number: int) -> None:
    if steps[-1].answer is not None:
        steps.append(Step(number, []))
    if not steps[-1].shell:
        steps[-1].line = number
    steps[-1].shell.append(line)


def _answer(steps: list[Step], text: str, number: int) -> None:
    if not steps[-1].shell or steps[-1].answer is not None:
        raise ValueError(f"line {number}: an answer ('{ANSWER}') with no command before it")
    steps[-1].answer = text


def answer_matches(expected: str, output: str) -> bool:
    """Whether ``output`` holds the pieces of ``expected`` between its wildcards, in order."""
    text = _WHITESPACE.sub("", output)
    position = 0
    for piece in _WILDCARD.split(expected):
        piece = _WHITESPACE.sub("", piece)
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def documents(root: Path) -> list[Path]:
    """README.md and docs/*.md: the documents whose examples are run."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]
