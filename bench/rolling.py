#!/usr/bin/env python3
"""Rolling restart and load-spread benchmark: workerd serving HTTP under wrk.

One run measures, with 4 workers of tests/support's test_worker
(`--http --notify-ready`, a single-threaded C++ HTTP server on the socket
workerd passes at fd 3) for each `balance` ("shared", "reuseport"):

  1. rollout  `workerctl restart web` (one slot at a time, the new worker
              ready before the old one stops) in the middle of a wrk run,
              with keep-alive connections and with `Connection: close`:
              requests, non-2xx answers, wrk's socket errors, and the
              requests/s per second before, during and after the rollout,
              against a baseline run of the same load with no restart
  2. spread   the share of requests each worker answered, for a short
              load on few connections, a longer keep-alive load and a
              `Connection: close` load

wrk runs with a Lua script that counts every response by body
("instance=N pid=P") and by 100 ms tick of CLOCK_MONOTONIC (the clock of
Python's time.monotonic()), so one continuous wrk run gives the per-second
series and the rollout window can be placed on it exactly.

This is a script for a human to run, not a test. See bench/README.md.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

from benchlib import (BENCH, BenchError, REPO, add_binary_options,
                      describe_build,
                      add_number_options, add_output_options, 
                      command_output, describe_environment, find_binaries,
                      indented, kill_until_gone, log, markdown_table,
                      median, now_stamp, ratio, read_text, report_bad_end,
                      report_head, run_main, session_members, start_in_session,
                      stop_for_cleanup, terminate, track, untrack, wait_until,
                      write_json, write_report)

DEMO = os.path.join(REPO, "examples", "demo_worker.py")
TICKS_PER_S = 10  # the Lua script counts responses per 100 ms
# What the report's header and bench/README.md say to build; --build-dir's
# default.
BUILD_DIR = os.path.join(REPO, "build", "bench")
BUILD_HINT = ("cmake -S {repo} -B {build} -DCMAKE_BUILD_TYPE=RelWithDebInfo "
              "-DWORKERD_BUILD_TESTS=ON && make -C {build} -j2 workerd "
              "workerctl test_worker")


# --------------------------------------------------------------------------
# wrk and its Lua script

# Each wrk thread has its own Lua state: the counters are globals of the
# thread's state, set up in init() and read back from the main state in
# done() with thread:get(), which copies tables too. setup() runs in the
# main state once per thread, so it collects the thread objects.
LUA = r"""
local have_ffi, ffi = pcall(require, "ffi")
local ts
if have_ffi then
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } rolling_timespec;
    int clock_gettime(int clock_id, rolling_timespec *tp);
  ]]
  ts = ffi.new("rolling_timespec")
end

-- CLOCK_MONOTONIC in 100 ms ticks; without LuaJIT's ffi, wall-clock
-- seconds (os.time) in the same unit, so only 1 s resolution.
local function tick()
  if have_ffi then
    ffi.C.clock_gettime(1, ts)
    return tonumber(ts.tv_sec) * 10 + math.floor(tonumber(ts.tv_nsec) / 1e8)
  end
  return os.time() * 10
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ticks = {}    -- tick -> responses
  bad = {}      -- tick -> non-2xx responses
  bodies = {}   -- body -> 2xx responses
end

function response(status, headers, body)
  local t = tick()
  ticks[t] = (ticks[t] or 0) + 1
  if status < 200 or status > 299 then
    bad[t] = (bad[t] or 0) + 1
  else
    body = string.gsub(body or "", "%s+$", "")
    bodies[body] = (bodies[body] or 0) + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "@ clock %s\n@ summary %d %d %d %d %d %d %d %d\n",
    have_ffi and "monotonic" or "realtime",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
  io.write(string.format("@ latency %d %d %d %d\n", latency.mean,
    latency:percentile(50), latency:percentile(99), latency.max))
  for _, thread in ipairs(threads) do
    for t, n in pairs(thread:get("ticks")) do
      io.write(string.format("@ tick %d %d\n", t, n))
    end
    for t, n in pairs(thread:get("bad")) do
      io.write(string.format("@ bad %d %d\n", t, n))
    end
    for body, n in pairs(thread:get("bodies")) do
      io.write(string.format("@ body %d %s\n", n, body))
    end
  end
end
"""


class Wrk:
    """One wrk run in the background; result() parses what done() printed."""

    def __init__(self, args, workdir, url, threads, connections, seconds,
                 close, tag):
        self.argv = [args.wrk, "-t", str(threads), "-c", str(connections),
                     "-d", f"{seconds:g}s", "--timeout", f"{args.timeout:g}s",
                     "-s", os.path.join(workdir, "count.lua")]
        if close:
            self.argv += ["-H", "Connection: close"]
        self.argv.append(url)
        self.out_path = os.path.join(workdir, f"wrk-{tag}.out")
        self.seconds = seconds
        self.proc = None
        self.name = f"wrk ({tag})"

    def start(self):
        track(self)
        self.t_mono = time.monotonic()
        self.t_wall = time.time()
        self.proc = start_in_session(self.argv, self.out_path)
        return self

    def result(self):
        try:
            self.proc.wait(self.seconds + 30)
        except subprocess.TimeoutExpired:
            raise BenchError(f"wrk did not finish {self.seconds + 30:g} s "
                             f"after it started: {' '.join(self.argv)}")
        # Only once it has exited: an interrupt above leaves it to
        # cleanup_all().
        untrack(self)
        with open(self.out_path, errors="replace") as f:
            text = f.read()
        if self.proc.returncode != 0 or "@ summary" not in text:
            raise BenchError(f"wrk exited {self.proc.returncode}: "
                             f"{' '.join(self.argv)}\n{text[-2000:]}")
        r = {"ticks": {}, "bad": {}, "bodies": {}, "t_mono": self.t_mono,
             "t_wall": self.t_wall}
        for line in text.splitlines():
            if not line.startswith("@ "):
                continue
            kind, _, rest = line[2:].partition(" ")
            if kind == "clock":
                r["clock"] = rest
            elif kind == "summary":
                v = [int(x) for x in rest.split()]
                r.update(requests=v[0], duration_s=v[1] / 1e6, bytes=v[2],
                         errors={"connect": v[3], "read": v[4],
                                 "write": v[5], "status": v[6],
                                 "timeout": v[7]})
            elif kind == "latency":
                v = [float(x) / 1e3 for x in rest.split()]  # us -> ms
                r["latency_ms"] = {"mean": v[0], "p50": v[1], "p99": v[2],
                                   "max": v[3]}
            elif kind in ("tick", "bad"):
                t, n = (int(x) for x in rest.split())
                d = r["ticks"] if kind == "tick" else r["bad"]
                d[t] = d.get(t, 0) + n
            elif kind == "body":
                n, _, body = rest.partition(" ")
                r["bodies"][body] = r["bodies"].get(body, 0) + int(n)
        r["non2xx"] = sum(r["bad"].values())
        r["socket_errors"] = sum(v for k, v in r["errors"].items()
                                 if k != "status")
        r["rps"] = r["requests"] / r["duration_s"]
        return r

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


BODY_RE = (re.compile(r"instance=(\S+) pid=(\d+)"),        # test_worker
           re.compile(r"hello from \w+\[(\S+)\] pid (\d+)"))  # demo_worker


def by_worker(bodies):
    """{(instance, pid): responses} from wrk's {body: responses}."""
    out = {}
    for body, n in bodies.items():
        for rx in BODY_RE:
            m = rx.search(body)
            if m:
                key = (m.group(1), int(m.group(2)))
                out[key] = out.get(key, 0) + n
                break
        else:
            out[("?", 0)] = out.get(("?", 0), 0) + n
    return out


# --------------------------------------------------------------------------
# workerd


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Workerd:
    """One workerd with a `web` program of N HTTP workers on one socket.
    It runs in a session of its own, and so does every worker (workerd
    gives each its own process group, not its own session): whatever is
    left in that session after workerd has gone is a worker left behind."""

    def __init__(self, args, bins, workdir, tag, balance, server):
        self.bins = bins
        self.args = args
        self.workers = args.workers
        self.dir = os.path.join(workdir, tag)
        os.makedirs(self.dir)
        self.socket = os.path.join(self.dir, "control.sock")
        self.log_path = os.path.join(self.dir, "log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = None
        self.leftovers = 0
        self.name = f"workerd ({tag})"
        if server == "demo":
            command = [sys.executable, DEMO]
            extra = 'env = { PYTHONUNBUFFERED = "1" }\nstop_timeout = "5s"\n'
        else:
            command = [bins["worker"], "--http", "--notify-ready"]
            extra = ""
        self.config = os.path.join(self.dir, "workers.toml")
        with open(self.config, "w") as f:
            f.write(
                "[daemon]\n"
                f"control_socket = {json.dumps(self.socket)}\n"
                'log_level = "info"\n'
                'shutdown_timeout = "10s"\n'
                "[socket.http]\n"
                f'listen = "127.0.0.1:{self.port}"\n'
                f"balance = {json.dumps(balance)}\n"
                "[program.web]\n"
                f"command = {json.dumps(command)}\n"
                f"workers = {self.workers}\n"
                'sockets = ["http"]\n'
                'ready = "notify"\n'
                'ready_timeout = "10s"\n' + extra)

    def start(self):
        track(self)
        self.proc = start_in_session([self.bins["workerd"], "-c", self.config],
                                     self.log_path)
        return self

    def ctl(self, *argv, timeout=60):
        return subprocess.run([self.bins["workerctl"], "-s", self.socket,
                               *argv], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def status(self):
        r = self.ctl("--json", "status")
        if r.returncode != 0:
            raise BenchError(f"workerctl status exited {r.returncode}: "
                             f"{r.stderr.strip()}")
        return [i for p in json.loads(r.stdout)["programs"]
                for i in p["instances"]]

    def ready_pids(self):
        """{instance: pid} once all workers are ready, else None."""
        try:
            inst = self.status()
        except (BenchError, json.JSONDecodeError, KeyError):
            return None  # not listening yet
        if (len(inst) == self.workers
                and all(i["state"] == "ready" for i in inst)):
            return {i["instance"]: i["pid"] for i in inst}
        return None

    def wait_ready(self, timeout=20):
        return wait_until(
            self.ready_pids, timeout, proc=self.proc,
            exited=lambda status: (f"workerd exited with status {status}:\n"
                                   f"{self.log_text()[-2000:]}"),
            late=lambda: (f"{self.workers} workers not ready within "
                          f"{timeout} s:\n{self.log_text()[-2000:]}"))

    def shutdown(self):
        """`workerctl shutdown`, then waits for workerd; SIGTERM and SIGKILL
        if that does not work. Kills and counts any worker left behind.
        Returns workerd's exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                r = self.ctl("shutdown", timeout=30)
                if r.returncode != 0:
                    log(f"  ! workerctl shutdown exited {r.returncode}: "
                        f"{r.stderr.strip()}")
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                log("  ! workerd still running 30 s after `workerctl "
                    "shutdown`; SIGTERM")
                terminate(self.proc, 15)
        self.leftovers = self.kill_leftovers()
        untrack(self)
        return self.proc.returncode

    def kill_leftovers(self):
        """SIGKILL whatever is still alive in workerd's session; how many."""
        return kill_until_gone(lambda: session_members(self.proc.pid), 3)

    def kill(self):
        """The cleanup after an error or an interrupt (cleanup_all())."""
        if self.proc is not None:
            stop_for_cleanup(self.proc, 15, self.kill_leftovers,
                             "processes left by workerd")

    def log_text(self):
        return read_text(self.log_path)


# --------------------------------------------------------------------------
# Per-second series


def series(r, window=None):
    """Requests per second from the 100 ms ticks of one wrk run.

    The first and last ticks with responses are partial (wrk connecting,
    wrk stopping), so the 1 s buckets start at the tick after the first and
    only complete ones are kept. `window` (t0, t1), CLOCK_MONOTONIC seconds:
    the rollout, which marks each bucket before / during / after."""
    ticks = r["ticks"]
    res = 1 if r.get("clock") == "monotonic" else TICKS_PER_S
    if r.get("clock") != "monotonic" and window is not None:
        # Realtime ticks: move the window from monotonic to wall time.
        shift = r["t_wall"] - r["t_mono"]
        window = (window[0] + shift, window[1] + shift)
    first, last = min(ticks), max(ticks)
    start = first + res
    out = []
    k = start
    while k + TICKS_PER_S <= last:
        n = sum(ticks.get(t, 0) for t in range(k, k + TICKS_PER_S))
        bucket = {"t": (k - start) / TICKS_PER_S, "rps": n, "phase": None}
        if window is not None:
            w0 = int(window[0] * TICKS_PER_S)
            w1 = int(window[1] * TICKS_PER_S)
            if k + TICKS_PER_S <= w0:
                bucket["phase"] = "before"
            elif k > w1:
                bucket["phase"] = "after"
            else:
                bucket["phase"] = "during"
        out.append(bucket)
        k += TICKS_PER_S
    # 100 ms ticks in the full range: the rollout's own ticks and, for the
    # noise, every tick before it.
    fine = {}
    if res == 1:
        full = range(first + 1, last)
        fine["all"] = [ticks.get(t, 0) * TICKS_PER_S for t in full]
        if window is not None:
            w0 = int(window[0] * TICKS_PER_S)
            w1 = int(window[1] * TICKS_PER_S)
            fine["before"] = [ticks.get(t, 0) * TICKS_PER_S
                              for t in full if t < w0]
            fine["during"] = [ticks.get(t, 0) * TICKS_PER_S
                              for t in full if w0 <= t <= w1]
    return out, fine


def summarize(base, roll):
    """The throughput figures of one baseline + rollout pair."""
    b_series, b_fine = series(base)
    r_series, r_fine = series(roll, roll["window"])
    b_rps = [b["rps"] for b in b_series]
    before = [b["rps"] for b in r_series if b["phase"] == "before"]
    during = [b["rps"] for b in r_series if b["phase"] == "during"]
    after = [b["rps"] for b in r_series if b["phase"] == "after"]
    s = {
        "baseline_series": b_rps,
        "series": [(b["rps"], b["phase"]) for b in r_series],
        "baseline_median": median(b_rps),
        "baseline_min": min(b_rps) if b_rps else float("nan"),
        "before_median": median(before),
        "during_min": min(during) if during else float("nan"),
        "after_median": median(after),
    }
    s["dip"] = ratio(s["during_min"], s["before_median"])
    s["dip_vs_baseline"] = ratio(s["during_min"], s["baseline_median"])
    s["baseline_noise"] = ratio(s["baseline_min"], s["baseline_median"])
    s["after_vs_before"] = ratio(s["after_median"], s["before_median"])
    if r_fine.get("during"):
        s["fine_during"] = r_fine["during"]
        s["fine_dip"] = ratio(min(r_fine["during"]),
                              median(r_fine["before"]))
        # The baseline's own 100 ms ticks: how low they go with no rollout
        # (5th percentile: its very lowest tick is one of ~100).
        low = sorted(b_fine["all"])[len(b_fine["all"]) // 20]
        s["fine_noise"] = ratio(low, median(b_fine["all"]))
        s["fine_zero_ticks"] = sum(1 for x in r_fine["during"] if x == 0)
    return s


def shares(r):
    """Per-worker share of the 2xx responses, by instance."""
    per = {}
    for (inst, _pid), n in by_worker(r["bodies"]).items():
        per[inst] = per.get(inst, 0) + n
    return per


def spread_figures(per, workers):
    total = sum(per.values())
    counts = [per.get(str(i), 0) for i in range(workers)]
    lo, hi = min(counts), max(counts)
    return {
        "total": total,
        "counts": counts,
        "answering": sum(1 for c in counts if c),
        "min_share": 100.0 * lo / total if total else float("nan"),
        "max_share": 100.0 * hi / total if total else float("nan"),
        "max_min": ratio(hi, lo),
    }


# --------------------------------------------------------------------------
# The runs


def rollout_run(args, wd, workdir, close, tag):
    """wrk for --duration seconds with `workerctl restart web` started
    --restart-at seconds in. Returns wrk's result with the rollout's
    window, workerctl's output and the pids before and after."""
    before = wd.wait_ready()
    w = Wrk(args, workdir, wd.url, args.threads, args.connections,
            args.duration, close, tag).start()
    time.sleep(max(0.0, w.t_mono + args.restart_at - time.monotonic()))
    t0 = time.monotonic()
    try:
        ctl = wd.ctl("restart", "web", timeout=args.duration + 30)
    except subprocess.TimeoutExpired:
        raise BenchError("`workerctl restart web` did not return")
    t1 = time.monotonic()
    r = w.result()
    r["window"] = (t0, t1)
    r["rollout_ms"] = (t1 - t0) * 1e3
    r["ctl_status"] = ctl.returncode
    r["ctl_output"] = (ctl.stdout + ctl.stderr).strip()
    after = wd.wait_ready()
    r["pids_before"] = before
    r["pids_after"] = after
    r["replaced"] = sum(1 for i in before if after.get(i) != before[i])
    seen = by_worker(r["bodies"])
    old, new = set(before.values()), set(after.values())
    r["answered_by_old"] = sum(n for (_, p), n in seen.items() if p in old)
    r["answered_by_new"] = sum(n for (_, p), n in seen.items() if p in new)
    r["answered_by_other"] = sum(n for (_, p), n in seen.items()
                                 if p not in old and p not in new)
    if ctl.returncode != 0:
        log(f"  ! workerctl restart web exited {ctl.returncode}: "
            f"{r['ctl_output'][-500:]}")
    return r


def failed(r):
    return r["socket_errors"] + r["non2xx"]


def describe(r):
    e = r["errors"]
    return (f"{r['requests']} requests, {r['rps']:.0f}/s, non-2xx "
            f"{r['non2xx']}, errors connect {e['connect']} read {e['read']} "
            f"write {e['write']} timeout {e['timeout']}")


def run(args, bins, workdir):
    R = {"rollout": {}, "spread": {}, "leftovers": 0, "bad_exits": [],
         "logs": {}}
    servers = ["test_worker"] + (["demo"] if args.demo else [])
    for balance in args.balance:
        for server in servers:
            tag = f"{balance}-{server}"
            log(f"[{tag}] starting workerd, {args.workers} workers, "
                f"balance = \"{balance}\"")
            wd = Workerd(args, bins, workdir, tag, balance, server).start()
            try:
                pids = wd.wait_ready()
                log(f"[{tag}] ready: pids {sorted(pids.values())}")
                # ---- 2. spread, on the fresh workers ----------------------
                if server == "test_worker":
                    for name, threads, conns, secs, close in (
                            ("short", 1, args.short_connections,
                             args.short_seconds, False),
                            ("keep-alive", args.threads, args.connections,
                             args.spread_seconds, False),
                            ("close", args.threads, args.connections,
                             args.spread_seconds, True)):
                        r = Wrk(args, workdir, wd.url, threads, conns, secs,
                                close, f"{tag}-spread-{name}").start()
                        r = r.result()
                        f = spread_figures(shares(r), args.workers)
                        f.update(requests=r["requests"], rps=r["rps"],
                                 failed=failed(r), threads=threads,
                                 connections=conns, seconds=secs)
                        R["spread"][f"{balance}/{name}"] = f
                        log(f"[{tag}] spread {name:10s} {conns} conns "
                            f"{secs:g} s: counts {f['counts']}, max/min "
                            f"{f['max_min']:.2f}, failed {f['failed']}")
                        time.sleep(args.pause)
                # ---- 1. rolling restart under load, and its baseline -----
                # demo_worker.py before commit 07f9da4 answered a
                # `Connection: close` request without saying "Connection:
                # close" itself (a SHOULD of RFC 9112), so wrk wrote its next
                # request on the closing connection and counted a read error
                # after every response: the demo gets keep-alive runs only.
                modes = (("keep-alive", False),) if server == "demo" else (
                    ("keep-alive", False), ("close", True))
                for mode, close in modes:
                    base = Wrk(args, workdir, wd.url, args.threads,
                               args.connections, args.duration, close,
                               f"{tag}-{mode}-baseline").start().result()
                    log(f"[{tag}] {mode:10s} baseline: {describe(base)}")
                    time.sleep(args.pause)
                    roll = rollout_run(args, wd, workdir, close,
                                       f"{tag}-{mode}-rollout")
                    log(f"[{tag}] {mode:10s} rollout:  {describe(roll)}; "
                        f"rollout {roll['rollout_ms']:.0f} ms, "
                        f"{roll['replaced']}/{args.workers} replaced")
                    s = summarize(base, roll)
                    log(f"[{tag}] {mode:10s} per second: "
                        + " ".join(fmt_bucket(v, p) for v, p in s["series"]))
                    R["rollout"][f"{balance}/{server}/{mode}"] = {
                        "baseline": strip(base), "rollout": strip(roll),
                        "summary": s}
                    time.sleep(args.pause)
            finally:
                status = wd.shutdown()
                R["leftovers"] += wd.leftovers
                R["logs"][tag] = wd.log_text()
                if status != 0:
                    R["bad_exits"].append((tag, status))
                    log(f"  ! workerd ({tag}) exited with status {status}")
                log(f"[{tag}] workerd stopped (exit {status}), "
                    f"{wd.leftovers} processes left behind")
    return R


def strip(r):
    """A wrk result without the bulky per-tick dicts, for the JSON."""
    out = {k: v for k, v in r.items() if k not in ("ticks", "bad", "bodies")}
    seen = sorted(by_worker(r["bodies"]).items())
    out["by_worker"] = {f"{i}/{p}": n for (i, p), n in seen}
    for k in ("pids_before", "pids_after"):
        if k in out:
            out[k] = {str(i): p for i, p in out[k].items()}
    return out


def by_worker_json(d):
    """strip()'s "instance/pid" keys back to (instance, pid)."""
    out = {}
    for key, n in d.items():
        inst, _, pid = key.rpartition("/")
        out[(inst, int(pid))] = n
    return out


def fmt_bucket(v, phase):
    s = f"{v / 1e3:.1f}k"
    return f"[{s}]" if phase == "during" else s


# --------------------------------------------------------------------------
# Report


def log_summary(logs):
    """workerd's warn and error lines, all runs together."""
    lines = [l for text in logs.values() for l in text.splitlines()
             if re.search(r"\b(warn|warning|error|critical)\b", l)]
    return lines


def report(args, R, env):
    rows = []
    for key, v in R["rollout"].items():
        balance, server, mode = key.split("/")
        b, r, s = v["baseline"], v["rollout"], v["summary"]
        e = r["errors"]
        fails = r["socket_errors"] + r["non2xx"]
        rows.append([
            balance + ("" if server == "test_worker" else f" ({server})"),
            mode,
            f"{r['rollout_ms']:.0f}"
            + ("" if r["ctl_status"] == 0
               else f" (**exit {r['ctl_status']}**)"),
            f"{r['replaced']}/{len(r['pids_before'])}",
            str(r["requests"]),
            str(r["non2xx"]),
            f"{e['connect']} / {e['read']} / {e['write']} / {e['timeout']}",
            (f"**{fails}**" if fails else "0")
            + f" ({100.0 * fails / max(1, r['requests']):.3f}%)",
            f"{b['socket_errors'] + b['non2xx']}",
        ])
    head1 = ["balance", "connections", "rollout, ms", "replaced", "requests",
             "non-2xx", "socket errors connect / read / write / timeout",
             "failed (target 0)", "failed in the baseline"]
    rows2 = []
    for key, v in R["rollout"].items():
        balance, server, mode = key.split("/")
        b, r, s = v["baseline"], v["rollout"], v["summary"]
        rows2.append([
            balance + ("" if server == "test_worker" else f" ({server})"),
            mode,
            f"{b['rps']:.0f}",
            f"{r['rps']:.0f}",
            f"{ratio(r['rps'], b['rps']):.2f}",
            f"{s['dip']:.2f}",
            f"{s['dip_vs_baseline']:.2f}",
            f"{s['baseline_noise']:.2f}",
            (f"{s['fine_dip']:.2f} ({s['fine_noise']:.2f})"
             if "fine_dip" in s else "-"),
            f"{s['after_vs_before']:.2f}",
            f"{b['latency_ms']['max']:.1f} / {r['latency_ms']['max']:.1f}",
        ])
    head2 = ["balance", "connections", "baseline req/s", "rollout run req/s",
             "run/baseline", "dip: min 1 s during / median 1 s before",
             "min 1 s during / baseline median",
             "baseline's own min 1 s / its median",
             "100 ms dip: min tick during / median before (baseline: "
             "5th percentile / median)", "after / before",
             "max latency ms, baseline / rollout"]
    rows3 = []
    for key, f in R["spread"].items():
        balance, name = key.split("/")
        rows3.append([
            balance,
            f"{name}: {f['connections']} conn, {f['seconds']:g} s",
            str(f["total"]),
            f"{f['answering']}/{args.workers}",
            " / ".join(str(c) for c in f["counts"]),
            f"{f['min_share']:.1f}%",
            f"{f['max_share']:.1f}%",
            f"{f['max_min']:.2f}" if f["max_min"] != float("inf") else "inf",
            str(f["failed"]),
        ])
    head3 = ["balance", "load", "2xx answers", "workers answering",
             "per worker (instance 0 / 1 / ...)", "min share", "max share",
             "max/min", "failed"]

    details = []
    for key, v in R["rollout"].items():
        b, r, s = v["baseline"], v["rollout"], v["summary"]
        details.append(
            f"- {key}: req/s per second, rollout run (in brackets: the "
            f"seconds the rollout overlaps): "
            + " ".join(fmt_bucket(x, p) for x, p in s["series"])
            + "; baseline: " + " ".join(f"{x / 1e3:.1f}k"
                                        for x in s["baseline_series"]))
        if "fine_during" in s:
            details.append(
                "    100 ms ticks during the rollout, as req/s: "
                + " ".join(f"{x / 1e3:.1f}k" for x in s["fine_during"])
                + f" ({s['fine_zero_ticks']} with no response at all)")
        details.append(
            f"    answered by the old workers {r['answered_by_old']}, by the "
            f"new {r['answered_by_new']}"
            + (f", by others {r['answered_by_other']}"
               if r["answered_by_other"] else "")
            + "; per new worker (instance: answers): "
            + ", ".join(f"{i}: {n}" for (i, p), n in sorted(
                by_worker_json(r["by_worker"]).items())
                if p in r["pids_after"].values())
            + f"; latency ms p50/p99/max: baseline "
            f"{b['latency_ms']['p50']:.2f}/{b['latency_ms']['p99']:.2f}/"
            f"{b['latency_ms']['max']:.1f}, rollout "
            f"{r['latency_ms']['p50']:.2f}/{r['latency_ms']['p99']:.2f}/"
            f"{r['latency_ms']['max']:.1f}")
    warn = log_summary(R["logs"])
    details.append(f"- processes left behind after each `workerctl "
                   f"shutdown`: {R['leftovers']}")
    if R["bad_exits"]:
        details.append(f"- non-zero workerd exits: {R['bad_exits']}")
    details.append(f"- workerd log (log_level info): {len(warn)} warn/error "
                   f"lines")
    details += indented(warn)

    return "\n".join([
        *report_head(
            "workerd rolling restart and load spread", env,
            f"workerd {env['workerd_version']}, {env['build']} made "
            f"{env['built']} (tree at run time: {env['commit']}); "
            f"{env['wrk']}; {args.workers} workers of test_worker --http "
            f"--notify-ready"
            + (" (and demo_worker.py)" if args.demo else "")
            + f"; rollout runs: wrk -t{args.threads} -c{args.connections} "
            f"-d{args.duration:g}s, `workerctl restart web` at "
            f"{args.restart_at:g} s."),
        "## 1. Rolling restart under load: failures",
        "",
        *markdown_table(head1, rows),
        "",
        "## 1. Rolling restart under load: throughput (ratios)",
        "",
        *markdown_table(head2, rows2),
        "",
        "## 2. Spread of requests over the workers",
        "",
        *markdown_table(head3, rows3),
        "",
        "## Details",
        "",
        *details,
        "",
    ])


def environment(args, bins):
    env = describe_environment(bins["workerd"], utc=True,
                               count_modified=True)
    wrk = command_output([args.wrk, "-v"], with_stderr=True)
    env.update(
        **describe_build(args.build_dir, bins["workerd"]),
        wrk=wrk.splitlines()[0].split(" Copyright")[0]
        if wrk and wrk != "?" else "wrk ?")
    return env


# --------------------------------------------------------------------------
# Binaries


def binaries(args):
    bins = find_binaries(
        args, {"worker": (args.test_worker, "tests/test_worker")}, BUILD_HINT)
    if not os.access(bins["worker"], os.X_OK):
        raise BenchError(f"{bins['worker']} not found: build it first with\n"
                         "  " + BUILD_HINT.format(
                             build=os.path.abspath(args.build_dir),
                             repo=REPO))
    wrk = shutil.which(args.wrk)
    if wrk is None:
        raise BenchError(f"{args.wrk} not found (Debian: apt-get install wrk)")
    args.wrk = wrk
    return {k: os.path.realpath(v) for k, v in bins.items()}


def main():
    p = argparse.ArgumentParser(
        description="workerd under wrk: failed requests and throughput dip "
                    "during a rolling restart, and the spread of requests "
                    "over the workers. See bench/README.md.")
    add_number_options(p, [
        (("-n", "--workers"), int, 4, "workers of the web program"),
    ])
    p.add_argument("--balance", default="shared,reuseport",
                   help="balance modes to run, comma-separated (default "
                        "shared,reuseport)")
    add_number_options(p, [
        (("-d", "--duration"), float, 12,
         "seconds of each rollout and baseline run"),
        (("--restart-at",), float, 4,
         "seconds into the rollout run to start `workerctl restart web`"),
        (("-t", "--threads"), int, 2, "wrk threads"),
        (("-c", "--connections"), int, 16,
         "wrk connections for the rollout runs and the longer spread loads"),
        (("--short-seconds",), float, 2,
         "length of the short spread load"),
        (("--short-connections",), int, 4,
         "connections of the short spread load"),
        (("--spread-seconds",), float, 5,
         "length of the keep-alive and close spread loads"),
        (("--timeout",), float, 2, "wrk's --timeout, seconds"),
        (("--pause",), float, 0.5, "seconds between wrk runs"),
    ])
    p.add_argument("--demo", action="store_true",
                   help="also run the keep-alive rollout with "
                        "examples/demo_worker.py as the server (about 27 s "
                        "more per balance mode)")
    add_binary_options(p, BUILD_DIR,
                       "where workerd, workerctl and test_worker are built "
                       f"(default {BUILD_DIR})", ["--test-worker"])
    p.add_argument("--wrk", default="wrk")
    add_output_options(
        p, "results file (default bench/results/DATE_TIME_rolling.md, UTC)",
        "keep the temporary directory (configs, logs, wrk output)",
        json_help="also write every raw number (per-second series, per-pid "
                  "counts, wrk's summaries) to PATH")
    args = p.parse_args()
    args.balance = [b.strip() for b in args.balance.split(",") if b.strip()]
    if not args.balance or any(b not in ("shared", "reuseport")
                               for b in args.balance):
        p.error("--balance takes shared and/or reuseport")
    if args.workers < 1 or args.connections < 1 or args.threads < 1:
        p.error("counts must be at least 1")
    if not 1 <= args.restart_at <= args.duration - 2:
        p.error("--restart-at must leave at least 1 s before and 2 s after")

    def body(workdir):
        bins = binaries(args)
        with open(os.path.join(workdir, "count.lua"), "w") as f:
            f.write(LUA)
        stamp = now_stamp("%Y-%m-%d_%H%M%S", utc=True)
        env = environment(args, bins)
        log(f"workdir {workdir}; load average {env['loadavg']}")
        t0 = time.monotonic()
        R = run(args, bins, workdir)
        out = args.output or os.path.join(BENCH, "results",
                                          f"{stamp}_rolling.md")
        write_report(report(args, R, env), out)
        if args.json:
            write_json(args.json, env, args,
                       {k: v for k, v in R.items() if k != "logs"})
        log(f"wrote {out}" + (f" and {args.json}" if args.json else "")
            + f" in {time.monotonic() - t0:.0f} s")
        return report_bad_end(R["leftovers"], R["bad_exits"], "processes",
                              "non-zero workerd exits")

    return run_main("workerd-rolling-", args.keep, body)


if __name__ == "__main__":
    sys.exit(main())
