"""Split a PostgreSQL script into statements, keeping each statement's first line number.

Understands ``--`` and nested ``/* */`` comments, '' strings (with E'' backslash escapes),
"" identifiers and $tag$ dollar quoting, which is all migrations use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


@dataclass(frozen=True)
class Statement:
    text: str
    line: int  # 1-based line of the statement's first non-blank character


def split_sql(script: str) -> list[Statement]:
    out: list[Statement] = []
    i, n = 0, len(script)
    start = 0
    line = 1
    start_line: int | None = None
    has_code = False

    def flush(end: int) -> None:
        nonlocal has_code, start_line
        text = script[start:end].strip()
        if has_code and text:
            out.append(Statement(text=text, line=start_line or line))
        has_code = False
        start_line = None

    while i < n:
        ch = script[i]
        nxt = script[i + 1] if i + 1 < n else ""
        if ch == "\n":
            line += 1
            i += 1
            continue
        if ch.isspace():
            i += 1
            continue
        if ch == "-" and nxt == "-":
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == "/" and nxt == "*":
            depth, i = 1, i + 2
            while i < n and depth:
                if script.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif script.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    line += script[i] == "\n"
                    i += 1
            continue
        if not has_code:
            has_code, start_line = True, line
            start = i
        if ch == ";":
            flush(i)
            start = i + 1
            i += 1
            continue
        if ch == "'":
            backslash = i > 0 and script[i - 1] in "eE" and (i < 2 or not script[i - 2].isalnum())
            i += 1
            while i < n:
                c = script[i]
                if c == "\n":
                    line += 1
                if backslash and c == "\\":
                    i += 2
                    continue
                if c == "'":
                    if i + 1 < n and script[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
            i += 1
            continue
        if ch == '"':
            end = script.find('"', i + 1)
            end = n if end < 0 else end
            line += script.count("\n", i, end)
            i = end + 1
            continue
        if ch == "$":
            m = _DOLLAR_TAG.match(script, i)
            if m and not (i > 0 and (script[i - 1].isalnum() or script[i - 1] == "_")):
                tag = m.group(0)
                end = script.find(tag, m.end())
                end = n if end < 0 else end
                line += script.count("\n", i, end)
                i = end + len(tag)
                continue
        i += 1
    flush(n)
    return out
