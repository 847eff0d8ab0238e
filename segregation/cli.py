"""Command line: `ats-seg FILE.toml [--json]`.

Exit status: 0 when every filed figure agrees with the computation and no statement is in
deficiency (being below the management target is flagged but exits 0); 1 on a deficiency or a
mismatch; 2 on bad input (unreadable file, invalid TOML, unknown table or code, non-integer or
wrongly signed amount, missing input).
"""

from __future__ import annotations

import argparse
import json
import sys

from .compute import compute_filing
from .inputs import InputError, load
from .render import render_json, render_text

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ats-seg",
        description="Compute and check a Daily Segregation filing (secured amounts, "
                    "segregation, cleared swaps) from a TOML file of form codes and amounts.",
        epilog="exit status: 0 consistent and in excess; 1 deficiency or mismatch; 2 bad input",
    )
    parser.add_argument("file", metavar="FILE.toml", help="figures by statement and form code")
    parser.add_argument("--json", action="store_true",
                        help="print every code with its amount and the flags as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the tool; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on usage errors and --help
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        filing = load(args.file)
    except InputError as exc:
        for message in exc.messages:
            print(f"ats-seg: {message}", file=sys.stderr)
        if args.json:
            sys.stdout.write(json.dumps({"errors": exc.messages, "exit_status": EXIT_BAD_INPUT},
                                        indent=2) + "\n")
        return EXIT_BAD_INPUT
    result = compute_filing(filing)
    sys.stdout.write(render_json(result) if args.json else render_text(result))
    return result.exit_status
