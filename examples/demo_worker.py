#!/usr/bin/env python3
"""A stand-in worker for the demo: reports now and then, stops cleanly.

workerd tells each worker who it is through WORKERD_PROGRAM and
WORKERD_INSTANCE; the worker only has to do its job and exit on SIGTERM.
"""
import os
import signal
import sys
import time

program = os.environ.get("WORKERD_PROGRAM", "?")
instance = os.environ.get("WORKERD_INSTANCE", "?")
interval = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0


class Stop(Exception):
    pass


def stop(signum, frame):
    # Raised out of time.sleep, which Python would otherwise resume.
    raise Stop()


signal.signal(signal.SIGTERM, stop)
print(f"{program}[{instance}] pid {os.getpid()}: up", flush=True)
done = 0
try:
    while True:
        time.sleep(interval)
        done += 1
        print(f"{program}[{instance}] pid {os.getpid()}: {done} rounds done",
              flush=True)
except Stop:
    pass
print(f"{program}[{instance}] pid {os.getpid()}: stopping after {done} rounds",
      flush=True)
