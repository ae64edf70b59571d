"""sqlfluff (configured in .sqlfluff) is clean over the dbt project's SQL and the migrations, so CI enforces it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINTED = ["models", "macros", "tests", "migrations"]


def test_sqlfluff_finds_nothing_in_models_macros_tests_and_migrations() -> None:
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    result = subprocess.run(
        [str(sqlfluff), "lint", "--disable-progress-bar", *LINTED],
        cwd=ROOT, capture_output=True, text=True,
    )
    violations = [line for line in result.stdout.splitlines() if line.startswith(("== [", "L:"))]
    assert result.returncode == 0, "sqlfluff found violations:\n" + "\n".join(violations[:80]) + result.stderr[-2000:]
    assert violations == []
    sql_files = [p for folder in LINTED for p in (ROOT / folder).rglob("*.sql")]
    assert len(sql_files) > 60, f"expected the project's SQL files to be linted, found {len(sql_files)}"
