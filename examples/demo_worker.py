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
stopping = False


def stop(signum, frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, stop)
print(f"{program}[{instance}] pid {os.getpid()}: up", flush=True)
done = 0
while not stopping:
    time.sleep(interval)
    done += 1
    if not stopping:
        print(f"{program}[{instance}] pid {os.getpid()}: {done} rounds done",
              flush=True)
print(f"{program}[{instance}] pid {os.getpid()}: stopping after {done} rounds",
      flush=True)
