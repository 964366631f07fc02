"""Reading a JSON file named by a user, with errors that name the file and the cause."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path, error: type[Exception], hint: str) -> Any:
    """Parse ``path``; on any failure raise ``error`` naming the file, ending with ``hint``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: file not found; {hint}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory; {hint}") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{path}: cannot read ({problem}); {hint}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as problem:
        raise error(f"{path}: not valid JSON ({problem}); {hint}") from None
