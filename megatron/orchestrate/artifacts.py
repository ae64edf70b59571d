"""Prefect artifacts the flows publish (tables and markdown), with keys Prefect accepts."""

from __future__ import annotations

import re
from typing import Any

from megatron.orchestrate.maintenance import Audit, display_rows


def key(*parts: str) -> str:
    """Artifact keys: lower-case letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def table(name: str, rows: list[dict[str, Any]], description: str) -> None:
    from prefect.artifacts import create_table_artifact

    create_table_artifact(table=rows, key=key(name), description=description)


def markdown(name: str, text: str, description: str) -> None:
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(markdown=text, key=key(name), description=description)


def publish_audit(audit: Audit, audit_id: int) -> None:
    """A table of the per-hypertable figures and a markdown summary (with the chunks acted on)."""
    job = audit.job.replace("_", "-")
    table(job, display_rows(audit.rows, audit.actions), f"{audit.summary()} (audit_log id {audit_id})")
    lines = [f"# {audit.job.replace('_', ' ')}", "", audit.summary(), "", f"audit_log row: {audit_id}", ""]
    lines += [f"* {note}" for note in audit.notes]
    for hypertable, chunks in sorted(audit.actions.items()):
        if chunks:
            lines.append(f"* {hypertable}: " + ", ".join(chunks))
    markdown(f"{job}-summary", "\n".join(lines), audit.summary())
