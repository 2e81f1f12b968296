"""What the add-on imports to start: no vendor SDK, Pillow, jsonschema or closed Ollama door;
then, in the background, only the SDK of the provider tried first.

Each runs in a fresh interpreter: the application is built from settings with every vendor
type and its health is probed, as ``python -m addon`` starts; then the deferred parts are
used once and must import and work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFERRED = (
    "PIL",
    "jsonschema",
    "openai",
    "anthropic",
    "google.genai",
    "ollama",
    "addon.api.ollama",
)


def test_the_app_starts_without_the_deferred_libraries_then_warms_the_first_choice(
    tmp_path: Path,
) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, json, sys
        import addon.__main__
        from addon.app import build_app
        from addon.api.context import HUB_CONTEXT
        from addon.settings import Secret, parse_options
        types = ("openai", "openai_compatible", "anthropic", "gemini", "ollama")
        settings = parse_options({{"providers": [
            {{"name": t, "type": t, "model": "m", "api_key": "k-0123456789",
             "base_url": "http://127.0.0.1:9", "priority": 1 if t == "gemini" else 50}}
            for t in types]}})
        deferred = {DEFERRED!r}
        def loaded():
            return sorted(m for m in deferred if m in sys.modules)
        async def start():
            app = build_app(settings, data_dir=__import__("pathlib").Path({str(tmp_path)!r}),
                            api_token=Secret("t-0123456789abcdef"))
            manager = app[HUB_CONTEXT].manager
            await manager.open()
            at_start = loaded()
            try:
                results = await manager.check_health()
                await manager.warm_up()  # the one open() started in the background
            finally:
                await manager.monitor.stop()
                await manager.close()
            return at_start, sorted({{s.error_key for s in results.values()}})
        at_start, keys = asyncio.run(start())
        print(json.dumps([at_start, loaded(), keys]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    at_start, imported, keys = json.loads(run.stdout)
    assert at_start == []
    assert "google.genai" in imported  # gemini is tried first (priority 1): warmed up
    assert not {"openai", "anthropic", "ollama", "addon.api.ollama"} & set(imported)
    assert keys == ["provider_connection"]  # every provider probed, nothing listens


def test_the_deferred_libraries_load_on_first_use() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from addon.images import prepare_images
        from addon.images.generated import check_picture, NotAPictureError
        from addon.structure import mismatch
        from addon.api.tools import check_parameters
        found = [mismatch(1, {"type": "string"}) is not None,
                 check_parameters({"type": "object"}, "p") == {"type": "object"}]
        try:
            check_picture(b"GIF89a-not-really")
        except NotAPictureError:
            found.append(True)
        print(json.dumps([found, "PIL" in sys.modules, "jsonschema" in sys.modules]))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(run.stdout) == [[True, True, True], True, True]
