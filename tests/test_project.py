"""Project wiring that users and CI rely on: the README's two commands and .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README.md must open with a bash block holding the two commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = text.index("```bash")
    assert text[:first_block].count("\n") <= 2, "the commands come first"
    main, tests = _readme_commands()
    assert main.endswith("revops demo")
    assert tests.endswith("pytest")
    for command in (main, tests):
        # each installs uv itself, pinned, and runs in the locked environment
        assert command.startswith("python3 -m pip install") and "uv==" in command
        assert "uv run --locked" in command


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci


def test_makefile_uses_the_same_pinned_uv():
    pins = set(re.findall(r"uv==[0-9.]+", (ROOT / "Makefile").read_text()))
    (readme_pin,) = set(re.findall(r"uv==[0-9.]+", (ROOT / "README.md").read_text()))
    assert pins == {readme_pin}
