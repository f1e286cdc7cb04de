#!/usr/bin/env python3
"""Hostile-client figures of a QMP server, side by side with QEMU.

Usage: hostile_clients.py SERVER_CMD... (the socket path is appended)
e.g.   hostile_clients.py target/release/qmp-cpu-server --target x86_64 --socket
       hostile_clients.py qemu-system-x86_64 -machine none -nodefaults -nographic -qmp-socket

Prints, per pattern, what the server accepted and its memory (VmRSS and
peak VmHWM from /proc) and CPU: a client flooding query-version (and
query-cpu-definitions) for 8 s without reading; 2,000 concurrent clients
each negotiating and asking query-version (not for QEMU, whose socket
serves one client at a time); one 100 MB string token.
"""
import os, socket, subprocess, sys, tempfile, threading, time

def status(pid, field):
    for l in open(f'/proc/{pid}/status'):
        if l.startswith(field + ':'):
            return int(l.split()[1]) // 1024
    return 0

def cpu(pid):
    f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')

def start(cmd):
    sock = os.path.join(tempfile.mkdtemp(), 'qmp.sock')
    if cmd[-1] == '-qmp-socket':
        cmd = cmd[:-1] + ['-qmp', f'unix:{sock},server=on,wait=off']
    else:
        cmd = cmd + [sock]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(sock):
            try:
                s = socket.socket(socket.AF_UNIX); s.connect(sock); s.close()
                return p, sock
            except OSError:
                pass
        time.sleep(0.05)
    raise SystemExit('no socket')

def client(sock):
    s = socket.socket(socket.AF_UNIX); s.connect(sock); f = s.makefile('rb')
    f.readline(); s.sendall(b'{"execute":"qmp_capabilities"}'); f.readline()
    return s, f

def flood(cmd, req, secs=8):
    p, sock = start(cmd)
    rss0 = status(p.pid, 'VmRSS')
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(b'{"execute":"qmp_capabilities"}'); s.settimeout(0.1)
    batch = req * 64; sent = 0; end = time.time() + secs
    while time.time() < end:
        try: sent += s.send(batch)
        except (socket.timeout, BlockingIOError): pass
    peak = status(p.pid, 'VmHWM'); s.close(); time.sleep(1)
    print(f'  flood {req.decode()}: {sent // len(req)} requests accepted in {secs} s; '
          f'RSS {rss0} -> peak {peak} MB, {status(p.pid, "VmRSS")} MB after it left')
    p.kill(); p.wait()

def many(cmd, n=2000):
    p, sock = start(cmd)
    t = time.time(); conns = []
    for _ in range(n):
        s, f = client(sock)
        s.sendall(b'{"execute":"query-version"}'); f.readline(); conns.append((s, f))
    dt = time.time() - t
    print(f'  {n} concurrent clients, each negotiating and answered query-version: {dt:.2f} s; '
          f'RSS {status(p.pid, "VmRSS")} MB (peak {status(p.pid, "VmHWM")} MB), CPU {cpu(p.pid):.2f} s')
    for s, f in conns: s.close()
    p.kill(); p.wait()

def huge(cmd):
    p, sock = start(cmd)
    s, f = client(sock)
    s.sendall(b'{"execute": "query-version", "arguments": {"x": "' + b'a' * (100 << 20) + b'"}}')
    r = f.readline()[:80]
    s.close(); t = time.time()
    while status(p.pid, 'VmRSS') > 64 and time.time() - t < 30: time.sleep(0.2)
    print(f'  100 MB string token: {r!r}; peak {status(p.pid, "VmHWM")} MB, '
          f'{status(p.pid, "VmRSS")} MB {time.time() - t:.1f} s after the client left')
    p.kill(); p.wait()

if __name__ == '__main__':
    cmd = sys.argv[1:]
    print(' '.join(cmd))
    flood(cmd, b'{"execute":"query-version"}')
    flood(cmd, b'{"execute":"query-cpu-definitions"}')
    # QEMU's socket chardev serves one client at a time: no 2,000 for it.
    if not cmd[-1] == '-qmp-socket':
        many(cmd)
    huge(cmd)
