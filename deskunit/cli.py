"""The ``deskunit`` command: run the unit, run scenarios, judge recordings, check configuration.

    deskunit --version
    deskunit run [--sim [--http-port N] [--no-keys]]   the unit (on real hardware, or on the simulator)
    deskunit sim --script S.toml [--report R.json]
    deskunit linecheck [--json] FILE.wav...
    deskunit config check [FILE]
    deskunit console hash-pin
    deskunit failed UNIT                     systemd's OnFailure= notice (journal and LCD)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Everything else is imported where it is used: `linecheck` is started once per batch of recordings
# and must not pay for the configuration, logging, packaging metadata and simulator modules it never uses.


def _config(path: str | None, simulator: bool = False) -> dict:
    from firmware.config import load_config, site_config_path

    return load_config(Path(path) if path else site_config_path(), simulator=simulator)


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0-65535)")
    return port


def cmd_run(args: argparse.Namespace) -> int:
    from firmware.config import EX_CONFIG, ConfigError

    try:
        cfg = _config(args.config, simulator=args.sim)
    except ConfigError as e:
        print(f"deskunit: configuration error: {e}", file=sys.stderr)
        return EX_CONFIG
    if args.sim:
        from deskunit.simrun import run_sim

        return run_sim(cfg, state_dir=Path(args.state_dir) if args.state_dir else None, http_port=args.http_port,
                       keys=not args.no_keys)
    from deskunit.console_config import with_saved_overrides
    from deskunit.hardware import run_hardware

    return run_hardware(with_saved_overrides(cfg))  # values a technician set with `config set`


def cmd_sim(args: argparse.Namespace) -> int:
    from hwsim.scenario import main as run_script

    return run_script(Path(args.script), Path(args.report) if args.report else None)


def cmd_linecheck(args: argparse.Namespace) -> int:
    from firmware.line.linecheck import main as linecheck

    return linecheck((["--json"] if args.json else []) + args.files)


def cmd_config(args: argparse.Namespace) -> int:
    if args.action != "check":
        print(f"deskunit config: unknown action {args.action!r} (try: check)", file=sys.stderr)
        return 2
    from firmware.config import EX_CONFIG, ConfigError, load_config, site_config_path

    path = Path(args.file) if args.file else site_config_path()
    try:
        load_config(path)
    except ConfigError as e:
        print(f"{path or 'defaults'}: {e}", file=sys.stderr)
        return EX_CONFIG
    print(f"{path or 'defaults'}: OK")
    return 0


def cmd_failed(args: argparse.Namespace) -> int:
    from deskunit.failure import main as failed

    return failed(args.unit)


def parser() -> argparse.ArgumentParser:
    from firmware.version import package_version
    from hwsim import PANEL_PORT

    p = argparse.ArgumentParser(prog="deskunit", description="Desk unit for contact-center operators.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    p.add_argument("--version", action="version", version=f"deskunit {package_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the unit")
    run.add_argument("--sim", action="store_true", help="on simulated hardware (no Pi needed)")
    run.add_argument("--config", help="site config file (default: $DESKUNIT_CONFIG or /etc/deskunit/deskunit.toml)")
    run.add_argument("--state-dir", help="where the journal lives (the simulator uses a temporary one, and "
                     "keeps its central server's database there too)")
    run.add_argument("--http-port", type=_port, default=PANEL_PORT, metavar="PORT",
                     help=f"with --sim: serve the front panel on http://127.0.0.1:PORT (default {PANEL_PORT}, 0 = off)")
    run.add_argument("--no-keys", action="store_true",
                     help="with --sim: do not read keys from stdin (the panel and the console still work)")
    run.set_defaults(fn=cmd_run)

    sim = sub.add_parser("sim", help="run a scenario on the simulated unit under a virtual clock")
    sim.add_argument("--script", required=True, help="scenario TOML (see docs/scenarios.md)")
    sim.add_argument("--report", help="write a JSON report here")
    sim.set_defaults(fn=cmd_sim)

    lc = sub.add_parser("linecheck", help="judge telephone-line recordings (WAV)")
    lc.add_argument("--json", action="store_true", help="one JSON object per file, one a line")
    lc.add_argument("files", nargs="+", metavar="FILE.wav")
    lc.set_defaults(fn=cmd_linecheck)

    cfg = sub.add_parser("config", help="configuration tools")
    cfg.add_argument("action", choices=["check"])
    cfg.add_argument("file", nargs="?", help="file to check (default: the site config)")
    cfg.set_defaults(fn=cmd_config)

    failed = sub.add_parser("failed", help="report that systemd gave up on the unit (OnFailure=)")
    failed.add_argument("unit", help="the unit that failed (systemd's %%i)")
    failed.set_defaults(fn=cmd_failed)

    from deskunit.console_cli import add_console_parser

    add_console_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["linecheck"]:
        # straight to the analyzer: the full parser would import half the daemon (same options and help)
        from firmware.line.linecheck import main as linecheck

        return linecheck(argv[1:])
    args = parser().parse_args(argv)
    if args.command == "run":
        from deskunit.logsetup import setup_logging

        # the daemon: structured lines with personal data redacted, to journald (stdout) on a Pi and
        # to stderr under --sim, where stdout shows the LCD
        setup_logging(verbose=args.verbose, stream=sys.stderr if args.sim else None)
    else:
        import logging

        logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.fn(args)


def entry() -> None:
    """The console script: `main`, as a process's exit status."""
    status = main()
    if sys.argv[1:2] == ["linecheck"]:
        from firmware.line.linecheck import exit_now

        exit_now(status)  # a judge of many recordings is started again and again: no teardown
    sys.exit(status)


if __name__ == "__main__":
    entry()
