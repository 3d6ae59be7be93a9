#!/usr/bin/env python3
"""Supervision benchmark: workerd side by side with a bare fork/exec loop.

One run measures, for workerd and for bench/bare_supervisor (the baseline):

  1. spawn    time from starting the supervisor to N workers exec'd
  2. restart  time from kill -9 of a worker to its replacement's exec
  3. status   wall time of `workerctl status` (and --json) with N workers
  4. memory   VmRSS / VmHWM of the supervisor with N workers
  5. idle     CPU time and wakeups of the supervisor over an idle period

and prints the figures as workerd/bare ratios next to the targets of
DESIGN.md ("Performance targets"). Every worker is bench/bench_worker, which
appends "PID MONOTONIC_NS" to an events file the moment it has exec'd; all
times are CLOCK_MONOTONIC, the same clock Python's time.monotonic_ns() reads.

This is a script for a human to run, not a test. See bench/README.md.
"""

import argparse
import ctypes
import ctypes.util
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

from benchlib import (BENCH, BenchError, REPO, add_binary_options,
                      compile_missing_helpers,
                      add_number_options, add_output_options,
                      describe_environment, find_binaries, indented,
                      kill_until_gone, log, markdown_table, median,
                      now_stamp, proc_stat, ratio, read_text, report_bad_end,
                      report_head, run_main, start_in_session,
                      stop_for_cleanup, terminate, track, untrack, wait_until,
                      write_json, write_report)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def now_ns():
    return time.monotonic_ns()


# --------------------------------------------------------------------------
# /proc readers


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def kib(field):
    return int(field.split()[0])  # "1234 kB"


def cpu_seconds(pid):
    """utime+stime of the whole process (all threads), in seconds."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_counters(pid):
    """Summed over every thread: context switches (voluntary, involuntary)
    and, where the kernel has schedstats, ns on CPU and times scheduled in."""
    vol = invol = run_ns = slices = 0
    have_schedstat = True
    tids = os.listdir(f"/proc/{pid}/task")
    for tid in tids:
        try:
            st = proc_status(f"{pid}/task/{tid}")
            vol += int(st["voluntary_ctxt_switches"])
            invol += int(st["nonvoluntary_ctxt_switches"])
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    a, _, c = f.read().split()[:3]
                run_ns += int(a)
                slices += int(c)
            except (OSError, ValueError):
                have_schedstat = False
        except FileNotFoundError:
            pass  # thread ended meanwhile
    return {
        "threads": len(tids),
        "voluntary": vol,
        "involuntary": invol,
        "run_ns": run_ns if have_schedstat else None,
        "timeslices": slices if have_schedstat else None,
    }


def is_live_worker(pid, worker_exe):
    """True if pid is a running (not zombie) process executing worker_exe."""
    try:
        if proc_stat(pid)[0] == "Z":
            return False
        return os.path.realpath(f"/proc/{pid}/exe") == worker_exe
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------
# Events file written by bench_worker


class FileWatch:
    """inotify IN_MODIFY on one file, so waiting for a worker's line sleeps
    in the kernel instead of polling (this script shares 2 CPUs with the
    supervisor it measures). Falls back to short sleeps without inotify."""

    IN_MODIFY = 0x2
    IN_NONBLOCK = 0o4000
    IN_CLOEXEC = 0o2000000

    def __init__(self, path):
        self.fd = -1
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            fd = libc.inotify_init1(self.IN_NONBLOCK | self.IN_CLOEXEC)
            if fd >= 0 and libc.inotify_add_watch(
                    fd, os.fsencode(path), self.IN_MODIFY) >= 0:
                self.fd = fd
            elif fd >= 0:
                os.close(fd)
        except (OSError, AttributeError):
            pass

    def wait(self, timeout):
        if self.fd < 0:
            time.sleep(min(timeout, 0.001))
            return
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                os.read(self.fd, 65536)
            except BlockingIOError:
                pass

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Events:
    def __init__(self, path):
        self.path = path
        self.lines = []  # (pid, ns) in file order
        self._offset = 0
        self._partial = b""
        open(path, "wb").close()
        self.watch = FileWatch(path)

    def poll(self):
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        self._offset += len(data)
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        for line in complete:
            pid, ns = line.split()
            self.lines.append((int(pid), int(ns)))
        return len(self.lines)

    def wait_for(self, count, timeout, proc=None, batch=0.0):
        """Until `count` lines are in. `batch`: after a wakeup, sleep this
        long so many appends are read at once (for the spawn of a pool)."""
        def pause(left):
            # Wake at least every 50 ms to notice a dead supervisor.
            self.watch.wait(min(0.05, left))
            if batch:
                time.sleep(batch)
        wait_until(lambda: self.poll() >= count, timeout, proc=proc,
                   exited=lambda status: (
                       f"supervisor exited with status {status} after "
                       f"{len(self.lines)} of {count} workers"),
                   late=lambda: (f"only {len(self.lines)} of {count} "
                                 f"workers started within {timeout} s"),
                   pause=pause)
        return self.lines


# --------------------------------------------------------------------------
# Supervisors under test


class Supervisor:
    """One workerd or bare_supervisor instance with its own events file."""

    def __init__(self, kind, bins, workdir, tag, workers, start_period="0s",
                 log_level="warn"):
        self.kind = self.name = kind
        self.bins = bins
        self.workers = workers
        self.dir = os.path.join(workdir, tag)
        os.makedirs(self.dir)
        self.events = Events(os.path.join(self.dir, "events"))
        self.log_path = os.path.join(self.dir, "log")
        self.socket = os.path.join(self.dir, "control.sock")
        self.proc = None
        self.t_start = None
        worker_cmd = [bins["worker"], self.events.path]
        if kind == "workerd":
            self.config = os.path.join(self.dir, "workers.toml")
            with open(self.config, "w") as f:
                f.write(
                    "[daemon]\n"
                    f"control_socket = {json.dumps(self.socket)}\n"
                    f"log_level = {json.dumps(log_level)}\n"
                    "[program.w]\n"
                    f"command = {json.dumps(worker_cmd)}\n"
                    f"workers = {workers}\n"
                    f"start_period = {json.dumps(start_period)}\n")
            self.argv = [bins["workerd"], "-c", self.config]
        else:
            mode = "vfork" if kind == "bare-vfork" else "fork"
            self.argv = [bins["bare"], "-m", mode, str(workers)] + worker_cmd

    def start(self):
        track(self)
        self.t_start = now_ns()
        self.proc = start_in_session(self.argv, self.log_path)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def wait_all_started(self, timeout):
        """Seconds from start to the last of the first N workers' exec."""
        lines = self.events.wait_for(self.workers, timeout, self.proc,
                                     batch=0.005)
        return (max(ns for _, ns in lines[:self.workers]) - self.t_start) / 1e9

    def live_worker_pids(self):
        self.events.poll()
        return [pid for pid, _ in self.events.lines
                if is_live_worker(pid, self.bins["worker"])]

    def stop(self, timeout=30):
        """SIGTERM, wait; returns seconds to exit. Always leaves nothing."""
        if self.proc is None:
            return None
        elapsed = terminate(self.proc, timeout, self.kind)
        self.exit_status = self.proc.returncode
        self.leftovers = self.kill_leftovers()
        self.events.watch.close()
        untrack(self)
        return elapsed

    def kill_leftovers(self):
        """SIGKILL any worker still alive once its supervisor is gone.
        Returns how many there were (a clean stop leaves 0)."""
        # A worker could still be between spawn and its events line; give
        # the kernel a moment, then look twice.
        return kill_until_gone(self.live_worker_pids, 2)

    def kill(self):
        """The cleanup after an error or an interrupt (cleanup_all())."""
        stop_for_cleanup(self.proc, 10, self.kill_leftovers,
                         f"leftover workers of {self.kind}")

    def log_text(self):
        return read_text(self.log_path)


# --------------------------------------------------------------------------
# The figures


def measure_restart(sup, kills):
    """kill -9 `kills` different workers, one at a time; ms to replacement."""
    sup.events.poll()
    initial = [pid for pid, _ in sup.events.lines[:sup.workers]]
    # Spread over the pool: every (N/kills)-th worker of the initial set.
    step = max(1, len(initial) // kills)
    targets = [initial[(i * step) % len(initial)] for i in range(kills)]
    latencies = []
    for pid in targets:
        if not is_live_worker(pid, sup.bins["worker"]):
            raise BenchError(f"{sup.kind}: worker {pid} is not running")
        before = sup.events.poll()
        t_kill = now_ns()
        os.kill(pid, signal.SIGKILL)
        lines = sup.events.wait_for(before + 1, 10, sup.proc)
        new_pid, t_exec = lines[before]
        if new_pid == pid:
            raise BenchError(f"{sup.kind}: odd events line for {pid}")
        latencies.append((t_exec - t_kill) / 1e6)
        time.sleep(0.02)  # let the supervisor settle before the next kill
    return latencies


def time_command(argv, runs, cpu=None):
    """Wall ms of each run of argv; with a list `cpu`, also appends each
    run's CPU ms (user+system of the child, from getrusage)."""
    times = []
    out = b""
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - t0) * 1e3)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if cpu is not None:
            cpu.append((r1.ru_utime + r1.ru_stime - r0.ru_utime
                        - r0.ru_stime) * 1e3)
        if r.returncode != 0:
            raise BenchError(f"{' '.join(argv)} exited {r.returncode}: "
                             f"{r.stderr.decode(errors='replace').strip()}")
        out = r.stdout
    return times, out


def protocol_round_trip(sock_path, runs):
    """ms for one status request/response over the socket from this
    process: the daemon's share of `workerctl status`, with no client
    process to start."""
    times = []
    size = 0
    for i in range(runs):
        t0 = time.perf_counter()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(sock_path)
            c.sendall(b'{"id":%d,"command":"status"}\n' % i)
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = c.recv(1 << 16)
                if not chunk:
                    break
                buf += chunk
        times.append((time.perf_counter() - t0) * 1e3)
        size = len(buf)
        if not json.loads(buf).get("ok"):
            raise BenchError(f"status over the socket failed: {buf[:200]!r}")
    return times, size


def measure_status(sup, runs, bins):
    ctl = [bins["workerctl"], "-s", sup.socket]
    res = {"status_cpu_ms": [], "json_cpu_ms": [], "help_cpu_ms": []}
    # The daemon's CPU per request too, from its schedstat around the runs.
    d0 = thread_counters(sup.pid)["run_ns"]
    plain, out = time_command(ctl + ["status"], runs, res["status_cpu_ms"])
    d1 = thread_counters(sup.pid)["run_ns"]
    if d0 is not None and d1 is not None:
        res["daemon_cpu_ms"] = (d1 - d0) / 1e6 / runs
    rows = len(out.decode().strip().splitlines()) - 1
    if rows != sup.workers:
        raise BenchError(f"workerctl status listed {rows} workers, "
                         f"expected {sup.workers}")
    res["status_ms"] = plain
    res["status_bytes"] = len(out)
    js, out = time_command(ctl + ["--json", "status"], runs,
                           res["json_cpu_ms"])
    doc = json.loads(out)
    instances = [i for p in doc["programs"] for i in p["instances"]]
    res["json_ms"] = js
    res["json_bytes"] = len(out)
    res["json_states"] = {}
    for i in instances:
        res["json_states"][i["state"]] = res["json_states"].get(i["state"], 0) + 1
    # The floors under those: starting any process from here, starting
    # workerctl without asking the daemon anything, and the daemon's answer
    # alone.
    res["true_ms"], _ = time_command([shutil.which("true") or "/bin/true"],
                                     runs)
    res["help_ms"], _ = time_command([bins["workerctl"], "--help"], runs,
                                     res["help_cpu_ms"])
    res["socket_ms"], res["socket_bytes"] = protocol_round_trip(sup.socket,
                                                                runs)
    return res


def memory(pid):
    st = proc_status(pid)
    mem = {"rss_kib": kib(st["VmRSS"]), "hwm_kib": kib(st["VmHWM"]),
           "anon_kib": kib(st["RssAnon"]), "file_kib": kib(st["RssFile"])}
    # RSS counts every shared library page in full; PSS splits shared pages
    # among the processes mapping them, and Private is what is ours alone.
    try:
        roll = {}
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, value = line.partition(":")
                if value.strip().endswith("kB"):
                    roll[key] = kib(value.strip())
        mem["pss_kib"] = roll["Pss"]
        mem["private_kib"] = roll["Private_Clean"] + roll["Private_Dirty"]
    except (OSError, KeyError):
        pass
    return mem


KINDS = ["bare", "workerd", "bare-vfork"]


def run(args, bins, workdir):
    N = args.workers
    kinds = KINDS if args.vfork else ["bare", "workerd"]
    R = {"spawn_s": {k: [] for k in kinds}, "stop_s": {k: [] for k in kinds},
         "spawn_cpu_ms": {k: [] for k in kinds},
         "restart_ms": {}, "mem": {}, "threads": {}, "leftovers": 0,
         "bad_exits": [], "workerd_logs": []}

    def finish(sup, key):
        R["stop_s"].setdefault(key, []).append(sup.stop())
        R["leftovers"] += sup.leftovers
        if sup.exit_status != 0:
            log(f"  ! {sup.kind} exited with status {sup.exit_status}")
            R["bad_exits"].append((sup.kind, sup.exit_status))
        if sup.kind == "workerd":
            R["workerd_logs"].append(sup.log_text())

    # ---- 1. spawn N, repeated, order rotated each round; the last round of
    # each supervisor stays up for figures 2, 3 and 4 -----------------------
    for rep in range(args.repeats):
        order = kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]
        last = rep == args.repeats - 1
        for kind in order:
            sup = Supervisor(kind, bins, workdir, f"{kind}-spawn{rep}",
                             N).start()
            secs = sup.wait_all_started(args.timeout)
            R["spawn_s"][kind].append(secs)
            # The supervisor's own CPU time so far (start-up included): less
            # at the mercy of the neighbours than the wall time.
            run_ns = thread_counters(sup.pid)["run_ns"]
            R["spawn_cpu_ms"][kind].append(
                run_ns / 1e6 if run_ns is not None
                else cpu_seconds(sup.pid) * 1e3)
            log(f"[spawn {rep + 1}/{args.repeats}] {kind:10s} {N} workers "
                f"in {secs * 1e3:8.1f} ms")
            if last:
                time.sleep(0.5)  # let the last spawns settle
                R["mem"][kind] = memory(sup.pid)
                R["threads"][kind] = len(os.listdir(f"/proc/{sup.pid}/task"))
                if kind == "workerd":
                    R["status"] = s = measure_status(sup, args.status_runs,
                                                     bins)
                    log(f"[status] workerctl status "
                        f"{median(s['status_ms']):.2f} ms, --json "
                        f"{median(s['json_ms']):.2f} ms; floors: /bin/true "
                        f"{median(s['true_ms']):.2f} ms, workerctl --help "
                        f"{median(s['help_ms']):.2f} ms, socket round trip "
                        f"{median(s['socket_ms']):.2f} ms "
                        f"(medians of {args.status_runs})")
                    R["mem"]["workerd-after-status"] = memory(sup.pid)
                R["restart_ms"][kind] = lat = measure_restart(sup, args.kills)
                log(f"[restart] {kind:10s} kill -9 to new exec: median "
                    f"{median(lat):.2f} ms (min {min(lat):.2f}, max "
                    f"{max(lat):.2f}, n={len(lat)})")
                if kind == "workerd":
                    R["mem"]["workerd-end"] = memory(sup.pid)
                    _, out = time_command([bins["workerctl"], "-s", sup.socket,
                                           "--json", "status"], 1)
                    inst = [i for p in json.loads(out)["programs"]
                            for i in p["instances"]]
                    R["restarts_after_kills"] = sum(i["restarts"]
                                                    for i in inst)
                    R["states_after_kills"] = sorted({i["state"]
                                                      for i in inst})
            finish(sup, kind)
            time.sleep(0.3)

    # ---- 5. idle: workerd and the bare loop at once, same window ----------
    n_idle = args.idle_workers
    log(f"[idle] {n_idle} workers each, settling {args.settle} s, then "
        f"{args.idle_seconds:g} s idle")
    wd = Supervisor("workerd", bins, workdir, "workerd-idle", n_idle,
                    start_period=args.idle_start_period).start()
    bare = Supervisor("bare", bins, workdir, "bare-idle", n_idle).start()
    wd.wait_all_started(args.timeout)
    bare.wait_all_started(args.timeout)
    time.sleep(args.settle)
    before = {s.kind: (cpu_seconds(s.pid), thread_counters(s.pid))
              for s in (wd, bare)}
    time.sleep(args.idle_seconds)
    after = {s.kind: (cpu_seconds(s.pid), thread_counters(s.pid))
             for s in (wd, bare)}
    R["idle"] = {}
    for s in (wd, bare):
        c0, t0 = before[s.kind]
        c1, t1 = after[s.kind]
        idle = {
            "cpu_s": c1 - c0,
            "ctxt": (t1["voluntary"] + t1["involuntary"])
                    - (t0["voluntary"] + t0["involuntary"]),
            "threads": t1["threads"],
        }
        if t0["run_ns"] is not None and t1["run_ns"] is not None:
            idle["run_ms"] = (t1["run_ns"] - t0["run_ns"]) / 1e6
            idle["timeslices"] = t1["timeslices"] - t0["timeslices"]
        R["idle"][s.kind] = idle
        log(f"[idle] {s.kind:10s} cpu {idle['cpu_s']:.2f} s, "
            f"context switches {idle['ctxt']}"
            + (f", on-cpu {idle['run_ms']:.3f} ms" if "run_ms" in idle else ""))
    for s in (wd, bare):
        finish(s, f"{s.kind}-idle")
    return R


# --------------------------------------------------------------------------
# Report


def verdict(ok):
    return "yes" if ok else "**no**"


def log_summary(logs):
    """Lines of workerd's log other than the expected restart warnings."""
    expected = ("killed by SIGKILL; restarted",)
    lines = [l for text in logs for l in text.splitlines() if l.strip()]
    restarts = sum(1 for l in lines if any(e in l for e in expected))
    other = [l for l in lines if not any(e in l for e in expected)]
    return restarts, other


def report(args, R, env):
    N = args.workers
    vf = args.vfork
    spawn = {k: median(v) for k, v in R["spawn_s"].items() if v}
    restart = {k: median(v) for k, v in R["restart_ms"].items()}
    st = R["status"]
    s_plain, s_json = median(st["status_ms"]), median(st["json_ms"])
    mem = R["mem"]
    rss_w = max(mem[k]["rss_kib"] for k in
                ("workerd", "workerd-after-status", "workerd-end"))
    # The kernel's RSS counters are batched per CPU, so a VmHWM read can lag
    # a VmRSS read by a few pages; the peak is at least every RSS seen.
    hwm_w = max(max(mem[k]["hwm_kib"], mem[k]["rss_kib"]) for k in
                ("workerd", "workerd-after-status", "workerd-end"))
    pss_w = max(mem[k].get("pss_kib", 0) for k in
                ("workerd", "workerd-after-status", "workerd-end"))
    kinds_run = [k for k in KINDS if k in mem]
    iw, ib = R["idle"]["workerd"], R["idle"]["bare"]

    def cols(values, fmt, target, ok):
        """workerd | bare | ratio [| bare vfork | ratio] | target | met"""
        w, b = values["workerd"], values["bare"]
        out = [fmt.format(w), fmt.format(b), f"{ratio(w, b):.2f}x"]
        if vf:
            v = values.get("bare-vfork")
            out += ([fmt.format(v), f"{ratio(w, v):.2f}x"] if v is not None
                    else ["-", "-"])
        return out + [target, ok]

    def solo(value, target, ok, bare="-"):
        return [value, bare, "-"] + (["-", "-"] if vf else []) + [target, ok]

    rows = [
        [f"1. spawn {N} workers, ms (median of {args.repeats})"]
        + cols({k: v * 1e3 for k, v in spawn.items()}, "{:.0f}",
               "<= 1.2x bare",
               verdict(ratio(spawn["workerd"], spawn["bare"]) <= 1.2)),
        ["1b. supervisor CPU time for that spawn, ms (median)"]
        + cols({k: median(v) for k, v in R["spawn_cpu_ms"].items() if v},
               "{:.0f}", "-", "-"),
        [f"2. restart after kill -9, ms (median of {args.kills})"]
        + cols(restart, "{:.2f}", "<= 1.0x bare",
               verdict(ratio(restart["workerd"], restart["bare"]) <= 1.0)),
        [f"3a. `workerctl status`, {N} workers, ms (median of "
         f"{args.status_runs}, client included)"]
        + solo(f"{s_plain:.2f}", "<= 10 ms", verdict(s_plain <= 10)),
        ["3b. `workerctl --json status`, ms"]
        + solo(f"{s_json:.2f}", "<= 10 ms", verdict(s_json <= 10)),
        ["3c. CPU of one `workerctl status`, ms: client (median) / "
         "daemon (mean)"]
        + solo(f"{median(st['status_cpu_ms']):.2f} / "
               + (f"{st['daemon_cpu_ms']:.2f}" if "daemon_cpu_ms" in st
                  else "?"), "-", "-"),
        [f"4a. supervisor VmRSS, {N} workers, MiB"]
        + cols({"workerd": rss_w / 1024,
                "bare": mem["bare"]["rss_kib"] / 1024,
                "bare-vfork": mem.get("bare-vfork", {}).get("rss_kib", 0)
                / 1024 or None},
               "{:.2f}", "<= 5 MiB", verdict(rss_w <= 5 * 1024)),
        ["4b. supervisor VmHWM (peak), MiB"]
        + cols({"workerd": hwm_w / 1024,
                "bare": mem["bare"]["hwm_kib"] / 1024,
                "bare-vfork": mem.get("bare-vfork", {}).get("hwm_kib", 0)
                / 1024 or None},
               "{:.2f}", "-", "-"),
        ["4c. supervisor PSS (shared pages split), MiB"]
        + cols({k: mem[k]["pss_kib"] / 1024 for k in kinds_run
                if "pss_kib" in mem[k]} | {"workerd": pss_w / 1024},
               "{:.2f}", "-", "-"),
        [f"5a. idle CPU, {args.idle_workers} workers, {args.idle_seconds:g} s,"
         f" s (utime+stime)"]
        + solo(f"{iw['cpu_s']:.2f}", "0.00", verdict(iw["cpu_s"] == 0),
               f"{ib['cpu_s']:.2f}"),
        ["5b. idle wakeups (context switches, all threads)"]
        + solo(str(iw["ctxt"]), "0", verdict(iw["ctxt"] == 0),
               str(ib["ctxt"])),
    ]
    if "run_ms" in iw and "run_ms" in ib:
        rows.append(["5c. idle time on CPU (schedstat), ms"]
                    + solo(f"{iw['run_ms']:.3f}", "0",
                           verdict(iw["run_ms"] == 0), f"{ib['run_ms']:.3f}"))

    head = ["figure", "workerd", "bare loop (fork)", "workerd/bare"]
    if vf:
        head += ["bare loop (vfork)", "workerd/vfork"]
    head += ["target", "met"]
    table = markdown_table(head, rows)

    def runs(v, scale=1e3, fmt="{:.0f}"):
        return ", ".join(fmt.format(x * scale) if x is not None else "?"
                         for x in v)

    restarts, other_log = log_summary(R["workerd_logs"])
    details = [
        "- spawn rounds, ms: "
        + "; ".join(f"{k} {runs(v)}" for k, v in R["spawn_s"].items()),
        "- supervisor CPU for each spawn round, ms: "
        + "; ".join(f"{k} {runs(v, 1)}" for k, v in R["spawn_cpu_ms"].items()),
        "- restart, ms (min / max): "
        + "; ".join(f"{k} {min(v):.2f} / {max(v):.2f}"
                    for k, v in R["restart_ms"].items()),
        f"- status floors (medians): starting /bin/true from the script "
        f"{median(st['true_ms']):.2f} ms; `workerctl --help` (client start, "
        f"no daemon) {median(st['help_ms']):.2f} ms; status request over the "
        f"socket from the script (daemon only) {median(st['socket_ms']):.2f}"
        f" ms; client CPU: `--json status` {median(st['json_cpu_ms']):.2f} "
        f"ms, `--help` {median(st['help_cpu_ms']):.2f} ms",
        f"- status sizes: table {st['status_bytes']} B, --json "
        f"{st['json_bytes']} B, socket answer {st['socket_bytes']} B; "
        f"states {st['json_states']}",
        f"- workerd memory, KiB: VmRSS {mem['workerd']['rss_kib']} after "
        f"spawn (RssAnon {mem['workerd']['anon_kib']}, RssFile "
        f"{mem['workerd']['file_kib']}, PSS {mem['workerd'].get('pss_kib')},"
        f" private {mem['workerd'].get('private_kib')}), "
        f"{mem['workerd-after-status']['rss_kib']} after the status runs, "
        f"{mem['workerd-end']['rss_kib']} after the kills; threads: "
        + ", ".join(f"{k} {v}" for k, v in R["threads"].items()),
        f"- after {args.kills} kills workerd reports "
        f"{R['restarts_after_kills']} restarts, states "
        f"{R['states_after_kills']}",
        "- stop (SIGTERM until exit, all workers reaped), ms: "
        + "; ".join(f"{k} {runs(v)}" for k, v in R["stop_s"].items()),
        f"- idle: threads workerd {iw['threads']}, bare {ib['threads']}"
        + (f"; times scheduled in: workerd {iw['timeslices']}, bare "
           f"{ib['timeslices']}" if "timeslices" in iw else ""),
        f"- workers left behind after the supervisors stopped: "
        f"{R['leftovers']}",
        f"- workerd log (log_level warn): {restarts} restart warnings "
        f"(expected: one per kill), {len(other_log)} other lines",
    ]
    if R["bad_exits"]:
        details.append(f"- non-zero supervisor exits: {R['bad_exits']}")
    details += indented(other_log)

    return "\n".join([
        *report_head(
            "workerd supervision benchmark", env,
            f"workerd {env['workerd_version']} (commit {env['commit']}); "
            f"{N} workers, {args.repeats} spawn rounds, {args.kills} kills, "
            f"{args.idle_workers} workers idle for {args.idle_seconds:g} s."),
        *table,
        "",
        *details,
        "",
    ])


# --------------------------------------------------------------------------
# Binaries


def binaries(args, workdir):
    bins = find_binaries(
        args, {"worker": (args.bench_worker, "bench/bench_worker"),
               "bare": (args.bare, "bench/bare_supervisor")},
        "cmake -S {repo} -B {build} -DCMAKE_BUILD_TYPE=RelWithDebInfo "
        "-DWORKERD_BUILD_TESTS=OFF && cmake --build {build} -j2")
    # The helpers come from bench/CMakeLists.txt; if this build has none
    # (bench/ not added to the build), compile them here.
    compile_missing_helpers(
        bins, (("worker", "bench_worker.c"), ("bare", "bare_supervisor.c")),
        workdir)
    return {k: os.path.realpath(v) for k, v in bins.items()}


def main():
    p = argparse.ArgumentParser(
        description="workerd vs a bare fork/exec loop: spawn, restart, "
                    "status, memory, idle. See bench/README.md.")
    add_number_options(p, [
        (("-n", "--workers"), int, 500, "workers for figures 1-4"),
        (("--idle-seconds",), float, 30,
         "length of the idle window, figure 5"),
        (("--idle-workers",), int, 50, "workers during the idle window"),
        (("--kills",), int, 30, "kill -9s per supervisor, figure 2"),
        (("--repeats",), int, 3, "spawn rounds per supervisor, figure 1"),
        (("--status-runs",), int, 20, "workerctl runs per variant, figure 3"),
        (("--settle",), float, 2.0,
         "seconds between the idle workers' start and the idle window"),
    ])
    p.add_argument("--idle-start-period", default="1s",
                   help="workerd start_period during the idle window "
                        "(default 1s, so its timers have fired and ended)")
    p.add_argument("--no-vfork", dest="vfork", action="store_false",
                   help="skip the second baseline, the bare loop with vfork")
    add_number_options(p, [
        (("--timeout",), float, 60, "seconds to wait for a pool to start"),
    ])
    add_binary_options(p, os.path.join(REPO, "build", "bench"), None,
                       ["--bench-worker", "--bare"])
    add_output_options(
        p, "results file (default bench/results/DATE_TIME.md)",
        "keep the temporary directory (configs, logs, events)")
    args = p.parse_args()
    if args.workers < 1 or args.kills < 1 or args.repeats < 1 \
            or args.status_runs < 1 or args.idle_workers < 1:
        p.error("counts must be at least 1")
    if args.kills > args.workers:
        p.error("--kills must not exceed --workers (each kill hits a "
                "different worker)")

    def body(workdir):
        bins = binaries(args, workdir)
        stamp = now_stamp("%Y-%m-%d_%H%M%S")
        env = describe_environment(bins["workerd"])
        log(f"workdir {workdir}; load average {env['loadavg']}")
        t0 = time.monotonic()
        R = run(args, bins, workdir)
        out = args.output or os.path.join(BENCH, "results", f"{stamp}.md")
        write_report(report(args, R, env), out)
        write_json(os.path.splitext(out)[0] + ".json", env, args,
                   {k: v for k, v in R.items() if k != "workerd_logs"})
        log(f"wrote {out} (and .json) in {time.monotonic() - t0:.0f} s")
        return report_bad_end(R["leftovers"], R["bad_exits"], "workers",
                              "non-zero exits")

    return run_main("workerd-bench-", args.keep, body)


if __name__ == "__main__":
    sys.exit(main())
