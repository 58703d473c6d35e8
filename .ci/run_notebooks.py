"""Execute notebooks top to bottom (CI): exit 1 naming the first one whose cell fails.

Why nbclient and not nbconvert: it is the executor nbconvert uses, without the
exporters; the executed copies go to ``build/examples/`` (ignored by git) so no
output is ever committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

OUT_DIR = Path("build/examples")
TIMEOUT_S = 600


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: python .ci/run_notebooks.py NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for path in map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, timeout=TIMEOUT_S, kernel_name="python3",
                                resources={"metadata": {"path": str(Path.cwd())}})
        try:
            client.execute()
        except CellExecutionError as exc:
            print(f"{path}: a cell failed:\n{exc}", file=sys.stderr)
            return 1
        finally:
            nbformat.write(notebook, OUT_DIR / path.name)
        print(f"{path}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
