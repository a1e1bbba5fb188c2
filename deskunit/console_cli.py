"""``deskunit console hash-pin``: print the value to put in ``console.pin_hash`` (or an operator's
``pin_hash``), so no PIN is ever written in a config file.

    $ deskunit console hash-pin
    PIN (not shown):
    Again:
    pbkdf2_sha256$120000$1f0c...$9a4e...

``--stdin`` reads the PIN from the first line of standard input (for provisioning scripts).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from firmware.pin_hash import hash_pin

MIN_PIN = 4
MAX_PIN = 32


def check_pin(pin: str) -> str | None:
    """Why ``pin`` is not acceptable, or None."""
    if not MIN_PIN <= len(pin) <= MAX_PIN:
        return f"a PIN has {MIN_PIN} to {MAX_PIN} characters"
    if not pin.isprintable() or pin != pin.strip():
        return "a PIN has no spaces or control characters at its ends"
    return None


def cmd_hash_pin(args: argparse.Namespace) -> int:
    if args.stdin:
        pin = sys.stdin.readline().rstrip("\r\n")
    else:
        pin = getpass.getpass("PIN (not shown): ")
        if getpass.getpass("Again: ") != pin:
            print("deskunit console hash-pin: the two PINs differ", file=sys.stderr)
            return 1
    reason = check_pin(pin)
    if reason:
        print(f"deskunit console hash-pin: {reason}", file=sys.stderr)
        return 1
    print(hash_pin(pin))
    if not args.stdin:
        print("Put it in /etc/deskunit/deskunit.toml as [console] pin_hash = \"...\" and restart the unit.",
              file=sys.stderr)
    return 0


def add_console_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``deskunit console ...`` on the main command line's subparsers."""
    console = sub.add_parser("console", help="technician console tools")
    actions = console.add_subparsers(dest="action", required=True)
    hp = actions.add_parser("hash-pin", help="print a pin_hash value for a PIN (asked for, not shown)")
    hp.add_argument("--stdin", action="store_true", help="read the PIN from standard input")
    hp.set_defaults(fn=cmd_hash_pin)
