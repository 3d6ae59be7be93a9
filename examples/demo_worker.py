#!/usr/bin/env python3
"""The worker of the demo (examples/demo.toml), in three roles:

    demo_worker.py             web: HTTP on the socket workerd passes at fd 3
    demo_worker.py jobs [SEC]  jobs: a pretend round of work every SEC seconds
    demo_worker.py migrate     migrate: pretend database migrations, then exit 0

workerd tells each worker who it is through WORKERD_PROGRAM and
WORKERD_INSTANCE. A web worker gets its listening socket the systemd way
(LISTEN_FDS, LISTEN_PID, fd 3), says READY=1 on NOTIFY_SOCKET once it
serves (and WATCHDOG=1 when workerd sets WATCHDOG_USEC), and on SIGTERM
stops gracefully: it accepts no more connections, closes idle keep-alive
connections, finishes the requests in flight and exits 0. Only the
standard library, so any python3 runs it.
"""
import http.server
import os
import select
import signal
import socket
import sys
import threading
import time

program = os.environ.get("WORKERD_PROGRAM", "web")
instance = os.environ.get("WORKERD_INSTANCE", "?")
me = f"{program}[{instance}] pid {os.getpid()}"


def say(text):
    print(f"{me}: {text}", flush=True)


def notify(message):
    """sd_notify(3): one datagram to NOTIFY_SOCKET, if workerd gave one."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]  # the abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(message.encode(), address)
        except OSError as e:
            say(f"cannot send {message!r} to NOTIFY_SOCKET: {e}")


# --------------------------------------------------------------------------
# web


def inherited_listener():
    """fd 3 from the LISTEN_FDS protocol, or exit 2 saying what is wrong."""
    fds = os.environ.get("LISTEN_FDS")
    pid = os.environ.get("LISTEN_PID")
    problem = None
    if not fds or not fds.isdigit() or int(fds) < 1:
        problem = ("LISTEN_FDS is not set: no socket was passed. Run it "
                   "from workerd with `sockets = [...]` in its program, or "
                   "with systemd-socket-activate; `jobs` is the other role")
    elif pid is not None and pid != str(os.getpid()):
        problem = f"LISTEN_PID is {pid}, not this process ({os.getpid()})"
    else:
        try:
            sock = socket.socket(fileno=3)
            if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                problem = "fd 3 is not a listening socket"
        except OSError as e:
            problem = f"fd 3 is not a socket: {e}"
    if problem:
        print(f"{me}: {problem}", file=sys.stderr, flush=True)
        sys.exit(2)
    # The listener's file description is shared with workerd and the other
    # workers, so this makes it non-blocking for all of them: a worker that
    # loses the race for a connection gets EAGAIN (which socketserver
    # ignores) instead of hanging in accept() where it cannot stop.
    sock.setblocking(False)
    return sock


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    timeout = 60  # a client that stops sending mid-request
    # Headers and body go out in two writes: without TCP_NODELAY the body
    # waits for the client's delayed ACK (~40 ms) on a keep-alive connection.
    disable_nagle_algorithm = True

    def handle(self):
        # BaseHTTPRequestHandler.handle, but waiting for each request in a
        # way that a stop can interrupt (see Server.request_arrives).
        self.close_connection = True
        while self.server.request_arrives(self):
            self.handle_one_request()
            if self.close_connection:
                break

    def do_GET(self):
        body = f"hello from {program}[{instance}] pid {os.getpid()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if self.server.stopping or self.close_connection:
            # Stopping, or the client asked: said, and the loop above ends.
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.count_request()

    do_HEAD = do_GET

    def log_request(self, code="-", size="-"):
        pass  # one line per request would drown workerd's log

    def address_string(self):
        # Unix socket clients have no (host, port).
        return self.client_address[0] if self.client_address else "unix"


# While stopping, how long an idle connection is kept for a request that
# may be on its way.
STOP_GRACE = 0.25


class Server(http.server.ThreadingHTTPServer):
    """A thread per connection on an inherited listener, stopped gently."""

    def __init__(self, sock):
        self.address_family = sock.family
        super().__init__(sock.getsockname(), Handler, bind_and_activate=False)
        self.socket.close()  # the unbound one socketserver made
        self.socket = sock
        self.stopping = False
        self.requests = 0
        self.connections = 0
        self.changed = threading.Condition()
        # Readable once stopping: wakes every connection waiting for its
        # next request.
        self.stop_r, self.stop_w = os.pipe()

    def count_request(self):
        with self.changed:
            self.requests += 1

    def process_request(self, request, client_address):
        # Counted here, before its thread starts, so that once
        # serve_forever() has returned no connection can go uncounted.
        with self.changed:
            self.connections += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.changed:
                self.connections -= 1
                self.changed.notify_all()

    def request_arrives(self, handler):
        """Waits for the next request; False for an idle connection once
        the server is stopping (or the client has gone)."""
        connection = handler.connection
        # A pipelined request may already sit in rfile's buffer, where
        # select() cannot see it. peek() on the non-blocking socket returns
        # the buffer or what the socket has, without waiting.
        connection.settimeout(0)
        try:
            waiting = handler.rfile.peek(1)
        except OSError:
            return False
        finally:
            connection.settimeout(handler.timeout)
        if waiting:
            return True
        readable, _, _ = select.select([connection, self.stop_r], [], [],
                                       handler.timeout)
        if connection in readable:
            return True
        if not readable:
            return False  # idle for `timeout`
        # Stopping. A client that just connected, or a keep-alive client
        # between two requests, may have its request on the way: closing
        # at once would fail it. It gets a moment, then the answer says
        # "Connection: close".
        readable, _, _ = select.select([connection], [], [], STOP_GRACE)
        return connection in readable

    def stop(self):
        self.stopping = True
        os.write(self.stop_w, b"x")  # idle connections close soon
        self.shutdown()  # no more accept()s
        with self.changed:
            self.changed.wait_for(lambda: self.connections == 0)
        self.server_close()


def web():
    sock = inherited_listener()
    # SIGTERM and SIGINT are taken synchronously by the main thread below;
    # blocked before any thread starts, so no other thread ever gets them.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    server = Server(sock)
    threading.Thread(target=server.serve_forever,
                     kwargs={"poll_interval": 0.1}, daemon=True).start()
    name = sock.getsockname()
    where = f"{name[0]}:{name[1]}" if isinstance(name, tuple) else name
    say(f"serving on {where}")
    notify("READY=1\nSTATUS=serving")
    # With `watchdog` in its program, workerd expects WATCHDOG=1 more often
    # than every WATCHDOG_USEC microseconds: ping at twice that rate.
    watchdog_usec = os.environ.get("WATCHDOG_USEC", "")
    pid = str(os.getpid())
    for_us = os.environ.get("WATCHDOG_PID", pid) == pid
    watchdog = watchdog_usec.isdigit() and int(watchdog_usec) > 0 and for_us
    tick = min(5.0, int(watchdog_usec) / 2e6) if watchdog else 5.0
    reported = 0
    next_status = time.monotonic() + 5
    while signal.sigtimedwait(stop_signals, tick) is None:
        if watchdog:
            notify("WATCHDOG=1")
        # Every few seconds, tell `workerctl status` how busy we are.
        now = time.monotonic()
        if now >= next_status:
            next_status = now + 5
            if server.requests != reported:
                reported = server.requests
                notify(f"STATUS=serving, {reported} requests so far")
    notify("STOPPING=1")
    say("stopping: finishing the requests in flight")
    server.stop()
    say(f"stopped after {server.requests} requests")


# --------------------------------------------------------------------------
# jobs


class Stop(Exception):
    pass


def jobs(interval):
    def stop(signum, frame):
        # Raised out of time.sleep, which Python would otherwise resume.
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    say("up")
    done = 0
    try:
        while True:
            time.sleep(interval)
            done += 1
            say(f"{done} rounds done")
    except Stop:
        pass
    say(f"stopping after {done} rounds")


def migrate():
    """A one-shot task: the web and jobs workers start once it exits 0."""
    for step in ("0001_initial", "0002_add_orders", "0003_index_orders"):
        say(f"applying migration {step}")
        time.sleep(0.3)
    say("database is up to date")


def main(args):
    if not args:
        web()
    elif args == ["migrate"]:
        migrate()
    elif args[0] == "jobs" and len(args) <= 2:
        jobs(float(args[1]) if len(args) == 2 else 5.0)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
