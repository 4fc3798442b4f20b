"""Write the GraphQL schema as SDL to `schema.graphql` at the repository root (portal developers generate from it)."""

from __future__ import annotations

import sys
from pathlib import Path

from schema.build import build_schema

SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def sdl() -> str:
    """The schema's SDL text."""
    return build_schema().as_str() + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SDL_PATH
    target.write_text(sdl(), encoding="utf-8")
    print(f"wrote {target}")
