"""The ingest flow's watched folder: files dropped into it are loaded once, then moved to ``loaded/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from megatron.cluster import state_dir

LOADED = "loaded"


def default_inbox() -> Path:
    value = os.environ.get("MEGATRON_INBOX", "").strip()
    return Path(value) if value else state_dir() / "inbox"


def waiting(folder: Path) -> list[Path]:
    """Files waiting in ``folder`` (not in its loaded/ folder, not hidden, not being written: *.part)."""
    if not folder.exists():
        return []
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".part")
    )


def mark_loaded(folder: Path, files: list[Path]) -> list[Path]:
    """Move loaded files into ``folder/loaded`` (a later file of the same name replaces the earlier one)."""
    done = folder / LOADED
    done.mkdir(parents=True, exist_ok=True)
    moved = []
    for f in files:
        target = done / f.name
        shutil.move(str(f), str(target))
        moved.append(target)
    return moved
