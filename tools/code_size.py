"""Report modules over a line limit and functions over a line limit (issue 12's measure).

Usage: python tools/code_size.py [--module-lines 800] [--function-lines 80] [DIR ...]
Numba kernels (functions decorated with numba.njit / njit) are listed apart: their length is
their loop. Prints a table and, as its last line, a JSON object of the counts.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path


def _is_kernel(node: ast.AST) -> bool:
    for decorator in getattr(node, "decorator_list", []):
        text = ast.unparse(decorator)
        if "njit" in text or "numba.jit" in text:
            return True
    return False


def measure(dirs: list[str], module_limit: int, function_limit: int) -> dict:
    long_modules, long_functions, long_kernels, long_classes = [], [], [], []
    for directory in dirs:
        for path in sorted(Path(directory).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            n_lines = source.count("\n")
            if n_lines > module_limit:
                long_modules.append((str(path), n_lines))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    length = node.end_lineno - node.lineno + 1
                    if length <= function_limit:
                        continue
                    row = (f"{path}:{node.lineno} {node.name}", length)
                    if isinstance(node, ast.ClassDef):
                        long_classes.append(row)
                    else:
                        (long_kernels if _is_kernel(node) else long_functions).append(row)
    return {"modules": long_modules, "functions": long_functions, "kernels": long_kernels,
            "classes": long_classes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", default=["engine", "loaders", "api"])
    parser.add_argument("--module-lines", type=int, default=800)
    parser.add_argument("--function-lines", type=int, default=80)
    args = parser.parse_args()
    found = measure(args.dirs, args.module_lines, args.function_lines)
    for title, key in ((f"modules over {args.module_lines} lines", "modules"),
                       (f"functions over {args.function_lines} lines", "functions"),
                       (f"numba kernels over {args.function_lines} lines (allowed)", "kernels"),
                       (f"classes over {args.function_lines} lines (their methods are counted above)",
                        "classes")):
        print(f"{title}: {len(found[key])}")
        for name, length in sorted(found[key], key=lambda row: -row[1]):
            print(f"  {length:6d}  {name}")
    print(json.dumps({key: len(rows) for key, rows in found.items()}))


if __name__ == "__main__":
    main()
