"""Grouping end to end through the real Python SDK: what users moving from Sentry expect."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

APP = """
import sys
import sentry_sdk

sentry_sdk.init(dsn=sys.argv[1], transport_queue_size=1000)
{padding}

def charge(order_id):
    raise ValueError(f"card declined for order {{order_id}}")


def refund(order_id):
    raise ValueError(f"card declined for order {{order_id}}")


scenario = sys.argv[2]
if scenario == "message":
    sentry_sdk.capture_message(f"User {{sys.argv[3]}} not found")
else:
    try:
        {{"charge": charge, "refund": refund}}[scenario](sys.argv[3])
    except ValueError:
        sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=30)
"""


def run(tmp_path, dsn: str, *args: str, padding_lines: int = 0) -> None:
    """Writes the app as it would be after an edit that adds `padding_lines` above the bug, and runs it."""
    padding = "\n".join(f"# unrelated edit {n}" for n in range(padding_lines))
    # The same path in both versions, as after a deploy: only the line numbers differ.
    target = tmp_path / "shop" / "app.py"
    target.parent.mkdir(exist_ok=True)
    target.write_text(textwrap.dedent(APP.format(padding=padding)))
    done = subprocess.run(
        [sys.executable, str(target), dsn, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_python_sdk_grouping(live_stack, tmp_path):
    dsn = live_stack.create_project("py-grouping")
    run(tmp_path, dsn, "charge", "1001")
    run(tmp_path, dsn, "charge", "1002", padding_lines=7)  # the raise moved down 7 lines
    run(tmp_path, dsn, "refund", "1003")  # same type and message, another function
    run(tmp_path, dsn, "message", "123")
    run(tmp_path, dsn, "message", "456")
    issues = live_stack.wait_for_count("py-grouping", 5)
    by_culprit = {i["culprit"]: i for i in issues if i["culprit"]}
    assert int(by_culprit["__main__ in charge"]["count"]) == 2
    assert int(by_culprit["__main__ in refund"]["count"]) == 1
    messages = [i for i in issues if "not found" in i["title"]]
    assert len(messages) == 1 and messages[0]["count"] == "2"
    assert len(issues) == 3


NODE_APP = """
"use strict";
const Sentry = require("@sentry/node");
const [dsn, scenario, arg] = process.argv.slice(2);
Sentry.init({{ dsn, shutdownTimeout: 30000 }});
{padding}

function charge(orderId) {{
  throw new TypeError(`card declined for order ${{orderId}}`);
}}

function refund(orderId) {{
  throw new TypeError(`card declined for order ${{orderId}}`);
}}

if (scenario === "message") {{
  Sentry.captureMessage(`User ${{arg}} not found`);
}} else {{
  try {{
    ({{ charge, refund }})[scenario](arg);
  }} catch (error) {{
    Sentry.captureException(error);
  }}
}}
Sentry.flush(30000).then((ok) => process.exit(ok ? 0 : 3));
"""


def run_node(tmp_path, dsn: str, *args: str, padding_lines: int = 0) -> None:
    node = shutil.which("node")
    js = Path(__file__).parent / "js"
    assert node and (js / "node_modules" / "@sentry" / "node").is_dir(), "run scripts/install-test-deps.sh"
    padding = "\n".join(f"// unrelated edit {n}" for n in range(padding_lines))
    target = tmp_path / "shop" / "app.js"
    target.parent.mkdir(exist_ok=True)
    target.write_text(NODE_APP.format(padding=padding))
    env = {**os.environ, "NODE_PATH": str(js / "node_modules")}
    done = subprocess.run(
        [node, str(target), dsn, *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_node_sdk_grouping(live_stack, tmp_path):
    dsn = live_stack.create_project("node-grouping", "node")
    run_node(tmp_path, dsn, "charge", "1001")
    run_node(tmp_path, dsn, "charge", "1002", padding_lines=7)  # the throw moved down 7 lines
    run_node(tmp_path, dsn, "refund", "1003")  # same type and message, another function
    run_node(tmp_path, dsn, "message", "123")
    run_node(tmp_path, dsn, "message", "456")
    issues = live_stack.wait_for_count("node-grouping", 5)
    # V8 names them "Object.charge" and "Object.refund".
    by_function = {
        i["metadata"]["function"].rsplit(".", 1)[-1]: i
        for i in issues
        if i["metadata"].get("type") == "TypeError"
    }
    assert by_function["charge"]["count"] == "2" and by_function["refund"]["count"] == "1"
    messages = [i for i in issues if "not found" in i["title"]]
    assert len(messages) == 1 and messages[0]["count"] == "2"
    assert len(issues) == 3
