"""Command line: ``python -m addon [--options PATH] [--data-dir DIR] [--host H] [--port P]``.

``python -m addon rotate-key [--data-dir DIR]`` re-encrypts the credential store under a new key.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from addon import __version__, redact
from addon.api.context import SupervisorLink
from addon.app import build_app
from addon.credentials import rotate_key_command
from addon.errors import HubError
from addon.settings import Settings, load_settings
from addon.startup import open_credentials, resolve_api_token

_LOGGER = logging.getLogger("addon")
# The SDKs' HTTP clients log one INFO line per request; the hub's own log says what matters.
HTTP_CLIENT_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with DESIGN.md's defaults."""
    parser = argparse.ArgumentParser(prog="python -m addon", description="AI Provider Hub")
    parser.add_argument("command", nargs="?", choices=["serve", "rotate-key"], default="serve")
    parser.add_argument("--options", type=Path, default=Path("/data/options.json"))
    parser.add_argument("--data-dir", type=Path, default=Path("/data"))
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--version", action="version", version=__version__)
    return parser.parse_args(argv)


def configure_logging(level: str) -> None:
    """Log to stderr at ``level`` through the secret-redacting filter."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    redact.install(logging.getLogger())
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    for name in HTTP_CLIENT_LOGGERS:
        logging.getLogger(name).setLevel(quiet)


def event_loop() -> asyncio.AbstractEventLoop:
    """Uvloop's event loop where it is installed (the add-on image), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def describe(settings: Settings) -> None:
    """Say at start which providers are configured and where settings came from."""
    _LOGGER.info("AI Provider Hub %s; settings from %s", __version__, settings.source)
    for provider in settings.providers:
        _LOGGER.info(
            "Provider %s: type=%s model=%s key=%s%s",
            provider.name,
            provider.type,
            provider.model,
            "set" if provider.api_key else "none",
            "" if provider.enabled else " (disabled)",
        )
    for problem in settings.problems:
        _LOGGER.warning("%s", problem)


def serve(args: argparse.Namespace) -> int:
    """Run the hub until interrupted."""
    try:
        settings = load_settings(args.options)
    except HubError as err:
        _LOGGER.error("%s", err.message)  # noqa: TRY400 - the message is the whole story
        return 2
    configure_logging(settings.log_level)
    credentials = open_credentials(settings, args.data_dir)
    describe(credentials.settings)
    token = resolve_api_token(settings, args.data_dir, os.environ)
    supervisor_token = os.environ.get("SUPERVISOR_TOKEN")
    app = build_app(
        credentials.settings,
        data_dir=args.data_dir,
        api_token=token,
        credentials=credentials,
        supervisor=SupervisorLink(supervisor_token, port=args.port) if supervisor_token else None,
        door_host=args.host,
    )
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None, loop=event_loop())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch the command."""
    args = parse_args(argv)
    configure_logging("info")
    if args.command == "rotate-key":
        return rotate_key_command(args.data_dir)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
