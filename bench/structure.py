"""Structure figures of `src/assistant`: modules, the largest files, import arrows
between the package's own modules (lazy imports inside functions included), arrows in
cycles, and arrows pointing back up: from the core into the shells that sit on top of
it (`cli`, `server`, `api/`, `ui/`), which only the shells themselves may import.

    python bench/structure.py
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "assistant"
SHELLS = ("assistant.cli", "assistant.server", "assistant.api", "assistant.ui")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The package's modules that `path` imports (the module, or its package when the
    imported name is a module's attribute)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in known else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Arrows inside a strongly connected component (Tarjan): those that close a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    component: dict[str, int] = {}

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                component[w] = index[v]
                if w == v:
                    break

    for v in graph:
        if v not in index:
            visit(v)
    return {(a, b) for a in graph for b in graph[a] if component[a] == component[b]}


def is_shell(name: str) -> bool:
    return any(name == s or name.startswith(s + ".") for s in SHELLS)


def main() -> None:
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph = {name: imports(path, name, set(files)) for name, path in files.items()}
    arrows = [(a, b) for a in graph for b in sorted(graph[a])]
    up = [(a, b) for a, b in arrows if is_shell(b) and not is_shell(a)]
    looped = cycles(graph)
    sizes = sorted(((len(p.read_text(encoding="utf-8").splitlines()), n) for n, p in files.items()), reverse=True)
    print(f"modules: {len(files)}")
    print(f"largest files: {', '.join(f'{n} ({lines} lines)' for lines, n in sizes[:5])}")
    print(f"import arrows: {len(arrows)}")
    print(f"arrows pointing back up (core -> cli, server, api, ui): {len(up)} {up or ''}")
    print(f"arrows in cycles: {len(looped)} {sorted(looped) or ''}")


if __name__ == "__main__":
    main()
