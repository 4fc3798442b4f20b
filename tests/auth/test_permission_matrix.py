"""The README's permission matrix is the code's."""

from __future__ import annotations

from pathlib import Path

from auth.permission import PERMISSIONS, Operation, matrix_markdown


def test_every_operation_has_a_rule() -> None:
    assert set(PERMISSIONS) == set(Operation)


def test_readme_shows_the_current_matrix() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- permission-matrix:start -->")[1].split("<!-- permission-matrix:end -->")[0]
    assert block.strip() == matrix_markdown().strip()
