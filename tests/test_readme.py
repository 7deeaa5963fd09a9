"""Every Python block of README.md runs as written, alone, and prints what the README shows.

Each ```python block is executed in a fresh namespace (its own imports, no
state from the block before, ``__name__ == "__main__"`` as a pasted script),
in a temporary working directory. A block followed directly by a ```text
block must print exactly that text. Blocks that read MovieLens-100K are
marked slow (the loader caches the data; slow tests run in CI too).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def readme_blocks(text: str) -> list[tuple[str, str | None]]:
    """The ```python blocks of ``text``, each with the ```text block right after it (or None)."""
    fences = list(_FENCE.finditer(text))
    blocks = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "python":
            continue
        following = fences[i + 1] if i + 1 < len(fences) else None
        expected = None
        if following is not None and following.group(1) == "text" \
                and not text[fence.end():following.start()].strip():
            expected = following.group(2)
        blocks.append((fence.group(2), expected))
    return blocks


def _params():
    params = []
    for number, (code, expected) in enumerate(readme_blocks(README.read_text(encoding="utf-8"))):
        marks = [pytest.mark.slow] if "load_movielens_100k" in code else []
        params.append(pytest.param(code, expected, id=f"block{number}", marks=marks))
    return params


def test_readme_blocks_are_found():
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    assert all(expected is not None for _, expected in blocks), "each block shows its output"
    # the first block is the top-N quick start
    assert "InteractionEncoder" in blocks[0][0] and ".recommend(" in blocks[0][0]


def test_readme_blocks_parser():
    text = "x\n```python\nprint(1)\n```\n\n```text\n1\n```\n```python\npass\n```\n"
    assert readme_blocks(text) == [("print(1)\n", "1\n"), ("pass\n", None)]


@pytest.mark.parametrize(("code", "expected"), _params())
def test_readme_block_runs(code, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "__main__"})  # noqa: S102
    if expected is not None:
        got = [line.rstrip() for line in out.getvalue().strip("\n").splitlines()]
        assert got == [line.rstrip() for line in expected.strip("\n").splitlines()]


def test_docs_quick_start_is_the_readme_one():
    """docs/getting_started.md repeats the README's quick start; the two never drift apart."""
    guide = README.parent / "docs" / "getting_started.md"
    readme_first = readme_blocks(README.read_text(encoding="utf-8"))[0]
    assert readme_blocks(guide.read_text(encoding="utf-8"))[0] == readme_first
