"""Runs LightTrace's processes in the foreground, restarts the one that dies, and stops them together.
Standard library only: `manage.py serve` works out the commands with Django loaded, then exec()s into
this module, so the supervisor itself stays small (no Django in memory) and keeps the same PID.

Linux only (prctl). How no process outlives the unit:
- each child runs in a process group of its own, so the whole tree a child started (granian's worker
  processes, Celery's pool) is signalled at once, and Ctrl-C at a terminal reaches the supervisor only,
  which then stops the children in order;
- each child gets SIGTERM when the supervisor dies, even by SIGKILL (PR_SET_PDEATHSIG). SIGTERM rather
  than SIGKILL so that granian stops its own worker processes, which the kernel does not signal;
- the supervisor is a child subreaper (PR_SET_CHILD_SUBREAPER): a grandchild whose parent died is
  reparented to it instead of to PID 1, so it is reaped and killed, never left answering requests.

A child that dies is restarted after a backoff (BACKOFF_FIRST doubling to BACKOFF_MAX, back to the first
after it ran STABLE_SECONDS). Only CRASH_LIMIT deaths of one child within CRASH_WINDOW seconds stop the
unit, with the reason on stderr and exit status 1, so that systemd, Docker or `make run` see a failure.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STABLE_SECONDS = 60.0
CRASH_LIMIT = int(os.environ.get("SUPERVISOR_CRASH_LIMIT", "5"))
CRASH_WINDOW = float(os.environ.get("SUPERVISOR_CRASH_WINDOW_SECONDS", "60"))
LEFTOVER_GRACE = 3.0  # what is left of a dead child's group gets this long after SIGTERM, then SIGKILL
STOP_GRACE = 7.0  # on SIGINT/SIGTERM children get this long, then SIGKILL: all gone well within 10 s
KILL_GRACE = 2.0  # after SIGKILL, how long to wait for the kernel to take everything down
TICK = 0.2
ORPHAN_SCAN_SECONDS = 1.0
HEALTH_PROBE_SECONDS = 0.5

_libc = ctypes.CDLL(None, use_errno=True)


def log(message: str) -> None:
    print(f"supervisor: {message}", file=sys.stderr, flush=True)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def _die_with_parent(parent_pid: int):
    """Runs in the forked child before exec: SIGTERM when the supervisor dies (kept across exec).
    preexec_fn is safe here because the supervisor never starts a thread."""

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
            os._exit(1)

    return preexec


def describe(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class Child:
    """One named command, its current process and its restart bookkeeping."""

    def __init__(self, name: str, command: list[str]) -> None:
        self.name, self.command = name, command
        self.process: subprocess.Popen | None = None
        self.pgid = 0  # process group of the current or last run: what is left of it is killed through it
        self.started = self.restart_at = self.leftovers_kill_at = 0.0
        self.backoff = BACKOFF_FIRST
        self.starts = 0
        self.last_exit = ""
        self.deaths: list[float] = []

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def start(self) -> bool:
        self.started, self.starts = time.monotonic(), self.starts + 1
        try:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, process_group=0,
                preexec_fn=_die_with_parent(os.getpid()),
            )  # fmt: skip
        except OSError as exc:
            self.last_exit = f"could not start: {exc}"
            log(f"{self.name} {self.last_exit}")
            self.process = None
            return False
        self.pgid = self.process.pid
        return True

    def died(self, now: float) -> str | None:
        """Counts a death and plans the restart; returns why the unit must stop, if it must."""
        self.leftovers_kill_at = now + LEFTOVER_GRACE
        if now - self.started >= STABLE_SECONDS:
            self.backoff = BACKOFF_FIRST
        self.deaths = [t for t in self.deaths if now - t < CRASH_WINDOW] + [now]
        if len(self.deaths) >= CRASH_LIMIT:
            return f"{self.name} died {len(self.deaths)} times within {CRASH_WINDOW:g} s (last: {self.last_exit})"
        self.restart_at = now + self.backoff
        log(f"restarting {self.name} in {self.backoff:g} s")
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)
        return None


def group_alive(pgid: int) -> bool:
    if pgid <= 0:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, signum: int) -> None:
    if pgid > 0:
        try:
            os.killpg(pgid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def reap() -> list[tuple[int, int]]:
    """Collects every dead child: our own and the orphans reparented to us."""
    dead: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return dead
        if pid == 0:
            return dead
        dead.append((pid, status))


def own_processes() -> list[int]:
    """Every live process whose parent is the supervisor: children and adopted orphans."""
    me = os.getpid()
    try:  # the kernel's list (CONFIG_PROC_CHILDREN); a single-threaded supervisor adopts in this thread
        with open(f"/proc/{me}/task/{me}/children") as listing:
            candidates = listing.read().split()
    except FileNotFoundError:
        candidates = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    found = []
    for entry in candidates:
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != b"Z":
            found.append(int(entry))
    return found


class Stop:
    """SIGINT/SIGTERM/SIGHUP ask for a stop; a second one asks for SIGKILL at once."""

    def __init__(self) -> None:
        self.requested = False
        self.forced = False
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if signum != signal.SIGHUP or signal.getsignal(signum) != signal.SIG_IGN:  # nohup: keep running
                signal.signal(signum, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            self.forced = True
        self.requested = True


class Readiness:
    """Prints the ready line once GET /_health/ answers 200 on the address the web server listens on."""

    def __init__(self, public_url: str, health_url: str) -> None:
        self.public_url, self.health_url = public_url.rstrip("/") + "/", health_url
        self.host_header = urllib.parse.urlsplit(public_url).netloc
        self.done = False
        self.next_probe = 0.0

    def poll(self, now: float) -> None:
        if self.done or now < self.next_probe:
            return
        self.next_probe = now + HEALTH_PROBE_SECONDS
        if health_status(self.health_url, self.host_header) == 200:
            self.done = True
            print(f"LightTrace is ready at {self.public_url}  (Ctrl-C stops it)", flush=True)


def health_status(url: str, host_header: str, timeout: float = 0.5) -> int:
    """The HTTP status of a GET, 0 if there is no answer (a raw socket: no urllib, ssl nor email here)."""
    parts = urllib.parse.urlsplit(url)
    request = f"GET {parts.path or '/'} HTTP/1.0\r\nHost: {host_header}\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout) as conn:
            conn.sendall(request.encode())
            status_line = conn.makefile("rb").readline(200).split()
        return int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    except OSError:
        return 0


def tend(child: Child, now: float) -> str | None:
    """A dead child: kill what is left of its group, then start it again once its backoff is over."""
    if child.running:
        return None
    if group_alive(child.pgid):
        if now >= child.leftovers_kill_at:
            signal_group(child.pgid, signal.SIGKILL)
        return None
    if now < child.restart_at:
        return None
    restart = child.starts > 0
    if not child.start():
        return child.died(now)  # could not exec: counts as a crash
    if restart:
        log(f"{child.name} restarted (pid {child.pgid})")
    return None


def on_exit(children: list[Child], pid: int, status: int, now: float) -> str | None:
    for child in children:
        if child.running and child.process is not None and child.process.pid == pid:
            child.process.returncode = os.waitstatus_to_exitcode(status)
            child.last_exit = describe(status)
            log(f"{child.name} (pid {pid}) {child.last_exit}")
            signal_group(child.pgid, signal.SIGTERM)  # its own children, if any are left
            return child.died(now)
    return None  # an adopted orphan: reaped, nothing else to do


class Orphans:
    """Adopted grandchildren whose parent died: SIGTERM when first seen, SIGKILL LEFTOVER_GRACE later."""

    def __init__(self) -> None:
        self.first_seen: dict[int, float] = {}
        self.next_scan = 0.0

    def scan(self, children: list[Child], now: float) -> None:
        if now < self.next_scan:
            return
        self.next_scan = now + ORPHAN_SCAN_SECONDS
        first_seen = {}
        for pid in adopted(children):
            first_seen[pid] = self.first_seen.get(pid, now)
            if first_seen[pid] == now:
                log(f"killing pid {pid}, left behind by a process that died")
                send(pid, signal.SIGTERM)
            elif now - first_seen[pid] >= LEFTOVER_GRACE:
                send(pid, signal.SIGKILL)
        self.first_seen = first_seen


def adopted(children: list[Child]) -> list[int]:
    running = {child.process.pid for child in children if child.running and child.process is not None}
    return [pid for pid in own_processes() if pid not in running]


def send(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def run(children: list[Child], stop: Stop, readiness: Readiness | None) -> str | None:
    """Keeps the children running until a stop is asked for (None) or one crash-loops (the reason)."""
    orphans = Orphans()
    while not stop.requested:
        now = time.monotonic()
        for pid, status in reap():
            reason = on_exit(children, pid, status, now)
            if reason:
                return reason
        for child in children:
            reason = tend(child, now)
            if reason:
                return reason
        orphans.scan(children, now)
        if readiness:
            readiness.poll(now)
        time.sleep(TICK)
    return None


def tree_alive(children: list[Child]) -> bool:
    reap()
    return any(group_alive(child.pgid) for child in children) or bool(own_processes())


def stop_tree(children: list[Child], stop: Stop) -> bool:
    """SIGTERM to every group, SIGKILL after STOP_GRACE (at once on a second Ctrl-C); True if all gone."""
    for child in children:
        signal_group(child.pgid, signal.SIGTERM)
    for pid in adopted(children):
        send(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while tree_alive(children) and time.monotonic() < deadline and not stop.forced:
        time.sleep(0.05)
    deadline = time.monotonic() + KILL_GRACE
    while tree_alive(children) and time.monotonic() < deadline:
        for child in children:
            signal_group(child.pgid, signal.SIGKILL)
        for pid in own_processes():
            send(pid, signal.SIGKILL)
        time.sleep(0.05)
    return not tree_alive(children)


def supervise(commands: dict[str, list[str]], readiness: Readiness | None = None) -> int:
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    stop = Stop()
    children = [Child(name, command) for name, command in commands.items()]
    reason = run(children, stop, readiness)
    log(f"{reason}; stopping LightTrace" if reason else "stopping LightTrace")
    if not stop_tree(children, stop):
        log("some processes did not stop after SIGKILL")
    if reason:
        print(f"LightTrace stopped: {reason}", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv: list[str]) -> int:
    """argv: COMMANDS_JSON [--ready-url URL --health-url URL] (no argparse: a megabyte less resident)."""
    options = dict(zip(argv[1::2], argv[2::2], strict=False))
    if len(argv) not in (1, 5) or set(options) != ({"--ready-url", "--health-url"} if options else set()):
        sys.exit("usage: python -m projects.supervisor COMMANDS_JSON [--ready-url URL --health-url URL]")
    readiness = Readiness(options["--ready-url"], options["--health-url"]) if options else None
    return supervise(json.loads(argv[0]), readiness)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
