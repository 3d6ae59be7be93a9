#!/usr/bin/env python3
"""Stdout capture benchmark: how fast a worker's output reaches a file.

One run floods 1 GiB of 100-byte lines (bench/flood_worker) into a file
through each of these, each case repeated --repeats times:

  copy          flood_worker | pipe_copy OUT: a read(64 KiB)/write loop,
                the plain copy DESIGN.md's target is a ratio of
  splice        flood_worker | pipe_copy --splice OUT: splice(2) from the
                pipe into the file
  workerd       workerd with log = "file": LOG_DIR/flood.log, each line
                prefixed with an RFC 3339 timestamp and "flood:0 stdout: "
  workerd-nots  the same with log_timestamps = false
  workerd-nobuf (only with --cases) the same with log_buffer = "0"
  supervisord   supervisord -n with stdout_logfile=FILE (raw bytes)

and reports MB/s (MB = 10^6 bytes of the worker's output) from the worker's
first write to the moment the END line is in the file, the ratio to the
read/write copy (target: workerd >= 0.8x), and the CPU time the copier
(pipe_copy, workerd, supervisord) spent per GB. After each timed run, and
outside the timing, the whole file is checked: every line present, intact
and in order, and nothing else.

This is a script for a human to run, not a test. See bench/README.md.
"""

import argparse
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import xmlrpc.client

from benchlib import (BENCH, BenchError, REPO, add_binary_options,
                      compile_missing_helpers, describe_build,
                      add_number_options, add_output_options, 
                      command_output, describe_environment, find_binaries,
                      indented, kill_until_gone, log, markdown_table, median,
                      now_stamp, proc_stat, ratio, read_text, report_bad_end,
                      report_head, run_main, session_members,
                      start_in_session, terminate, track,
                      untrack, wait_until, write_json, write_report)

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUILD_DIR = os.path.join(REPO, "build", "bench")
BUILD_HINT = ("cmake -S {repo} -B {build} -DCMAKE_BUILD_TYPE=RelWithDebInfo "
              "-DWORKERD_BUILD_TESTS=OFF && cmake --build {build} -j2")

CASES = ["copy", "splice", "workerd", "workerd-nots", "supervisord"]
# Not run unless asked for with --cases: what workerd does without the
# memory it keeps for `workerctl logs`, to tell that cost from the rest.
EXTRA_CASES = ["workerd-nobuf"]
CASE_TITLE = {
    "copy": "bare copy, read/write (pipe_copy)",
    "splice": "bare copy, splice (pipe_copy --splice)",
    "workerd": 'workerd, log = "file"',
    "workerd-nots": 'workerd, log = "file", log_timestamps = false',
    "workerd-nobuf": 'workerd, log = "file", log_buffer = "0"',
    "supervisord": "supervisord, stdout_logfile",
}
PROGRAM = "flood"
TAG = f"{PROGRAM}:0 stdout: ".encode()  # workerd's prefix after the time
# The timestamp workerd puts first, and a space.
TIMESTAMP_RE = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}"
                          rb"(?:Z|[+-]\d\d:\d\d) \Z")
DIGITS_TO_0 = bytes.maketrans(b"0123456789", b"0000000000")
POLL_S = 0.001       # how often the destination file's tail is read
VERIFY_CHUNK = 8 << 20


def now_ns():
    return time.monotonic_ns()


def cpu_seconds(pid):
    """utime+stime of the whole process (all threads, and the threads that
    have ended), in seconds; CLK_TCK resolution."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_pressure_us():
    """/proc/pressure/cpu's "some" total: microseconds during which at
    least one runnable task waited for a CPU (None without PSI)."""
    try:
        with open("/proc/pressure/cpu") as f:
            for line in f:
                if line.startswith("some "):
                    return int(line.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def stray_pids(exes):
    """Live (not zombie) processes running one of the binaries `exes`."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if (os.path.realpath(f"/proc/{name}/exe") in exes
                    and proc_stat(name)[0] != "Z"):
                pids.append(int(name))
        except (OSError, ValueError):
            continue
    return pids


# --------------------------------------------------------------------------
# The stream flood_worker writes, and checking a file against it


class Expected:
    """flood_worker's lines, regenerated: take(n) gives the next n lines.

    Line K is K zero-padded to `width` digits, a space, then "abc...z"
    repeated, cut to line_bytes - 1 bytes, and "\\n" (flood_worker.c). The
    lines are built 10^4 at a time: the last 4 digits and the text after
    them are the same in every block, joined with the block's leading
    digits as the separator, so that making the stream runs at memcpy
    speed."""

    def __init__(self, lines, line_bytes):
        self.lines = lines
        self.L = line_bytes
        self.width = len(str(max(lines - 1, 0)))
        letters = b"abcdefghijklmnopqrstuvwxyz"
        text = (b" " + letters * (line_bytes // 26 + 1))[
            :line_bytes - 1 - self.width] + b"\n"
        self.low = min(4, self.width)
        self.block_lines = 10 ** self.low
        self.templates = [b"%0*d" % (self.low, j) + text
                          for j in range(self.block_lines)]
        self.block_no = -1
        self.block = b""
        self.next = 0

    def _block(self, b):
        if b != self.block_no:
            high = self.width - self.low
            sep = b"%0*d" % (high, b) if high else b""
            self.block = sep + sep.join(self.templates)
            self.block_no = b
        return self.block

    def take(self, n):
        pieces = []
        while n > 0:
            b, off = divmod(self.next, self.block_lines)
            m = min(n, self.block_lines - off)
            pieces.append(self._block(b)[off * self.L:(off + m) * self.L])
            self.next += m
            n -= m
        return b"".join(pieces)


class Stripper:
    """workerd's prefix off every line of a chunk of whole lines.

    A line is "TIMESTAMP flood:0 stdout: TEXT" (or without "TIMESTAMP "):
    the chunk is split at "flood:0 stdout: ", so each piece but the first
    and last is one line's text and newline followed by the next line's
    timestamp and space. Every timestamp must have the same length and
    shape (digits anywhere a digit was in the first one, which must be an
    RFC 3339 time with milliseconds), and there must be exactly one prefix
    per line."""

    def __init__(self):
        self.head_len = None
        self.shape = None
        self.first = self.last = None  # the first and last timestamps

    def strip(self, chunk, line_no):
        parts = chunk.split(TAG)
        head, body = parts[0], parts[1:]
        if not body:
            raise BenchError(f"line {line_no}: no {TAG.decode()!r} in "
                             f"{chunk[:200]!r}")
        if self.head_len is None:
            if head and not TIMESTAMP_RE.match(head):
                raise BenchError(f"line {line_no}: {head!r} before "
                                 f"{TAG.decode()!r} is not an RFC 3339 time "
                                 f"with milliseconds and a space")
            self.head_len = len(head)
            self.shape = head.translate(DIGITS_TO_0)
            self.first = head.strip()
        elif len(head) != self.head_len:
            raise BenchError(f"line {line_no}: prefix {head!r} is not as "
                             f"long as the first line's")
        T = self.head_len
        if T:
            stamps = head + b"".join([p[-T:] for p in body[:-1]])
            text = b"".join([p[:-T] for p in body[:-1]]) + body[-1]
            if stamps.translate(DIGITS_TO_0) != self.shape * len(body):
                for i in range(len(body)):
                    s = stamps[i * T:(i + 1) * T]
                    if s.translate(DIGITS_TO_0) != self.shape:
                        raise BenchError(
                            f"line {line_no + i}: timestamp {s!r} is not "
                            f"like the first line's {self.first!r}")
            self.last = stamps[-T:].strip()
        else:
            if head:
                raise BenchError(f"line {line_no}: {head!r} before the "
                                 "prefix")
            text = b"".join(body)
        if text.count(b"\n") != len(body):
            # Some line had no prefix, or two lines were glued together.
            texts = [p[:-T] if T else p for p in body[:-1]] + [body[-1]]
            bad = next(i for i, t in enumerate(texts)
                       if t.find(b"\n") != len(t) - 1)
            raise BenchError(f"lines {line_no + bad}-{line_no + bad + 1}: "
                             f"not one prefix per line: {texts[bad][:200]!r}")
        return text


def first_difference(got, want, line_no):
    """A sentence on the first line where `got` differs from `want`."""
    g, w = got.split(b"\n"), want.split(b"\n")
    for i, (a, b) in enumerate(zip(g, w)):
        if a != b:
            return (f"line {line_no + i}: got {a[:120]!r} "
                    f"({len(a) + 1} bytes), want {b[:120]!r}")
    return (f"line {line_no + min(len(g), len(w)) - 1}: the output has "
            f"{'fewer' if len(g) < len(w) else 'more'} lines than expected")


def check_lines(f, path, exp, stripper, done):
    """Checks the rest of the open file `f`, from a line's start, against
    `exp` (at line `done`, 0-based): a chunk of whole lines at a time,
    each stripped of workerd's prefix if `stripper`, then compared with
    the lines it should hold; after the last line, the END line and
    nothing else. Returns the lines checked; raises BenchError at the
    first bad line."""
    lines = exp.lines
    end = b"END %d\n" % lines
    seen_end = False
    rest = b""
    while True:
        data = f.read(VERIFY_CHUNK)
        if not data:
            break
        data = rest + data
        cut = data.rfind(b"\n") + 1
        data, rest = data[:cut], data[cut:]
        if not data:
            continue
        if seen_end:
            raise BenchError(f"{path}: output after the END line: "
                             f"{data[:200]!r}")
        if stripper:
            try:
                data = stripper.strip(data, done + 1)
            except BenchError as e:
                raise BenchError(f"{path}: {e}")
        m = min(data.count(b"\n"), lines - done)
        want = exp.take(m)
        if data[:len(want)] != want:
            raise BenchError(f"{path}: "
                             + first_difference(data, want, done + 1))
        done += m
        tail = data[len(want):]
        if tail:
            if tail.startswith(end) and tail != end:
                raise BenchError(f"{path}: output after the END line: "
                                 f"{tail[len(end):][:200]!r}")
            if tail != end:
                got = tail.split(b"\n")[0][:200]
                raise BenchError(
                    f"{path}: line {done + 1}: got {got!r}, want "
                    f"{end.strip()!r} after the {lines} lines")
            seen_end = True
    if rest:
        raise BenchError(f"{path}: ends in an unfinished line {rest[:200]!r}")
    if not seen_end:
        raise BenchError(f"{path}: only {done} of {lines} lines, and no END "
                         "line")
    return done


def columns_match(data, rows, want, prefix_len, stamp_shape):
    """True if `data` is exactly `rows` lines of workerd's output, each a
    prefix of `prefix_len` bytes (a timestamp shaped like `stamp_shape`,
    a space, "flood:0 stdout: ") and the line of `want` (rows lines of
    equal length) it should hold.

    All lines have the same length, so the check goes column by column:
    data[c::stride] is byte c of every line, compared at C speed with what
    it must be; several times faster than stripping each line."""
    L = len(want) // rows
    stride = prefix_len + L
    if len(data) != rows * stride:
        return False
    T = len(stamp_shape)
    for c in range(T):
        if data[c::stride].translate(DIGITS_TO_0) != stamp_shape[c:c + 1] \
                * rows:
            return False
    for c in range(T, prefix_len):
        if data[c::stride] != TAG[c - T:c - T + 1] * rows:
            return False
    for j in range(L):
        if data[prefix_len + j::stride] != want[j::L]:
            return False
    return True


def verify(path, lines, line_bytes, prefixed):
    """Reads the whole file once and checks it is exactly the worker's
    `lines` lines and the END line, with workerd's prefix on each if
    `prefixed`. Returns {"lines": N, "first_stamp", "last_stamp"};
    raises BenchError at the first bad line.

    Raw files go through check_lines() at once. For workerd's, the first
    line gives the prefix's length, and as long as every line has that
    same length the lines are checked columnwise (columns_match()); the
    first chunk that does not match, and everything after it, goes
    through check_lines(), which finds and names the bad line."""
    exp = Expected(lines, line_bytes)
    stamps = {"first_stamp": None, "last_stamp": None}
    with open(path, "rb") as f:
        if not prefixed:
            return {"lines": check_lines(f, path, exp, None, 0), **stamps}
        stripper = Stripper()
        try:
            stripper.strip(f.readline(), 1)  # the first line's prefix
        except BenchError as e:
            raise BenchError(f"{path}: {e}")
        f.seek(0)
        prefix_len = stripper.head_len + len(TAG)
        rows_per_chunk = max(1, VERIFY_CHUNK // (prefix_len + line_bytes))
        done = 0
        while done < lines:
            rows = min(rows_per_chunk, lines - done)
            at = f.tell()
            data = f.read(rows * (prefix_len + line_bytes))
            if not columns_match(data, rows, exp.take(rows), prefix_len,
                                 stripper.shape):
                # Find the bad line, line by line, from this chunk on.
                f.seek(at)
                exp.next = done
                break
            done += rows
        # The END line, prefixed, and nothing after it (or, after a chunk
        # that did not match, the rest of the file).
        checked = check_lines(f, path, exp, stripper, done)
        return {"lines": checked,
                "first_stamp": stripper.first.decode() or None,
                "last_stamp": (stripper.last or b"").decode() or None}


def worker_alive(pid):
    try:
        return proc_stat(pid)[0] != "Z"
    except (OSError, ValueError):
        return False


def wait_for_end(path, tail, watched, timeout, start_file, grace=10):
    """Polls the file every POLL_S until it ends with `tail` (the END line),
    reading only its last bytes; returns (monotonic ns, size).

    Raises BenchError if a process of `watched` ({name: (Popen, may exit
    with 0)}) exits first, after `timeout` s, or `grace` s after the
    worker (its pid from `start_file`) has ended with the END line still
    missing: its output went somewhere else."""
    deadline = time.monotonic() + timeout
    fd = None
    size = -1
    worker = None
    worker_gone = None
    polls = 0
    try:
        while True:
            if fd is None:
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                except FileNotFoundError:
                    pass
            if fd is not None:
                now = os.fstat(fd).st_size
                if now != size:
                    size = now
                    if (size >= len(tail) and
                            os.pread(fd, len(tail), size - len(tail))
                            == tail):
                        return now_ns(), size
            for name, (proc, may_exit) in watched.items():
                status = proc.poll()
                if status is not None and (status != 0 or not may_exit):
                    raise BenchError(f"{name} exited with status {status} "
                                     f"before the END line was in {path} "
                                     f"({max(size, 0)} bytes)")
            polls += 1
            if polls % 100 == 0:  # about every 0.1 s
                if time.monotonic() > deadline:
                    raise BenchError(f"no END line in {path} after "
                                     f"{timeout:g} s ({max(size, 0)} bytes)")
                if worker is None:
                    try:
                        worker = read_start(start_file)[0]
                    except BenchError:
                        pass
                elif worker_gone is None and not worker_alive(worker):
                    worker_gone = time.monotonic()
                elif worker_gone and time.monotonic() - worker_gone > grace:
                    raise BenchError(
                        f"the worker ended {grace} s ago and its END line is "
                        f"not in {path} ({max(size, 0)} bytes)")
            time.sleep(POLL_S)
    finally:
        if fd is not None:
            os.close(fd)


def read_start(path):
    """flood_worker's "PID MONOTONIC_NS" line: (pid, ns)."""
    try:
        with open(path) as f:
            pid, ns = f.read().split()
            return int(pid), int(ns)
    except (OSError, ValueError):
        raise BenchError(f"flood_worker wrote no start time to {path}")


# --------------------------------------------------------------------------
# The cases


class Run:
    """One timed run of one case, in its own directory. Subclasses start
    the copier and the worker (start()), say when the worker ends and how
    much CPU the copier used (finish()), and stop what they started."""

    prefixed = False

    def __init__(self, case, args, bins, workdir, tag):
        self.case = self.name = case
        self.args = args
        self.bins = bins
        self.dir = os.path.join(workdir, tag)
        os.makedirs(self.dir)
        self.start_file = os.path.join(self.dir, "start")
        self.out = os.path.join(self.dir, "out")
        self.lines = args.bytes // args.line_bytes
        self.worker_argv = [bins["flood"], "--bytes", str(args.bytes),
                            "--line-bytes", str(args.line_bytes),
                            "--start-file", self.start_file]
        self.psi0 = None
        self.leftovers = 0
        self.bad_exits = []
        self.logs = []  # (what, warn/error lines) for the report

    def mark(self):
        """Called just before the worker is started: where the CPU
        pressure over the run is measured from."""
        self.psi0 = cpu_pressure_us()
        self.t_psi0 = now_ns()

    def tail(self):
        end = b"END %d\n" % self.lines
        return (b": " if self.prefixed else b"\n") + end

    def timeout(self):
        return 60 + self.args.bytes / 10e6

    def measure(self):
        """Start, wait for the END line, then stop everything and check
        nothing is left; returns the run's raw figures."""
        track(self)
        try:
            self.start()
            t_end, size = wait_for_end(self.out, self.tail(), self.watched(),
                                       self.timeout(), self.start_file)
            cpu = self.copier_cpu_now()
            psi = cpu_pressure_us()
            res = self.finish()
            if cpu is not None:
                res["cpu_s"] = cpu - self.cpu0
        finally:
            self.stop()
            untrack(self)
        t0 = read_start(self.start_file)[1]
        res.update(seconds=(t_end - t0) / 1e9, file_bytes=size)
        if psi is not None and self.psi0 is not None:
            res["cpu_pressure"] = (psi - self.psi0) / max(
                1, (t_end - self.t_psi0) / 1e3)
        if "last_write_ns" in res:
            res["poll_lag_ms"] = (t_end - res.pop("last_write_ns")) / 1e6
        return res

    def copier_cpu_now(self):
        return None

    def kill(self):
        """The cleanup after an error or an interrupt (cleanup_all())."""
        self.stop()

    def stray(self):
        return stray_pids({self.bins["flood"], self.bins["copy"]})


class PipeRun(Run):
    """flood_worker | pipe_copy [--splice] OUT, both started here, each in
    its own session."""

    def start(self):
        self.err = os.path.join(self.dir, "pipe_copy.err")
        r, w = os.pipe()
        self.mark()
        try:
            with open(self.err, "wb") as err:
                self.copy = subprocess.Popen(
                    [self.bins["copy"]]
                    + (["--splice"] if self.case == "splice" else [])
                    + [self.out], stdin=r, stdout=subprocess.DEVNULL,
                    stderr=err, start_new_session=True)
                self.worker = subprocess.Popen(
                    self.worker_argv, stdin=subprocess.DEVNULL, stdout=w,
                    stderr=err, start_new_session=True)
        finally:
            os.close(r)
            os.close(w)

    def watched(self):
        return {"pipe_copy": (self.copy, True),
                "flood_worker": (self.worker, True)}

    def finish(self):
        for name, proc in (("flood_worker", self.worker),
                           ("pipe_copy", self.copy)):
            try:
                status = proc.wait(30)
            except subprocess.TimeoutExpired:
                raise BenchError(f"{name} still running 30 s after the END "
                                 "line")
            if status != 0:
                raise BenchError(f"{name} exited with status {status}: "
                                 f"{read_text(self.err)[-1000:]}")
        m = re.search(r"bytes=(\d+) last_write_ns=(\d+) utime_us=(\d+) "
                      r"stime_us=(\d+)", read_text(self.err))
        if not m:
            raise BenchError(f"pipe_copy printed no summary: "
                             f"{read_text(self.err)[-1000:]}")
        copied, last, ut, st = (int(x) for x in m.groups())
        return {"cpu_s": (ut + st) / 1e6, "last_write_ns": last,
                "copied": copied}

    def stop(self):
        for proc in (getattr(self, "worker", None), getattr(self, "copy",
                                                            None)):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        self.leftovers += kill_until_gone(self.stray, 2)


class WorkerdRun(Run):
    """workerd -c CONFIG with one `flood` program (autostart = false, so
    that its CPU time can be read after its start-up and before the flood),
    started with `workerctl --no-wait start flood`. workerd runs in a
    session of its own and so does every worker."""

    prefixed = True

    def __init__(self, *a):
        super().__init__(*a)
        self.socket = os.path.join(self.dir, "control.sock")
        self.log_dir = os.path.join(self.dir, "logs")
        self.out = os.path.join(self.log_dir, f"{PROGRAM}.log")
        self.log_path = os.path.join(self.dir, "workerd.log")
        self.config = os.path.join(self.dir, "workers.toml")
        self.proc = None
        with open(self.config, "w") as f:
            f.write(workerd_config(self.socket, self.log_dir,
                                   self.worker_argv,
                                   self.case != "workerd-nots",
                                   self.case == "workerd-nobuf"))

    def ctl(self, *argv):
        return subprocess.run([self.bins["workerctl"], "-s", self.socket,
                               *argv], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=30)

    def instance(self):
        """The flood worker's status entry, or None before workerd
        answers."""
        r = self.ctl("--json", "status")
        if r.returncode != 0:
            return None
        try:
            return [i for p in json.loads(r.stdout)["programs"]
                    for i in p["instances"]][0]
        except (ValueError, KeyError, IndexError):
            raise BenchError(f"odd `workerctl --json status`: {r.stdout!r}")

    def start(self):
        self.proc = start_in_session([self.bins["workerd"], "-c",
                                      self.config], self.log_path)
        wait_until(self.instance, 20, proc=self.proc, pause=0.02,
                   exited=lambda s: (f"workerd exited with status {s}:\n"
                                     f"{read_text(self.log_path)[-2000:]}"),
                   late=lambda: "workerd did not answer within 20 s")
        self.cpu0 = cpu_seconds(self.proc.pid)
        self.mark()
        r = self.ctl("--no-wait", "start", PROGRAM)
        if r.returncode != 0:
            raise BenchError(f"workerctl start exited {r.returncode}: "
                             f"{(r.stdout + r.stderr).strip()}")

    def watched(self):
        return {"workerd": (self.proc, False)}

    def copier_cpu_now(self):
        return cpu_seconds(self.proc.pid)

    def finish(self):
        # The worker has written its END line; wait for workerd to see it
        # exit, and check it exited 0.
        def ended():
            i = self.instance()
            return i if i and i["pid"] is None and i["last_exit"] else None
        i = wait_until(ended, 30, proc=self.proc, pause=0.01,
                       late=lambda: "flood worker still running 30 s after "
                                    "its END line")
        if i["last_exit"].get("code") != 0:
            raise BenchError(f"flood worker: {i['last_exit']['text']} "
                             f"({i['state']}: {i['message']})")
        return {}

    def stop(self):
        if self.proc is not None:
            terminate(self.proc, 15, "workerd")
            if self.proc.returncode != 0:
                self.bad_exits.append((self.case, self.proc.returncode))
            self.leftovers += kill_until_gone(
                lambda: session_members(self.proc.pid), 3)
            self.logs.append(("workerd", log_problems(
                read_text(self.log_path))))
            self.proc = None
        self.leftovers += kill_until_gone(self.stray, 2)


def workerd_config(socket_path, log_dir, worker_argv, timestamps,
                   no_buffer=False):
    return ("[daemon]\n"
            f"control_socket = {json.dumps(socket_path)}\n"
            f"log_dir = {json.dumps(log_dir)}\n"
            'log_level = "warn"\n'
            f"[program.{PROGRAM}]\n"
            f"command = {json.dumps(worker_argv)}\n"
            'restart = "never"\n'
            "autostart = false\n"
            'start_period = "0s"\n'
            'log = "file"\n'
            'log_max_size = "0"\n'
            f"log_timestamps = {'true' if timestamps else 'false'}\n"
            + ('log_buffer = "0"\n' if no_buffer else ""))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.unix_path)
        self.sock = s


class UnixTransport(xmlrpc.client.Transport):
    """XML-RPC to supervisord's unix_http_server socket."""

    def __init__(self, path):
        super().__init__()
        self.unix_path = path

    def make_connection(self, host):
        return UnixHTTPConnection(self.unix_path)


class SupervisordRun(Run):
    """supervisord -n -c CONF with one program `flood` (autostart=false),
    started over its XML-RPC socket, so that no supervisorctl process runs
    during the flood and supervisord's CPU time can be read after its
    start-up."""

    def __init__(self, *a):
        super().__init__(*a)
        self.socket = os.path.join(self.dir, "supervisor.sock")
        self.log_path = os.path.join(self.dir, "supervisord.out")
        self.own_log = os.path.join(self.dir, "supervisord.log")
        self.config = os.path.join(self.dir, "supervisord.conf")
        self.proc = None
        command = " ".join(shlex.quote(a) for a in self.worker_argv)
        with open(self.config, "w") as f:
            f.write(f"""[unix_http_server]
file={self.socket}

[supervisord]
logfile={self.own_log}
pidfile={os.path.join(self.dir, "supervisord.pid")}
childlogdir={self.dir}
loglevel=info

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:{PROGRAM}]
command={command}
autostart=false
autorestart=false
startsecs=0
stdout_logfile={self.out}
stdout_logfile_maxbytes=0
stderr_logfile={os.path.join(self.dir, "flood.err")}
stderr_logfile_maxbytes=0
""")

    def rpc(self):
        return xmlrpc.client.ServerProxy(
            "http://localhost/RPC2", transport=UnixTransport(self.socket))

    def running(self):
        try:
            return self.rpc().supervisor.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return False

    def start(self):
        self.proc = start_in_session([self.bins["supervisord"], "-n", "-c",
                                      self.config], self.log_path)
        wait_until(self.running, 30, proc=self.proc, pause=0.02,
                   exited=lambda s: (f"supervisord exited with status {s}:\n"
                                     f"{read_text(self.log_path)[-2000:]}"),
                   late=lambda: "supervisord did not answer within 30 s")
        self.cpu0 = cpu_seconds(self.proc.pid)
        self.mark()
        self.rpc().supervisor.startProcess(PROGRAM, False)

    def watched(self):
        return {"supervisord": (self.proc, False)}

    def copier_cpu_now(self):
        return cpu_seconds(self.proc.pid)

    def finish(self):
        def ended():
            info = self.rpc().supervisor.getProcessInfo(PROGRAM)
            return info if info["statename"] in ("EXITED", "FATAL",
                                                 "BACKOFF") else None
        info = wait_until(ended, 30, proc=self.proc, pause=0.01,
                          late=lambda: "flood worker still running 30 s "
                                       "after its END line")
        if info["exitstatus"] != 0 or info["statename"] != "EXITED":
            raise BenchError(f"flood worker under supervisord: "
                             f"{info['statename']}, exit status "
                             f"{info['exitstatus']}")
        return {}

    def stop(self):
        if self.proc is not None:
            terminate(self.proc, 15, "supervisord")
            if self.proc.returncode != 0:
                self.bad_exits.append((self.case, self.proc.returncode))
            self.leftovers += kill_until_gone(
                lambda: session_members(self.proc.pid), 3)
            self.logs.append(("supervisord", log_problems(
                read_text(self.own_log) + read_text(self.log_path),
                ("CRIT", "ERRO", "WARN"),
                ignore=("running as root", "without any HTTP authentication",
                        "received SIGTERM indicating exit"))))
            self.proc = None
        self.leftovers += kill_until_gone(self.stray, 2)


RUNS = {"copy": PipeRun, "splice": PipeRun, "workerd": WorkerdRun,
        "workerd-nots": WorkerdRun, "workerd-nobuf": WorkerdRun,
        "supervisord": SupervisordRun}


def log_problems(text, marks=("[warn", "[error", "[critical"), ignore=()):
    return [line for line in text.splitlines()
            if any(m in line for m in marks)
            and not any(i in line for i in ignore)]


# --------------------------------------------------------------------------
# The run


def run(args, bins, workdir):
    written = args.bytes // args.line_bytes * args.line_bytes + len(
        b"END %d\n" % (args.bytes // args.line_bytes))
    R = {"written": written, "lines": args.bytes // args.line_bytes,
         "cases": {c: {"seconds": [], "mbps": [], "cpu_s": [],
                       "cpu_s_per_gb": [], "file_bytes": [],
                       "poll_lag_ms": [], "verify_s": [], "stamps": [],
                       "cpu_pressure": []}
                   for c in args.cases},
         "leftovers": 0, "bad_exits": [], "logs": {}}
    for rep in range(args.repeats):
        k = rep % len(args.cases)
        for case in args.cases[k:] + args.cases[:k]:
            run_ = RUNS[case](case, args, bins, workdir, f"{case}-{rep}")
            os.sync()  # nothing of the previous run left to write back
            try:
                res = run_.measure()
            finally:
                R["leftovers"] += run_.leftovers
                R["bad_exits"] += run_.bad_exits
                for what, lines in run_.logs:
                    R["logs"].setdefault(what, []).extend(lines)
            C = R["cases"][case]
            C["seconds"].append(res["seconds"])
            C["mbps"].append(written / 1e6 / res["seconds"])
            C["cpu_s"].append(res["cpu_s"])
            C["cpu_s_per_gb"].append(res["cpu_s"] / (written / 1e9))
            C["file_bytes"].append(res["file_bytes"])
            for key in ("poll_lag_ms", "cpu_pressure"):
                if key in res:
                    C[key].append(res[key])
            t = time.monotonic()
            v = verify(run_.out, R["lines"], args.line_bytes,
                       run_.prefixed)
            C["verify_s"].append(time.monotonic() - t)
            if v["first_stamp"]:
                C["stamps"].append((v["first_stamp"], v["last_stamp"]))
            if not args.keep:
                os.unlink(run_.out)
            log(f"[{rep + 1}/{args.repeats}] {case:12s} "
                f"{C['mbps'][-1]:7.0f} MB/s  {res['seconds'] * 1e3:7.1f} ms  "
                f"CPU {C['cpu_s_per_gb'][-1]:.3f} s/GB  "
                f"(checked {v['lines']} lines + END in "
                f"{C['verify_s'][-1]:.1f} s"
                + (f"; left behind: {run_.leftovers}" if run_.leftovers
                   else "") + ")")
    return R


# --------------------------------------------------------------------------
# Report


def fmt_list(values, spec):
    return ", ".join(format(v, spec) for v in values)


def report(args, R, env):
    cases = R["cases"]
    base = median(cases["copy"]["mbps"]) if "copy" in cases else None
    rows = []
    for case in args.cases:
        C = cases[case]
        mbps = median(C["mbps"])
        rows.append([
            CASE_TITLE[case],
            f"{mbps:.0f}",
            f"{ratio(mbps, base):.2f}" if base else "-",
            f"{median(C['cpu_s_per_gb']):.3f}",
            f"{median(C['file_bytes']) / 1e6:.0f}",
            (f"{100 * median(C['cpu_pressure']):.0f}%"
             if C["cpu_pressure"] else "-"),
            fmt_list(C["mbps"], ".0f"),
            fmt_list(C["cpu_s_per_gb"], ".3f"),
        ])
    head = ["case", "MB/s (median)", "/ read-write copy",
            "copier CPU s/GB (median)", "file written, MB",
            "CPU pressure (median)", "MB/s, each run",
            "CPU s/GB, each run"]

    headline = []
    if base:
        for case in ("workerd", "workerd-nots"):
            if case in cases:
                r = ratio(median(cases[case]["mbps"]), base)
                headline.append(
                    f"**{CASE_TITLE[case]} / plain read/write copy: "
                    f"{r:.2f}** (DESIGN.md target: at least 0.8; "
                    f"{'met' if r >= 0.8 else 'not met'} in this run).")
    if not any(c.startswith("workerd") for c in cases):
        headline.append("The workerd cases were not run (--cases).")

    details = [
        f"- The worker: `flood_worker --bytes {args.bytes} --line-bytes "
        f"{args.line_bytes}` writes {R['lines']} lines of "
        f"{args.line_bytes} bytes and `END {R['lines']}`, {R['written']} "
        f"bytes, in write(2)s of {65536 // args.line_bytes} lines "
        f"({65536 // args.line_bytes * args.line_bytes} bytes). MB = 10^6 "
        f"bytes, GB = 10^9 bytes, both of the worker's output (not of the "
        f"file, which for workerd holds the prefixes too).",
        "- Time: from the worker's CLOCK_MONOTONIC just before its first "
        f"write to the moment the script, reading the file's last bytes "
        f"every {POLL_S * 1e3:g} ms, saw the END line in it. Seconds per "
        "run: " + "; ".join(
            f"{c} {fmt_list(cases[c]['seconds'], '.3f')}"
            for c in args.cases) + ".",
        "- CPU: pipe_copy's own getrusage (user+system); workerd's and "
        "supervisord's utime+stime from /proc/PID/stat (every thread, "
        f"1/{CLK_TCK} s resolution), from just before the request that "
        "starts the worker to the END line; divided by the GB the worker "
        "wrote. The worker's own CPU is in no column.",
    ]
    if any(cases[c]["cpu_pressure"] for c in args.cases):
        details.append(
            "- CPU pressure during each run (/proc/pressure/cpu \"some\": "
            "the share of the time at least one runnable task, of this run "
            "or anyone else's, waited for a CPU; from just before the worker "
            "started to the END line): " + "; ".join(
                f"{c} " + ", ".join(f"{100 * x:.0f}%" for x in
                                    cases[c]["cpu_pressure"])
                for c in args.cases) + ". The copier and the worker take "
            "both CPUs between them, so anything else running shows here "
            "and slows the run.")
    for c in ("copy", "splice"):
        if c in cases and cases[c]["poll_lag_ms"]:
            details.append(
                f"- {c}: the script saw the END line "
                f"{fmt_list(cases[c]['poll_lag_ms'], '.2f')} ms after "
                "pipe_copy's last write returned (what the polling adds).")
    for c in ("workerd", "workerd-nobuf"):
        if c in cases and cases[c]["stamps"]:
            first, last = cases[c]["stamps"][-1]
            details.append(f"- {c}: the last run's first line is stamped "
                           f"{first}, its END line {last}.")
    details.append(
        "- Every run's file was checked after the timing: "
        f"{R['lines']} lines in order, each intact, then the END line and "
        "nothing else (for workerd: one prefix per line, every timestamp "
        "shaped like the first, an RFC 3339 time with milliseconds). "
        "Check time, s: " + "; ".join(
            f"{c} {fmt_list(cases[c]['verify_s'], '.1f')}"
            for c in args.cases) + ".")
    details.append(f"- Processes left behind after each case: "
                   f"{R['leftovers']}.")
    if R["bad_exits"]:
        details.append(f"- Non-zero exits: {R['bad_exits']}.")
    for what, lines in R["logs"].items():
        details.append(f"- {what} warnings and errors in its logs: "
                       f"{len(lines)} lines")
        details += indented(lines)

    return "\n".join([
        *report_head(
            "workerd stdout capture benchmark", env,
            f"workerd {env['workerd_version']}, {env['build']} made "
            f"{env['built']} (tree at run time: {env['commit']}); "
            f"{env['supervisord']}; {R['written']} bytes of "
            f"{args.line_bytes}-byte lines per run, {args.repeats} runs per "
            f"case, order rotated each round."),
        *headline,
        "",
        *markdown_table(head, rows),
        "",
        "## Details",
        "",
        *details,
        "",
    ])


def environment(args, bins):
    env = describe_environment(bins["workerd"], utc=True,
                               count_modified=True)
    sup = "supervisord not run"
    if "supervisord" in args.cases:
        sup = "supervisord " + command_output([bins["supervisord"],
                                               "--version"])
    env.update(
        **describe_build(args.build_dir, bins["workerd"]),
        supervisord=sup)
    return env


# --------------------------------------------------------------------------
# Binaries


def binaries(args, workdir):
    bins = find_binaries(
        args, {"flood": (args.flood_worker, "bench/flood_worker"),
               "copy": (args.pipe_copy, "bench/pipe_copy")}, BUILD_HINT)
    # The helpers come from bench/CMakeLists.txt; if this build has none,
    # compile them here.
    compile_missing_helpers(
        bins, (("flood", "flood_worker.c"), ("copy", "pipe_copy.c")), workdir)
    if "supervisord" in args.cases:
        found = shutil.which(args.supervisord)
        if found is None:
            raise BenchError(f"{args.supervisord} not found (Debian: "
                             "apt-get install supervisor), or leave it out "
                             "with --cases")
        bins["supervisord"] = found
    bins = {k: os.path.realpath(v) for k, v in bins.items()}
    # A workerd from before `log = "file"` rejects the config: say so now,
    # not after the other cases have run.
    if any(c.startswith("workerd") for c in args.cases):
        config = os.path.join(workdir, "check.toml")
        with open(config, "w") as f:
            f.write(workerd_config(os.path.join(workdir, "check.sock"),
                                   os.path.join(workdir, "check-logs"),
                                   [bins["flood"]], True))
        r = subprocess.run([bins["workerd"], "--check", "-c", config],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise BenchError(
                f"{bins['workerd']} rejects the capture config (built "
                f"before log = \"file\"?):\n{(r.stdout + r.stderr).strip()}"
                "\nleave the workerd cases out with --cases "
                "copy,splice,supervisord")
    return bins


def main():
    p = argparse.ArgumentParser(
        description="Stdout capture throughput: a worker's 1 GiB flood "
                    "into a file through a plain copy, splice, workerd "
                    "(log = \"file\") and supervisord. See bench/README.md.")
    add_number_options(p, [
        (("--bytes",), int, 1 << 30,
         "bytes of lines the worker writes (default 1 GiB)"),
        (("--line-bytes",), int, 100,
         "bytes per line, newline included"),
        (("--repeats",), int, 3, "timed runs per case"),
    ])
    p.add_argument("--cases", default=",".join(CASES),
                   help="cases to run, comma-separated, in this order "
                        f"(default {','.join(CASES)}; also "
                        f"{','.join(EXTRA_CASES)})")
    add_binary_options(p, BUILD_DIR,
                       "where workerd, workerctl and the bench helpers are "
                       f"built (default {BUILD_DIR})",
                       ["--flood-worker", "--pipe-copy"])
    p.add_argument("--supervisord", default="supervisord",
                   help="the supervisord binary (default: from PATH)")
    add_output_options(
        p, "results file (default bench/results/DATE_TIME_capture.md, UTC)",
        "keep the temporary directory, with every run's output file "
        "(GiBs each: mind the disk)",
        json_help="also write every raw number to PATH")
    args = p.parse_args()
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in args.cases if c not in CASES + EXTRA_CASES]
    if not args.cases or unknown or len(set(args.cases)) != len(args.cases):
        p.error(f"--cases takes some of {','.join(CASES + EXTRA_CASES)}, "
                "each once")
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    if not 2 <= args.line_bytes <= 65536:
        p.error("--line-bytes must be 2 to 65536")
    lines = args.bytes // args.line_bytes
    if lines < 1 or args.line_bytes < len(str(max(lines - 1, 0))) + 1:
        p.error("--bytes must hold at least one line, and --line-bytes the "
                "line number and the newline")

    def body(workdir):
        bins = binaries(args, workdir)
        stamp = now_stamp("%Y-%m-%d_%H%M%S", utc=True)
        env = environment(args, bins)
        log(f"workdir {workdir}; load average {env['loadavg']}")
        t0 = time.monotonic()
        R = run(args, bins, workdir)
        out = args.output or os.path.join(BENCH, "results",
                                          f"{stamp}_capture.md")
        write_report(report(args, R, env), out)
        if args.json:
            write_json(args.json, env, args, R)
        log(f"wrote {out}" + (f" and {args.json}" if args.json else "")
            + f" in {time.monotonic() - t0:.0f} s")
        return report_bad_end(R["leftovers"], R["bad_exits"], "processes",
                              "non-zero exits")

    return run_main("workerd-capture-", args.keep, body)


if __name__ == "__main__":
    sys.exit(main())
