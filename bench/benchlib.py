"""What bench/supervision.py and bench/rolling.py share.

- small helpers: log() to stderr, median(), ratio(), markdown_table()
- /proc: proc_stat(), loadavg(), session_members()
- processes: start_in_session(), terminate(), kill_until_gone(),
  and a registry (track(), untrack(), cleanup_all()) of everything started
  and not yet stopped, for the cleanup after an error or an interrupt
- wait_until(): polls a condition against a deadline, watching the process
  that should make it come true
- the run's header: describe_environment()
- command line and main: add_number_options(), add_binary_options(),
  add_output_options(), find_binaries(), run_main(), write_report()

Not a library for anything else; see bench/README.md.
"""

import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")


class BenchError(Exception):
    """The run itself broke: reported in one line, exit status 1."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else float("nan")


def ratio(a, b):
    return a / b if b else float("inf")


def markdown_table(head, rows):
    """Lines of a Markdown table: the header, the rule, one line per row."""
    return (["| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
            + ["| " + " | ".join(r) + " |" for r in rows])


def report_head(title, env, about):
    """A report's first lines: "# TITLE, DATE", then a paragraph naming the
    machine and the load average at the start (from `env`, see
    describe_environment()) and now, followed by `about` (what ran)."""
    return [f"# {title}, {env['date']}",
            "",
            f"{env['host']}: {env['cpus']} CPUs, kernel {env['kernel']}, "
            f"load average at start {env['loadavg']}, at the end "
            f"{loadavg()}; {about}",
            ""]


def indented(lines, limit=20):
    """The first `limit` lines (of a log), indented to sit under a list
    item of the report's details."""
    return [f"    {line}" for line in lines[:limit]]


def read_text(path):
    """A file's text (a process's log), or "" if it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# --------------------------------------------------------------------------
# /proc


def proc_stat(pid):
    """/proc/PID/stat from field 3 (state) on, as strings: [0] is the state,
    [3] the session, [11] and [12] utime and stime (fields 14 and 15).
    The command name (field 2) is skipped: it may hold spaces."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    return stat[stat.rindex(")") + 2:].split()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def session_members(sid):
    """Pids of live (not zombie) processes in session `sid`."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = proc_stat(name)
        except (OSError, ValueError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(name))
    return pids


# --------------------------------------------------------------------------
# Processes under test, and the cleanup when a run breaks

_LIVE = []  # every process object started and not yet stopped


def track(obj):
    """Remember `obj` (with a kill() method) until untrack(): cleanup_all()
    kills whatever is still tracked."""
    _LIVE.append(obj)


def untrack(obj):
    if obj in _LIVE:
        _LIVE.remove(obj)


def cleanup_all():
    """Calls kill() of everything still tracked, newest first, and goes on
    after a failure."""
    for obj in reversed(list(_LIVE)):
        try:
            obj.kill()
        except Exception as e:  # keep cleaning the others
            log(f"  cleanup of {getattr(obj, 'name', obj)} failed: {e}")
        untrack(obj)


def start_in_session(argv, out_path, merge_stderr=True):
    """Popen of argv in a session of its own (so a Ctrl-C in the terminal
    reaches only this script, which then stops everything in order), stdin
    from /dev/null, stdout and stderr to out_path."""
    out = open(out_path, "wb")
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=out if merge_stderr else None,
                                start_new_session=True)
    finally:
        out.close()


def terminate(proc, timeout, name=None):
    """SIGTERM, then SIGKILL if `proc` is still running `timeout` s later
    (logged when `name` is given). Returns the seconds SIGTERM took to end
    it, or None if it had already ended or had to be killed."""
    if proc.poll() is not None:
        return None
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
        return time.monotonic() - t0
    except subprocess.TimeoutExpired:
        if name:
            log(f"  ! {name} did not exit {timeout} s after SIGTERM; "
                "killing it")
        proc.kill()
        proc.wait()
        return None


def kill_until_gone(find_pids, rounds, pause=0.05):
    """SIGKILL every pid find_pids() returns, `rounds` times with `pause` s
    between (a process may still be starting the first time). Returns how
    many different processes there were."""
    killed = set()
    for _ in range(rounds):
        for pid in find_pids():
            killed.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(pause)
    return len(killed)


def stop_for_cleanup(proc, timeout, kill_leftovers, what):
    """How a kill() for cleanup_all() stops one process under test: SIGTERM
    (SIGKILL `timeout` s later), then kill_leftovers(), and a line saying
    how many `what` that killed, if any."""
    if proc is not None:
        terminate(proc, timeout)
    n = kill_leftovers()
    if n:
        log(f"  cleanup: killed {n} {what}")


def wait_until(done, timeout, *, proc=None, exited=None, late=None,
               pause=0.1):
    """Calls done() until it returns something true, and returns that.

    Raises BenchError(exited(status)) if `proc` ends first and
    BenchError(late()) once `timeout` s have passed. `pause` is the seconds
    between calls, or a function of the seconds left that does the
    waiting."""
    deadline = time.monotonic() + timeout
    while True:
        result = done()
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            raise BenchError(exited(proc.returncode) if exited else
                             f"{proc.args[0]} exited with status "
                             f"{proc.returncode}")
        left = deadline - time.monotonic()
        if left < 0:
            raise BenchError(late() if late else
                             f"nothing happened within {timeout} s")
        if callable(pause):
            pause(left)
        else:
            time.sleep(pause)


# --------------------------------------------------------------------------
# The run's header


def command_output(argv, with_stderr=False):
    """What argv prints (run in the repository), stripped; "?" if it
    cannot be run."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, cwd=REPO,
                           timeout=10)
        return (r.stdout + (r.stderr if with_stderr else "")).strip()
    except Exception:
        return "?"


def git_commit(count_modified=False):
    """The checkout's short HEAD ("no git" outside one); with
    count_modified, followed by " + N modified files" when tracked files
    have uncommitted changes."""
    commit = command_output(["git", "rev-parse", "--short", "HEAD"])
    if not commit or commit == "?":
        return "no git"
    if count_modified:
        dirty = [l for l in command_output(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            with_stderr=True).splitlines() if l.strip()]
        if dirty:
            commit += f" + {len(dirty)} modified files"
    return commit


def now_stamp(fmt, utc=False):
    """The current date and time in `fmt`, local time or UTC."""
    if utc:
        return datetime.datetime.now(datetime.timezone.utc).strftime(fmt)
    return datetime.datetime.now().strftime(fmt)


def describe_environment(workerd, utc=False, count_modified=False):
    """The machine and the workerd under test, for the report's header:
    date (local, or UTC with " UTC" after it), host, cpus, kernel, loadavg
    (now: the header gives the one at the end beside it), workerd_version,
    commit (see git_commit())."""
    return {
        "date": now_stamp("%Y-%m-%d %H:%M:%S" + (" UTC" if utc else ""),
                          utc),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "loadavg": loadavg(),
        "workerd_version": command_output([workerd, "--version"]).replace(
            "workerd ", "") or "?",
        "commit": git_commit(count_modified),
    }


def describe_build(build_dir, workerd):
    """The fields a report's header gives the binaries: `built` (when the
    workerd binary was made) and `build` (type and directory, and the source
    tree when it is not this checkout). The binaries are whatever the build
    directory holds, which may not be this checkout as it is now."""
    build_type = cmake_cache(build_dir, "CMAKE_BUILD_TYPE") or "?"
    source = cmake_cache(build_dir, "CMAKE_HOME_DIRECTORY")
    built = datetime.datetime.fromtimestamp(
        os.path.getmtime(workerd), datetime.timezone.utc)
    other_tree = source and os.path.realpath(source) != os.path.realpath(REPO)
    return {"built": built.strftime("%Y-%m-%d %H:%M UTC"),
            "build": f"{build_type} build in {build_dir}"
            + (f" of {source}" if other_tree else "")}


def compile_missing_helpers(bins, helpers, workdir):
    """For each (key, source file under bench/) of `helpers` whose binary
    in `bins` is not built (bench/ not in that build), compiles it into
    `workdir` with $CC and puts that path in `bins`."""
    for name, src in helpers:
        if os.access(bins[name], os.X_OK):
            continue
        out = os.path.join(workdir, os.path.splitext(src)[0])
        cc = os.environ.get("CC", "cc")
        log(f"note: {bins[name]} not built; compiling {src} with {cc}")
        subprocess.run([cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-o",
                        out, os.path.join(BENCH, src)], check=True)
        bins[name] = out


def cmake_cache(build_dir, key):
    """A value of build_dir's CMakeCache.txt, or None."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------
# Command line, binaries and main


def add_number_options(parser, options):
    """One add_argument per (flags, type, default, help); the help gets
    "(default D)" appended unless it already speaks of the default."""
    for flags, kind, default, text in options:
        if "default" not in text:
            text += f" (default {default:g})"
        parser.add_argument(*flags, type=kind, default=default, help=text)


def add_binary_options(parser, build_dir, build_dir_help, helpers):
    """--build-dir, --workerd, --workerctl and one option per helper
    binary (e.g. "--bench-worker"): each names a single binary instead of
    taking it from the build directory."""
    parser.add_argument("--build-dir", default=build_dir,
                        help=build_dir_help)
    for flag in ("--workerd", "--workerctl", *helpers):
        parser.add_argument(flag)


def add_output_options(parser, output_help, keep_help, json_help=None):
    """-o/--output, then --json PATH if json_help is given, then --keep."""
    parser.add_argument("-o", "--output", help=output_help)
    if json_help:
        parser.add_argument("--json", metavar="PATH", help=json_help)
    parser.add_argument("--keep", action="store_true", help=keep_help)


def find_binaries(args, helpers, build_hint):
    """{"workerd", "workerctl", helper names...}: paths from the options
    (--workerd, ...) or the build directory, not yet checked except for
    workerd and workerctl, which must be executable (else BenchError with
    `build_hint`, a command that builds them, {build} and {repo} filled
    in). `helpers`: {name: (option value, path in the build dir)}."""
    build = os.path.abspath(args.build_dir)
    bins = {
        "workerd": args.workerd or os.path.join(build, "daemon", "workerd"),
        "workerctl": args.workerctl or os.path.join(build, "ctl",
                                                    "workerctl"),
    }
    for name, (given, relpath) in helpers.items():
        bins[name] = given or os.path.join(build, relpath)
    for name in ("workerd", "workerctl"):
        if not os.access(bins[name], os.X_OK):
            raise BenchError(f"{bins[name]} not found: build it first "
                             f"with\n  "
                             + build_hint.format(build=build, repo=REPO))
    return bins


def write_report(text, out):
    """Prints the report to stdout and writes it to `out`."""
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)


def write_json(path, env, args, results):
    with open(path, "w") as f:
        json.dump({"env": env, "args": vars(args), "results": results}, f,
                  indent=1)


def report_bad_end(leftovers, bad_exits, what, exits):
    """Logs processes left behind and non-zero exits; 1 if there were any,
    else 0 (the script's exit status)."""
    if leftovers or bad_exits:
        log(f"! {leftovers} {what} left behind (now killed); "
            f"{exits}: {bad_exits}")
        return 1
    return 0


def run_main(workdir_prefix, keep, body):
    """The common main: a fresh temporary directory, body(workdir) (which
    returns the exit status), and whatever happens, every tracked process
    stopped (cleanup_all()).

    Ctrl-C, SIGTERM and SIGHUP all stop the run (status 130), a BenchError
    too (status 1). The directory is removed unless `keep` or the run
    failed."""
    # SIGINT is set explicitly: a shell starts background jobs with it
    # ignored.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    workdir = tempfile.mkdtemp(prefix=workdir_prefix)
    status = 0
    try:
        status = body(workdir)
    except BenchError as e:
        log(f"benchmark failed: {e}")
        status = 1
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        status = 130
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # finish the cleanup
        cleanup_all()
        if keep or status not in (0, 130):
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return status
