"""projects/supervisor.py with real processes and real signals: small Python stand-ins for web and
worker record their pid in a folder, the test kills them and checks who is still alive in /proc."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from projects.supervisor import health_status
from tests.e2e.stack import free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]

# One script plays every part; argv: ROLE FOLDER [PORT]. Each process appends "pid time" to FOLDER/ROLE.
STAND_IN = r"""
import os, signal, subprocess, sys, time
role, folder = sys.argv[1], sys.argv[2]
with open(os.path.join(folder, role), "a") as f:
    f.write(f"{os.getpid()} {time.time()}\n")
if role == "crasher":
    sys.exit(3)
if role in ("stubborn", "orphan"):  # grandchildren that ignore SIGTERM: only SIGKILL stops them
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if role == "spawner":  # a grandchild in the child's own process group
    subprocess.Popen([sys.executable, __file__, "stubborn", folder])
if role == "orphaner":
    subprocess.Popen([sys.executable, __file__, "middle", folder])
if role == "middle":  # starts a grandchild in a session of its own, then dies: the grandchild is orphaned
    subprocess.Popen([sys.executable, __file__, "orphan", folder], start_new_session=True)
    sys.exit(0)
if role == "web":  # listens only after a while, like granian loading Django
    time.sleep(1)
    os.execv(sys.executable, [sys.executable, "-u", "-m", "http.server", sys.argv[3], "--bind", "127.0.0.1",
                              "--directory", os.path.join(folder, "site")])
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[0] != b"Z"
    except FileNotFoundError:
        return False


def pids(folder: Path, role: str) -> list[int]:
    path = folder / role
    return [int(line.split()[0]) for line in path.read_text().splitlines()] if path.exists() else []


class Unit:
    """A supervisor running stand-ins; every process it recorded is SIGKILLed at teardown."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.script = folder / "stand_in.py"
        self.script.write_text(STAND_IN)
        self.process: subprocess.Popen | None = None

    def start(self, roles: dict[str, str], *args: str, port: int = 0, **env: str) -> subprocess.Popen:
        script, folder = str(self.script), str(self.folder)
        commands = {name: [sys.executable, script, role, folder, str(port)] for name, role in roles.items()}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "projects.supervisor", json.dumps(commands), *args], cwd=ROOT,
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        return self.process

    def first(self, role: str, timeout: float = 10) -> int:
        return wait_until(lambda: pids(self.folder, role), timeout, f"{role} to start")[0]

    def everyone(self) -> list[int]:
        assert self.process is not None
        roles = [p.name for p in self.folder.iterdir() if p.is_file() and p.suffix != ".py"]
        return [self.process.pid] + [pid for role in roles for pid in pids(self.folder, role)]

    def output(self) -> str:
        assert self.process is not None
        return self.process.communicate(timeout=15)[0]

    def cleanup(self) -> None:
        for pid in self.everyone() if self.process else []:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.process:
            self.process.wait(timeout=10)


@pytest.fixture
def unit(tmp_path):
    unit = Unit(tmp_path)
    yield unit
    unit.cleanup()


def test_a_killed_child_is_restarted_and_the_others_keep_running(unit):
    supervisor = unit.start({"web": "sleeper", "worker": "worker"})
    web, worker = unit.first("sleeper"), unit.first("worker")
    os.kill(worker, signal.SIGKILL)
    restarted = wait_until(lambda: pids(unit.folder, "worker")[1:], 10, "the worker to be restarted")
    assert restarted[0] != worker and alive(restarted[0])
    assert alive(web) and pids(unit.folder, "sleeper") == [web] and supervisor.poll() is None
    os.kill(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(timeout=10) == 0
    assert f"worker (pid {worker}) killed by SIGKILL" in unit.output()


def test_a_crash_loop_stops_the_unit_with_backoff_and_a_reason(unit):
    supervisor = unit.start({"web": "sleeper", "worker": "crasher"}, SUPERVISOR_CRASH_LIMIT="3")
    web = unit.first("sleeper")
    assert supervisor.wait(timeout=20) == 1
    output = unit.output()
    starts = [float(line.split()[1]) for line in (unit.folder / "crasher").read_text().splitlines()]
    assert len(starts) == 3, output  # started, restarted after 1 s, after 2 s, then the unit stops
    first_wait, second_wait = starts[1] - starts[0], starts[2] - starts[1]
    assert "restarting worker in 1 s" in output and "restarting worker in 2 s" in output
    assert first_wait >= 0.7 and second_wait >= 1.7 and second_wait > first_wait, starts  # startup times vary
    assert output.count("exit status 3") >= 3
    assert "LightTrace stopped: worker died 3 times within 60 s (last: exit status 3)" in output
    assert not alive(web)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_leaves_no_process_of_the_tree(unit, signum):
    supervisor = unit.start({"web": "spawner", "worker": "orphaner"})
    unit.first("stubborn")
    orphan = unit.first("orphan")
    wait_until(lambda: not alive(pids(unit.folder, "middle")[0]), 10, "the orphan's parent to die")
    os.kill(supervisor.pid, signum)  # at a terminal, Ctrl-C reaches the supervisor only
    sent = time.monotonic()
    wait_until(lambda: not any(alive(pid) for pid in unit.everyone()), 10, "every process to stop")
    assert time.monotonic() - sent < 10 and supervisor.wait(timeout=1) == 0
    assert orphan in unit.everyone() and len(unit.everyone()) == 6  # supervisor, 2 children, 3 below


def test_a_second_ctrl_c_kills_at_once(unit):
    supervisor = unit.start({"web": "stubborn", "worker": "worker"})  # ignores SIGTERM
    stubborn = unit.first("stubborn")
    unit.first("worker")
    os.kill(supervisor.pid, signal.SIGINT)
    time.sleep(0.5)
    assert alive(stubborn)
    os.kill(supervisor.pid, signal.SIGINT)
    wait_until(lambda: not any(alive(pid) for pid in unit.everyone()), 2, "the SIGKILL of the second Ctrl-C")


def test_an_orphan_left_by_a_dead_process_is_killed_while_running(unit):
    supervisor = unit.start({"worker": "orphaner"})
    orphan = unit.first("orphan")
    wait_until(lambda: not alive(orphan), 10, "the adopted orphan to be killed")
    assert supervisor.poll() is None and alive(unit.first("orphaner"))
    os.kill(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(timeout=10) == 0


def test_children_die_with_a_killed_supervisor(unit):
    supervisor = unit.start({"web": "sleeper", "worker": "worker"})
    children = [unit.first("sleeper"), unit.first("worker")]
    os.kill(supervisor.pid, signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in children), 5, "the children to die with the supervisor")


def test_the_ready_line_comes_once_the_web_server_answers(unit):
    (unit.folder / "site" / "_health").mkdir(parents=True)
    (unit.folder / "site" / "_health" / "index.html").write_text("ok")
    port = free_port()
    supervisor = unit.start(
        {"web": "web", "worker": "worker"}, "--ready-url", f"http://localhost:{port}",
        "--health-url", f"http://127.0.0.1:{port}/_health/", port=port,
    )  # fmt: skip
    wait_until(lambda: health_status(f"http://127.0.0.1:{port}/_health/", "x") == 200, 10, "the web stand-in")
    time.sleep(1.5)
    os.kill(supervisor.pid, signal.SIGINT)
    lines = unit.output().splitlines()
    ready = [n for n, line in enumerate(lines) if line.startswith("LightTrace is ready at ")]
    serving = [n for n, line in enumerate(lines) if line.startswith("Serving HTTP on 127.0.0.1")]
    assert len(ready) == 1 and serving and serving[0] < ready[0], lines
    assert lines[ready[0]].startswith(f"LightTrace is ready at http://localhost:{port}/ "), lines


def test_serve_hands_the_supervisor_where_to_probe_and_what_to_print(monkeypatch, settings):
    from django.core.management import call_command

    settings.PORT, settings.LIGHTTRACE_URL = 8123, "https://errors.example.com"
    monkeypatch.setenv("HOST", "0.0.0.0")
    for name in ("MALLOC_ARENA_MAX", "LIGHTTRACE_EMBEDDED_BEAT"):  # serve sets them for its children
        monkeypatch.delenv(name, raising=False)
    handed: list[str] = []
    monkeypatch.setattr("os.execv", lambda path, argv: handed.extend(argv))  # instead of becoming it
    call_command("serve", "--only", "web")
    assert handed[handed.index("--ready-url") + 1] == "https://errors.example.com"
    assert handed[handed.index("--health-url") + 1] == "http://127.0.0.1:8123/_health/"
    handed.clear()
    call_command("serve", "--only", "worker")
    assert "--ready-url" not in handed
