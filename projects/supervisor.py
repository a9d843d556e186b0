"""Runs LightTrace's processes in the foreground and stops them together. Standard library only:
`manage.py serve` works out the commands with Django loaded, then exec()s into this module, so the
supervisor itself stays small (no Django in memory) and keeps the same PID and process group.

All children share the process group; SIGINT or SIGTERM stops every one of them, and if one dies
the others are stopped too, so a supervisor above (systemd, Docker) sees one unit.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time


def supervise(commands: dict[str, list[str]]) -> int:
    children = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(
                    f"{name} exited with {child.returncode}; stopping the others", file=sys.stderr, flush=True
                )
                exit_code, stopping = child.returncode or 1, True
                break
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(supervise(json.loads(sys.argv[1])))
