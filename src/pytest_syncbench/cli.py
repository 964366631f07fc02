"""The ``syncbench`` command: tools that work on saved results and on the mocks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncbench",
        description="Tools around pytest-syncbench results and mocks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from pytest_syncbench import compare, standalone
    from pytest_syncbench.report import command as report

    compare.add_parser(commands)
    report.add_parser(commands)
    standalone.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
