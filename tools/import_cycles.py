#!/usr/bin/env python3
"""Fails when a file of a Rust crate imports, through any chain, a file that imports it back.

    tools/import_cycles.py crate/src [--graph]

A node is one source file (its inline modules, `mod tests` included, belong to it). A file depends on another when
it names an item of it: a `use` tree or a path written in the code (`crate::a::b`, `super::x`, `self::y`), resolved
through the module tree and through `pub use` re-exports to the file that defines the item. `mod x;` alone is no
dependency. The binary's root (main.rs) and its modules form a tree of their own.

Why a script and not a crate: `cargo modules dependencies --acyclic` does this with rust-analyzer, but installing it
builds rust-analyzer (tens of minutes on two cores, in every fresh CI run); the test command runs this in a second.
It reads paths textually, so a macro that builds a path from pieces is not seen: none in this crate does.
"""
import os
import re
import sys

USE = re.compile(r"\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.S)
# Any path in the code: `crate::a::b`, `super::x`, and relative ones (`bert::modules(..)`, `config::bert::read`),
# whose first segment is a child module or a name the scope imported.
PATH = re.compile(r"(?<![\w:])((?:[A-Za-z_][A-Za-z0-9_]*)(?:\s*::\s*(?:[A-Za-z_][A-Za-z0-9_]*|\*))+)")
CHAR = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'")
RAW = re.compile(r'b?r(#*)"')


def strip(text):
    """The code without its comments and the contents of its strings and char literals (a scanner, not regexes:
    a quote in a comment and a `//` in a string must both be left alone)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            out.append(" ")
        elif (m := RAW.match(text, i)) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find('"' + m.group(1), m.end())
            i = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and (m := CHAR.match(text, i)):
            i = m.end()
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand(tree):
    """`a::{b, c::{d, e as f}}` -> [[a, b], [a, c, d], [a, c, e]]."""
    tree = re.sub(r"\s+as\s+", "@", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        parts.append(cur)
        for p in filter(None, parts):
            i = p.find("{")
            if i >= 0:
                head = [x for x in p[:i].split("::") if x]
                walk(prefix + head, p[i + 1 : p.rindex("}")])
            else:
                out.append(prefix + [x.split("@")[0] for x in p.split("::") if x])

    walk([], tree)
    return out


class Crate:
    def __init__(self, root_file):
        self.files = {}  # module path (tuple) -> file
        self.text = {}
        self._load(root_file, ())

    def _load(self, path, module):
        self.files[module] = path
        text = strip(open(path, encoding="utf-8").read())
        self.text[module] = text
        base = os.path.dirname(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem not in ("lib", "main", "mod"):
            base = os.path.join(base, stem)
        for name in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", text, re.M):
            for cand in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
                if os.path.exists(cand):
                    self._load(cand, module + (name,))
                    break

    def reexports(self, module):
        """name -> absolute segments, for each `pub use` of the module (globs under '*')."""
        out = {}
        for m in USE.finditer(self.text[module]):
            if not m.group(0).lstrip().startswith("pub"):
                continue
            for segs in expand(m.group(1)):
                absolute = self.absolute(module, segs)
                if absolute is None:
                    continue
                key = "*" if segs[-1] == "*" else segs[-1]
                out.setdefault(key, []).append(absolute)
        return out

    def absolute(self, module, segs, imports=None):
        segs = list(segs)
        if not segs:
            return None
        if imports and segs[0] in imports and segs[0] not in ("crate", "self", "super"):
            return tuple(imports[segs[0]]) + tuple(segs[1:])
        if segs[0] == "crate":
            return tuple(segs[1:])
        if segs[0] in ("self", "super"):
            cur = list(module)
            while segs and segs[0] in ("self", "super"):
                if segs.pop(0) == "super":
                    if not cur:
                        return None
                    cur.pop()
            return tuple(cur + segs)
        # A path relative to the module: a child module of it (`use walk::x` inside model/mod.rs).
        if module + (segs[0],) in self.files:
            return module + tuple(segs)
        return None

    def resolve(self, segs, seen=()):
        """The module (file) that defines the item at absolute `segs`."""
        mod = ()
        i = 0
        while i < len(segs) and mod + (segs[i],) in self.files:
            mod = mod + (segs[i],)
            i += 1
        if i >= len(segs) or segs[i] == "*":
            return mod
        name = segs[i]
        if (mod, name) in seen:
            return mod
        ex = self.reexports(mod)
        for target in ex.get(name, []):
            return self.resolve(tuple(target[:-1]) + (name,) if target[-1] == name else target, seen + ((mod, name),))
        return mod

    def scopes(self, module, text):
        """(module path, text) for the file's own scope and each inline `mod x { ... }` in it (`mod tests`): a
        path inside one is resolved from there (its `super` is the file), and names the file's dependencies."""
        out, spans = [], []
        for m in re.finditer(r"\bmod\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{", text):
            depth, i = 1, m.end()
            while depth and i < len(text):
                depth += (text[i] == "{") - (text[i] == "}")
                i += 1
            if any(a <= m.start() < b for a, b in spans):
                continue  # nested deeper: resolved with its enclosing inline module (none nest here)
            spans.append((m.start(), i))
            out.append((module + (m.group(1),), text[m.end() : i]))
        rest, last = "", 0
        for a, b in spans:
            rest += text[last:a]
            last = b
        out.append((module, rest + text[last:]))
        return out

    def edges(self):
        out = {}
        for module, whole in self.text.items():
            deps = out.setdefault(module, {})
            found = []
            for scope, text in self.scopes(module, whole):
                uses = [segs for m in USE.finditer(text) for segs in expand(m.group(1))]
                imports = {}
                for segs in uses:
                    target = segs[:-1] if segs[-1] == "self" else segs
                    absolute = self.absolute(scope, target)
                    if absolute and target[-1] != "*":
                        imports[target[-1]] = absolute
                found += [(scope, segs, None) for segs in uses]
                found += [(scope, [s.strip() for s in p.split("::")], imports) for p in PATH.findall(text)]
            for scope, segs, imports in found:
                absolute = self.absolute(scope, segs, imports)
                if absolute and absolute[: len(scope)] == scope and scope != module:
                    continue  # the inline module's own items
                if absolute is None:
                    continue
                target = self.resolve(absolute)
                if target != module and target in self.files:
                    deps.setdefault(target, "::".join(segs))
        return out


def cycles(graph):
    """Tarjan's strongly connected components with more than one file."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "crate/src"
    roots = [f for f in ("lib.rs", "main.rs") if os.path.exists(os.path.join(src, f))]
    bad = 0
    for root in roots:
        crate = Crate(os.path.join(src, root))
        graph = crate.edges()
        name = lambda m: crate.files[m]
        if "--graph" in sys.argv:
            for v in sorted(graph):
                for w, via in sorted(graph[v].items()):
                    print(f"{name(v)} -> {name(w)}  ({via})")
        for comp in cycles(graph):
            bad += 1
            members = set(comp)
            print(f"import circle among {len(comp)} files:")
            for v in comp:
                for w, via in sorted(graph[v].items()):
                    if w in members:
                        print(f"  {name(v)} -> {name(w)}  ({via})")
    if bad:
        print(f"{bad} import circle(s) in {src}: no file may import, through any chain, one that imports it back")
        return 1
    print(f"no import circle in {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
