"""A small JavaScript scanner for static checks of the site's own scripts.

:func:`scan_js` returns every string and template literal (to look for retyped names) and every
``{...}`` block with its first and last line and whether it is a function body (to measure
functions). Comments and regex literals are skipped. Enough for this project's scripts; it is
not a parser (a brace inside a string inside ``${...}`` would fool it).
"""

from __future__ import annotations

import re


def scan_js(source: str) -> tuple[list[str], list[tuple[int, int, bool]]]:
    """(string literals, braces) of JavaScript ``source``: every string and template text, and
    every {...} as (first line, last line, is a function body). Comments are skipped; a brace
    opens a function body after `=>` or after `)` whose `(` does not follow if/for/while/
    switch/catch. Enough for these files (a brace inside a string inside `${...}` would fool
    it)."""
    literals: list[str] = []
    code: list[tuple[str, int]] = []  # significant characters and their lines
    i, line, n = 0, 1, len(source)

    def regex_allowed() -> bool:
        """A `/` starts a regex where an expression may start (after an operator or a
        keyword), not after a value (a division)."""
        before = "".join(c for c, _ in code[-12:]).rstrip()
        return before == "" or before[-1] in "(,=:[!&|?{};+-*%<>~^" or \
            before.endswith(("return", "typeof"))

    while i < n:
        c = source[i]
        if c == "\n":
            line += 1
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
            continue
        if source.startswith("/*", i):
            end = source.index("*/", i) + 2
            line += source.count("\n", i, end)
            i = end
            continue
        if c in "'\"`":
            j, text = i + 1, []
            while source[j] != c:
                if source[j] == "\\":
                    text.append(source[j:j + 2])
                    j += 2
                    continue
                if c == "`" and source.startswith("${", j):
                    depth, j = 1, j + 2
                    while depth:
                        depth += {"{": 1, "}": -1}.get(source[j], 0)
                        j += 1
                    text.append(" ")
                    continue
                text.append(source[j])
                j += 1
            literals.append("".join(text))
            line += source.count("\n", i, j)
            code.append(('"', line))
            i = j + 1
            continue
        if c == "/" and regex_allowed():
            j, in_class = i + 1, False
            while in_class or source[j] != "/":
                if source[j] == "\\":
                    j += 1
                elif source[j] == "[":
                    in_class = True
                elif source[j] == "]":
                    in_class = False
                j += 1
            code.append(("/", line))
            i = j + 1
            continue
        if not c.isspace():
            code.append((c, line))
        else:
            code.append((" ", line))
        i += 1
    return literals, _braces(code)


def _braces(code: list[tuple[str, int]]) -> list[tuple[int, int, bool]]:
    """Matched braces of the significant characters: (first line, last line, function?)."""
    text = "".join(c for c, _ in code)
    found, stack = [], []
    for k, (c, line) in enumerate(code):
        if c == "{":
            before = text[:k].rstrip()
            is_function = before.endswith("=>")
            if before.endswith(")"):
                depth, j = 0, len(before) - 1
                while True:
                    depth += {")": 1, "(": -1}.get(before[j], 0)
                    if depth == 0:
                        break
                    j -= 1
                word = re.findall(r"[A-Za-z_$][\w$]*$", before[:j].rstrip())
                is_function = not (word and word[0] in ("if", "for", "while", "switch", "catch"))
            stack.append((line, is_function))
        elif c == "}":
            start, is_function = stack.pop()
            found.append((start, line, is_function))
    assert not stack, "unbalanced braces"
    return found


def functions(source: str) -> list[tuple[int, int]]:
    """(first line, last line) of every function body in ``source``, nested ones included."""
    return [(start, end) for start, end, is_function in scan_js(source)[1] if is_function]

