"""The page formats money with the same rule as the hub (``pricing.usd``), run in node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from addon.pricing import usd
from tests.addon.web.test_dashboard_browser import ROOT

VALUES = [0.0, 1e-8, 0.000456, 0.001, 0.0123, 0.012756, 0.0999, 0.5, 1.0, 12.345, 1234.5]
SCRIPT = """
const {usd, percent, ms} = await import(process.argv[1]);
const values = JSON.parse(process.argv[2]);
console.log(JSON.stringify({
  usd: values.map(usd),
  extras: [usd(null), percent(0.5714), percent(1), ms(16.4), ms(1530), ms(25000)],
}));
"""


def test_money_reads_the_same_in_the_page_and_the_hub() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed")
        pytest.skip("node is not installed: run ./scripts/test")
    module = (ROOT / "addon" / "web" / "format.js").as_uri()
    result = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT, module, json.dumps(VALUES)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    shown = json.loads(result.stdout)
    assert shown["usd"] == [usd(v) for v in VALUES]
    assert shown["extras"] == ["\u2013", "57.1 %", "100 %", "16 ms", "1.53 s", "25.0 s"]
