#!/usr/bin/env python3
"""Fails when modules of src/ import each other in a cycle.

Reads every `crate::...` and `super::...` path outside test modules,
resolves each to the module (file) it names, and reports every strongly
connected group of more than one module. With -v it prints which module
imports which (the list ARCHITECTURE.md describes).

A script rather than a crate: it only needs the paths written in the
source, and no Rust tool here reports module cycles.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts) if parts not in (["lib"], ["main"]) else ()


def expand(prefix, body, out):
    """`a::{b, c::{d}}` as the paths a::b and a::c::d."""
    depth, current, parts = 0, "", []
    for ch in body:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if "::{" in part:
            head, rest = part.split("::{", 1)
            expand(prefix + head.split("::"), rest.rstrip()[:-1], out)
        else:
            out.add(tuple(prefix + part.split(" as ")[0].strip().split("::")))


def imports(path, me, modules):
    text = open(path).read()
    cut = text.find("#[cfg(test)]\nmod tests")
    if cut >= 0:
        text = text[:cut]
    text = re.sub(r"//[^\n]*", "", text)
    base = list(me[:-1])
    named = set()
    for match in re.finditer(r"\bcrate::((?:\w+::)*\w+)", text):
        named.add(tuple(match.group(1).split("::")))
    for match in re.finditer(r"use crate::\{(.*?)\};", text, re.S):
        expand([], match.group(1), named)
    for match in re.finditer(r"\bsuper::((?:\w+::)*\w+)", text):
        named.add(tuple(base + match.group(1).split("::")))
    for match in re.finditer(r"use super::\{(.*?)\};", text, re.S):
        found = set()
        expand([], match.group(1), found)
        named |= {tuple(base + list(path)) for path in found}
    resolved = set()
    for path in named:
        for k in range(len(path), 0, -1):
            if path[:k] in modules:
                if path[:k] != me:
                    resolved.add(path[:k])
                break
    return resolved


def cycles(edges):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(group)

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def main():
    files = [
        os.path.join(d, f)
        for d, _, names in os.walk(ROOT)
        for f in names
        if f.endswith(".rs") and os.sep + "bin" not in d
    ]
    modules = {module_of(f): f for f in files}
    edges = {module_of(f): imports(f, module_of(f), modules) for f in files}
    name = lambda m: "::".join(m) or "lib"
    if "-v" in sys.argv:
        for module in sorted(edges):
            print(f"{name(module)} -> {', '.join(sorted(map(name, edges[module]))) or '(nothing)'}")
    found = cycles(edges)
    for group in found:
        print("import cycle: " + " -> ".join(sorted(map(name, group))), file=sys.stderr)
    sys.exit(1 if found else 0)


main()
