"""Issue 13's "Done when": `make run` from a clean clone on the embedded default stays up unattended.

It idles under light load (the real sentry-sdk, one error every few seconds) for UNATTENDED_SECONDS
(180 in CI; 600 for the long form) with /_health/ polled every second, survives a SIGKILL of its worker
(restarted, every event answered 200 counted), and stops on SIGINT leaving no process and no port."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.stack import ROOT, base_env, free_port

pytestmark = pytest.mark.e2e
UNATTENDED_SECONDS = float(os.environ.get("UNATTENDED_SECONDS", "180"))
EVENT_INTERVAL = 3.0
AFTER_RESTART_SECONDS = 15.0  # load keeps going this long once the new worker runs
EXPLAINED_SECONDS = 30.0  # a non-200 /_health/ this long after the worker came back is not explained
TRICKLE = Path(__file__).parent / "apps" / "py_trickle.py"


def clean_clone(target: Path) -> Path:
    """The worktree's committed HEAD, cloned; its .venv is the worktree's (nothing to reinstall)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(target)], check=True)
    subprocess.run(["git", "checkout", "--quiet", head.stdout.strip()], cwd=target, check=True)
    (target / ".venv").symlink_to(ROOT / ".venv")
    return target


def proc_stat(pid: int) -> list[str] | None:
    """state, ppid, pgrp, session, ... of /proc/PID/stat (after the command name), None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].decode().split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def live_processes() -> dict[int, list[str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := proc_stat(int(entry))) and fields[0] != "Z":
            found[int(entry)] = fields
    return found


def tree(root: int) -> set[tuple[int, str]]:
    """(pid, start time) of every live process in root's session or below root."""
    procs = live_processes()
    below = {root}
    for _ in range(10):  # a few levels: make, supervisor, granian, its workers
        below |= {pid for pid, fields in procs.items() if int(fields[1]) in below}
    return {(pid, f[19]) for pid, f in procs.items() if pid in below or int(f[3]) == root}


def still_alive(seen: set[tuple[int, str]]) -> set[tuple[int, str]]:
    return {(pid, start) for pid, start in seen if (f := proc_stat(pid)) and f[0] != "Z" and f[19] == start}


def kill_tree(root: int) -> None:
    """After a failure: SIGKILL whatever of the tree is still there."""
    for pid, _ in still_alive(tree(root)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except FileNotFoundError:
        return []


def worker_pid(supervisor: int) -> int | None:
    """The supervisor's child that is not the web server (granian, or config.web in one process): the worker."""
    children = [pid for pid, f in live_processes().items() if int(f[1]) == supervisor]
    workers = [
        pid for pid in children if not any("granian" in arg or arg == "config.web" for arg in cmdline(pid))
    ]
    return workers[0] if len(workers) == 1 else None


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class Output:
    """Reads `make run`'s merged output in a thread, into a list and a log file."""

    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process = process
        self.lines: list[str] = []
        self.log_path = log_path
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        with open(self.log_path, "w") as log:
            for line in process.stdout or ():
                self.lines.append(line.rstrip("\n"))
                log.write(line)
                log.flush()

    def starting(self, prefix: str) -> list[str]:
        return [line for line in list(self.lines) if line.startswith(prefix)]

    def wait_for(self, prefix: str, timeout: float) -> str:
        """The first line starting with prefix; fails at once if make run has exited without it."""
        deadline = time.monotonic() + timeout
        while not self.starting(prefix) and self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.2)  # the reader thread's last lines
        if not self.starting(prefix):
            raise AssertionError(f"make run printed no {prefix!r}:\n" + "\n".join(self.lines[-60:]))
        return self.starting(prefix)[0]


class Watch:
    """Polls /_health/ every second (every answer but 200 recorded) and notes every process of the tree."""

    def __init__(self, url: str, root: int) -> None:
        self.url, self.root = url, root
        self.polls = 0
        self.failures: list[tuple[float, int, str]] = []
        self.seen: set[tuple[int, str]] = set()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(1.0):
            self.seen |= tree(self.root)
            status, detail = self.health()
            self.polls += 1
            if status != 200:
                self.failures.append((time.monotonic(), status, detail))

    def health(self) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + "/_health/", timeout=2) as response:
                return response.status, ""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")[:300]
        except OSError as exc:
            return 0, repr(exc)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)


def api(url: str, token: str, path: str):
    request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def port_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_make_run_from_a_clean_clone_runs_unattended(tmp_path):
    clone = clean_clone(tmp_path / "clone")
    port = free_port()
    env = base_env(tmp_path / "data", port)
    for name in ("DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX", "INGEST_RECLAIM_IDLE_SECONDS"):
        env.pop(name, None)
    url = f"http://127.0.0.1:{port}"
    # -o: the symlinked .venv is installed; the clone's younger pyproject.toml must not reinstall it.
    make = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "run"], cwd=clone, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    output = Output(make, tmp_path / "make-run.log")
    try:
        seen = _unattended(clone, env, make, output, url, tmp_path)
        _interrupt(make, output, port, seen)
    finally:
        kill_tree(make.pid)


def _unattended(clone: Path, env: dict, make, output: Output, url: str, tmp_path: Path) -> set:
    assert output.wait_for("LightTrace is ready at ", 300).startswith(f"LightTrace is ready at {url}/ ")
    dsn = output.wait_for("DSN of default/default: ", 1).split(": ", 1)[1]
    supervisor = wait_until(
        lambda: [p for p, f in live_processes().items() if int(f[1]) == make.pid], 10, "serve"
    )
    watch = Watch(url, make.pid)
    stop_file = tmp_path / "stop-load"
    load = subprocess.Popen(
        [sys.executable, str(TRICKLE), dsn, str(EVENT_INTERVAL), str(stop_file)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(UNATTENDED_SECONDS)
    assert make.poll() is None, "make run stopped by itself:\n" + "\n".join(output.lines[-60:])
    _fresh_heartbeats_and_a_quiet_log(url, output)
    worker = wait_until(lambda: worker_pid(supervisor[0]), 10, "the worker")
    killed_at = time.monotonic()
    os.kill(worker, signal.SIGKILL)
    wait_until(lambda: worker_pid(supervisor[0]) not in (None, worker), 60, "a new worker")
    back_at = time.monotonic()
    time.sleep(AFTER_RESTART_SECONDS)
    stop_file.touch()
    answers = [line.split() for line in load.communicate(timeout=60)[0].splitlines()]
    watch.stop()
    assert load.returncode == 0
    # Restarts keep it up, but running unattended means nothing died that the test did not kill.
    deaths = [line for line in output.lines if re.match(r"supervisor: \w+ \(pid \d+\) ", line)]
    assert deaths == [f"supervisor: worker (pid {worker}) killed by SIGKILL"], deaths
    unexplained = [f for f in watch.failures if not killed_at <= f[0] <= back_at + EXPLAINED_SECONDS]
    assert unexplained == [], f"/_health/ failed {len(unexplained)} of {watch.polls} polls: {unexplained[:5]}"
    _every_200_counted(clone, env, url, answers)
    print(
        f"unattended {UNATTENDED_SECONDS:g} s: {watch.polls} /_health/ polls, {len(watch.failures)} not 200, "
        f"{len(answers)} events answered 200 and counted, new worker after {back_at - killed_at:.1f} s"
    )
    assert make.poll() is None
    assert not (Path(env["DATA_DIR"]) / "celery-queue").exists()  # no kombu transport on the embedded default
    return watch.seen


# kombu's filesystem transport once crashed the embedded worker within two minutes of idling (Celery's
# hostname warning, "celery@" banners, "Unrecoverable error"); the runner has no transport.
LOG_NOISE = ("Traceback", "No hostname was supplied", "celery@", "Unrecoverable error")


def _fresh_heartbeats_and_a_quiet_log(url: str, output: Output) -> None:
    """After the unattended time and before the kill: both roles beat within the last 10 s (a 503
    would only come after a longer silence) and nothing in the log hints at a crash."""
    with urllib.request.urlopen(url + "/_health/", timeout=5) as response:
        ages = json.loads(response.read())["heartbeat_age_seconds"]
    assert set(ages) == {"worker", "scheduler"} and max(ages.values()) < 10, ages
    noise = [line for line in list(output.lines) if any(n in line for n in LOG_NOISE)]
    assert noise == [], noise[:10]


def _every_200_counted(clone: Path, env: dict, url: str, answers: list[list[str]]) -> None:
    expected = UNATTENDED_SECONDS // (EVENT_INTERVAL + 1)
    assert len(answers) >= expected and all(answer == "200" for _, answer in answers), answers
    token = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "manage.py", "create_api_token", "unattended"], cwd=clone,
        env=env, capture_output=True, text=True, check=True,
    ).stdout.split()[-1]  # fmt: skip

    def counted():
        issues = api(url, token, "/api/0/projects/default/default/issues/?query=")
        return [i for i in issues if i["title"].startswith("ValueError")]

    def all_counted():
        issues = counted()
        return issues and int(issues[0]["count"]) >= len(answers)

    # With the default INGEST_RECLAIM_IDLE_SECONDS (120): a batch the killed worker held waits that long.
    wait_until(all_counted, 200, f"{len(answers)} events counted")
    (issue,) = counted()
    assert int(issue["count"]) == len(answers)


def _interrupt(make, output: Output, port: int, seen: set) -> None:
    seen = seen | tree(make.pid)
    os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C at the terminal does
    sent = time.monotonic()
    while still_alive(seen | tree(make.pid)) and time.monotonic() - sent < 10:
        time.sleep(0.1)
    left = still_alive(seen | tree(make.pid))
    assert not left, f"alive 10 s after SIGINT: {[(pid, cmdline(pid)) for pid, _ in left]}"
    assert port_closed(port)
    make.wait(timeout=5)
    print(f"SIGINT: {len(seen)} processes seen in the tree, none left after {time.monotonic() - sent:.1f} s")
    assert output.starting("supervisor: stopping LightTrace")


def test_make_run_exits_non_zero_when_the_web_server_crash_loops(tmp_path):
    """The port is taken: granian dies at start, is restarted with backoff, and after 5 deaths within
    60 s `make run` stops with the reason and a non-zero status, leaving no process behind."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = base_env(tmp_path / "data", port)
        for name in ("DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX"):
            env.pop(name, None)
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            out = make.communicate(timeout=180)[0]
        finally:
            kill_tree(make.pid)
    assert make.returncode != 0
    assert re.search(
        r"^LightTrace stopped: web died 5 times within 60 s \(last: exit status \d+\)$", out, re.M
    ), out
    assert len(re.findall(r"^supervisor: web \(pid \d+\) exit status", out, re.M)) == 5
    assert "LightTrace is ready at" not in out
    assert not still_alive(tree(make.pid))
