"""DESIGN.md's one-way layering, checked on the source: lower layers never import upper ones, and a
function-local import of Heron's own code is only allowed for a module that pulls in a heavy library."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "heron"

# Layer of each top-level part of the package (DESIGN.md "Layout").
LAYERS = {
    "errors": 0,
    "config": 0,
    "lazy": 0,
    "tracking": 1,
    "tracing": 2,
    "registry": 2,
    "auth": 2,
    "prompts": 3,
    "models": 3,
    "evaluate": 4,
    "serving": 4,
    "server": 5,
    "ui": 5,
    "cli": 5,
    # Public facades re-export from the packages above them.
    "__init__": 6,
    "entities": 6,
    "exceptions": 6,
    "artifacts": 6,
    "openai": 6,
    "langchain": 6,
    "sklearn": 6,
    "transformers": 6,
    "pyfunc": 6,
    "autolog": 6,
    "demo": 6,
    "genai": 6,
}
HEAVY_THIRD_PARTY = {
    "sqlalchemy",
    "alembic",
    "pandas",
    "numpy",
    "fastapi",
    "starlette",
    "uvicorn",
    "openai",
    "langchain",
    "langchain_core",
    "boto3",
    "botocore",
    "matplotlib",
    "opentelemetry",
    "yaml",
    "psycopg",
    "sklearn",
    "transformers",
    "torch",
    "jinja2",
    "click",
    "httpx",
    "PIL",
}


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = ast.parse(path.read_text(), str(path))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(tree: ast.Module, module: str) -> list[tuple[str, bool, int]]:
    """(imported module, is function-local, line) for every import in ``tree``."""
    result = []
    local_nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    local_nodes.add(id(inner))
    type_checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                type_checking.add(id(inner))
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.Import):
            result += [(a.name, id(node) in local_nodes, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            result.append((node.module, id(node) in local_nodes, node.lineno))
    return result


def _heavy_modules(modules: dict[str, ast.Module]) -> set[str]:
    """Heron modules whose top-level imports reach a heavy library, directly or through other modules."""
    heavy: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, tree in modules.items():
            if name in heavy:
                continue
            for target, local, _ in _imports(tree, name):
                if local:
                    continue
                if target.split(".")[0] in HEAVY_THIRD_PARTY or any(
                    target == h or target.startswith(h + ".") for h in heavy
                ):
                    heavy.add(name)
                    changed = True
                    break
    return heavy


def test_every_part_has_a_layer() -> None:
    parts = {_part(m) for m in _modules()}
    assert parts <= set(LAYERS), parts - set(LAYERS)


def test_lower_layers_never_import_upper_ones() -> None:
    problems = []
    for name, tree in _modules().items():
        own = LAYERS[_part(name)]
        for target, _, line in _imports(tree, name):
            if target.split(".")[0] != "heron" or target == "heron":
                continue
            if LAYERS.get(_part(target), 0) > own:
                problems.append(f"{name}:{line} imports {target}")
    assert problems == []


def test_function_local_imports_of_heron_code_only_for_heavy_modules() -> None:
    modules = _modules()
    heavy = _heavy_modules(modules)
    problems = []
    for name, tree in modules.items():
        for target, local, line in _imports(tree, name):
            if local and target.startswith("heron.") and target not in heavy:
                problems.append(
                    f"{name}:{line} imports {target} inside a function (not heavy: import it at the top)"
                )
    assert problems == []
