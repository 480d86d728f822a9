#!/usr/bin/env python3
"""Small timing helpers for bench/bench.sh (Python 3 standard library only).

    bench_helper.py lookup ROOT COUNT [PID [SETTLE]]
                                               per-stat cost (microseconds) of
                                               COUNT os.stat calls on distinct
                                               top-level names of ROOT; with
                                               PID also the CPU milliseconds
                                               that process's threads spent
                                               meanwhile (schedstat);
                                               SETTLE: seconds to wait after
                                               listing ROOT (kernel caches)
    bench_helper.py reads SECONDS MAXN PATH... open+read+close each PATH in
                                               turn for at most SECONDS or
                                               MAXN reads; prints
                                               "p50_ms p99_ms max_ms n"
    bench_helper.py readers K PATH...          K threads released together by
                                               a barrier, thread i reads
                                               PATH[i % len]; prints the number
                                               of readers that failed
    bench_helper.py copytree SRC DST [top]     copy a mount's tree for baseline_fs
                                               (see cmd_copytree); prints
                                               "dirs files links bytes"
    bench_helper.py kernel SRCDIR TTL CCDIR    the driver's FUSE kernel cache
                                               settings for a cache_ttl=TTL
                                               mount, as baseline_fs -o
                                               options (see cmd_kernel)
    bench_helper.py loglat URL ID WSDIR N      live log latency: N lines appended
                                               through the emulator's admin API,
                                               one at a time, each timed until
                                               tail -f WSDIR/logs, a reader of
                                               WSDIR/logs.follow and a direct
                                               reader of the API stream (token
                                               from $BENCH_TOKEN) print it;
                                               prints "tail P50 P99 follow P50
                                               P99 direct P50 P99 lost" (ms)
    bench_helper.py stats FILE                 the "key value" lines of a
                                               .stats file, tolerant of any
                                               format, as key=value pairs
                                               (the request, cache and latency
                                               keys when present, else all)

Every loop is bounded by a count and, where it waits, by time.
"""
import os
import re
import stat
import subprocess
import sys
import threading
import time


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = (len(sorted_vals) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def cpu_ms(pid):
    """CPU time of a process's threads, ms, with nanosecond resolution
    (/proc/PID/task/*/schedstat; a thread that exits meanwhile takes its
    time with it, so this can undercount when threads come and go)."""
    total = 0
    tdir = "/proc/%s/task" % pid
    for tid in os.listdir(tdir):
        try:
            with open("%s/%s/schedstat" % (tdir, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e6


def cmd_lookup(root, count, pid=None, settle="0"):
    count = int(count)
    names = sorted(n for n in os.listdir(root) if not n.startswith("."))
    if not names:
        sys.exit("lookup: %s is empty" % root)
    # distinct names spread evenly over the listing; cycle if there are fewer
    if len(names) >= count:
        step = len(names) / count
        pick = [names[int(i * step)] for i in range(count)]
    else:
        pick = [names[i % len(names)] for i in range(count)]
    paths = [os.path.join(root, n) for n in pick]
    if float(settle) > 0:
        time.sleep(min(float(settle), 30.0) + 0.1)
    pid = pid or None
    c0 = cpu_ms(pid) if pid else 0.0
    t0 = time.perf_counter()
    for p in paths:
        os.stat(p)
    dt = time.perf_counter() - t0
    if pid:
        print("%.3f %.3f" % (dt / len(paths) * 1e6, cpu_ms(pid) - c0))
    else:
        print("%.3f" % (dt / len(paths) * 1e6))


def cmd_reads(seconds, maxn, paths):
    seconds, maxn = float(seconds), int(maxn)
    lat = []
    end = time.monotonic() + seconds
    i = 0
    while i < maxn and time.monotonic() < end:
        p = paths[i % len(paths)]
        t0 = time.perf_counter()
        with open(p, "rb") as f:
            while f.read(65536):
                pass
        lat.append((time.perf_counter() - t0) * 1000.0)
        i += 1
    lat.sort()
    print("%.4f %.4f %.4f %d" % (pct(lat, 50), pct(lat, 99), lat[-1] if lat else float("nan"),
                                 len(lat)))


def cmd_readers(k, paths):
    k = int(k)
    barrier = threading.Barrier(k, timeout=30)
    fails = []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            with open(paths[i % len(paths)], "rb") as f:
                data = f.read()
            if not data:
                raise OSError("empty read")
        except Exception as e:  # noqa: BLE001 - report any failure
            with lock:
                fails.append("%s: %s" % (paths[i % len(paths)], e))

    ts = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(k)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    for f in fails[:3]:
        sys.stderr.write("reader failed: %s\n" % f)
    print(len(fails) + sum(1 for t in ts if t.is_alive()))


STATS_KEYS = ("requests_total", "requests_list", "requests_describe", "cache_hits",
              "cache_misses", "cache_joins", "latency_p50_ms", "latency_p99_ms")


def _copy_attrs(st, d):
    os.chmod(d, stat.S_IMODE(st.st_mode))
    os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns))


def cmd_copytree(src, dst, mode="all"):
    """Copy SRC to DST for baseline_fs: every root entry; the children of
    root directories not starting with '.' (the workspaces); directories
    below that and root directories starting with '.' (.by-id, .templates,
    ...) are made empty. Regular files are copied byte for byte, except that
    a file whose stat size is 0 is not read (a workspace's logs file reports
    size 0 and fetches from the API when read; the sweep never reads it).
    Modes and mtimes are kept; symbolic links are copied as links. With
    mode "top" only the root entries are made (directories empty)."""
    counts = [0, 0, 0, 0]

    def entry(s, d, recurse):
        st = os.lstat(s)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(s), d)
            counts[2] += 1
            return
        if stat.S_ISDIR(st.st_mode):
            os.mkdir(d)
            if recurse:
                for name in os.listdir(s):
                    entry(os.path.join(s, name), os.path.join(d, name), False)
            _copy_attrs(st, d)
            counts[0] += 1
            return
        if not stat.S_ISREG(st.st_mode):
            return
        data = b""
        if st.st_size > 0:
            with open(s, "rb") as f:
                data = f.read()
            if len(data) != st.st_size:
                sys.stderr.write("copytree: %s: stat size %d, read %d bytes\n"
                                 % (s, st.st_size, len(data)))
        with open(d, "wb") as f:
            f.write(data)
        _copy_attrs(st, d)
        counts[1] += 1
        counts[3] += len(data)

    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        entry(os.path.join(src, name), os.path.join(dst, name),
              mode != "top" and not name.startswith("."))
    _copy_attrs(os.stat(src), dst)
    print("%d %d %d %d" % tuple(counts))


def _c_value(expr, ttl, ccdir):
    """Evaluate a C expression of the driver's options (o.cache_ttl, ...)
    by compiling it; None if it does not compile."""
    src = os.path.join(ccdir, "kexpr.c")
    exe = os.path.join(ccdir, "kexpr")
    with open(src, "w") as f:
        f.write("#include <stdio.h>\n"
                "struct opts { int cache_ttl, timeout, retries, max_stale, ro; };\n"
                "int main(void) { struct opts o = { %d, 30, 2, 300, 0 }; struct opts *op = &o;\n"
                "(void)op; printf(\"%%g\\n\", (double)(%s)); return 0; }\n"
                % (int(ttl), expr.replace("o->", "op->")))
    try:
        subprocess.run(["cc", "-w", "-o", exe, src], check=True, capture_output=True, timeout=60)
        out = subprocess.run([exe], check=True, capture_output=True, timeout=10).stdout
        return float(out)
    except (subprocess.SubprocessError, OSError, ValueError):
        return None


def cmd_kernel(srcdir, ttl, ccdir):
    """Read what the driver gives the kernel: src/main.c sets
    ctx.kernel_timeout (any C expression of the options, evaluated for
    cache_ttl=TTL), which src/fs.c uses as the entry and attribute timeout
    of every reply (fuse_entry_param, fuse_reply_attr); negative lookups are
    never cached; listing files are read through the page cache (fs_set_open
    turns direct_io off for versioned files). Prints baseline_fs options on
    stdout and how they were found on stderr; exits 1 when something could
    not be read."""
    try:
        fs_c = open(os.path.join(srcdir, "src", "fs.c")).read()
        main_c = open(os.path.join(srcdir, "src", "main.c")).read()
    except OSError as e:
        sys.stderr.write("cannot read the driver's source: %s\n" % e)
        sys.exit(1)
    kt = None
    m = re.findall(r"ctx\.kernel_timeout\s*=\s*([^;]+);", main_c)
    if m:
        kt = _c_value(m[-1], ttl, ccdir)
    ok = kt is not None and "e->entry_timeout = c->kernel_timeout" in fs_c
    notes = [] if ok else ["could not read the entry/attr timeouts"]
    kt = kt if kt is not None else 0.0
    dio = 0 if re.search(r"fi->direct_io\s*=\s*0\s*;", fs_c) else 1
    out = ["entry_timeout=%g" % kt, "attr_timeout=%g" % kt, "negative_timeout=0",
           "dio=%d" % dio]
    print(",".join(out))
    sys.stderr.write("read from %s/src for cache_ttl=%s: %s%s\n" % (
        srcdir, ttl, ", ".join(out), ("; " + "; ".join(notes)) if notes else ""))
    sys.exit(0 if ok else 1)


def cmd_stats(path):
    try:
        with open(path, "r", errors="replace") as f:
            text = f.read(1 << 20)
    except OSError as e:
        print("(no .stats: %s)" % (e.strerror or e))
        return
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out.append("%s=%s" % (parts[0].rstrip(":="), parts[1]))
        elif "=" in line:
            out.append(line.strip())
    if not out:
        print("(.stats is empty)")
        return
    keyed = [kv for kv in out if kv.split("=", 1)[0] in STATS_KEYS]
    print(" ".join(keyed or out))


def _lines_reader(f, seen, lock):
    """Note the arrival time of each line of binary stream f."""
    for raw in iter(f.readline, b""):
        t = time.monotonic()
        with lock:
            seen.setdefault(raw.decode("utf-8", "replace"), t)


def cmd_loglat(url, wid, wsdir, n):
    import http.client
    import json
    import random
    from urllib.parse import urlsplit
    n = int(n)
    u = urlsplit(url)
    lock = threading.Lock()
    seen = {"tail": {}, "follow": {}, "direct": {}}
    tail = subprocess.Popen(["tail", "-n", "0", "-f", os.path.join(wsdir, "logs")],
                            stdout=subprocess.PIPE)
    follow = open(os.path.join(wsdir, "logs.follow"), "rb", buffering=0)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", "/v1/workspace/%s/logs" % wid,
                 headers={"Authorization": "Bearer " + os.environ.get("BENCH_TOKEN", "")})
    resp = conn.getresponse()
    readers = [(tail.stdout, "tail"), (follow, "follow"), (resp, "direct")]
    threads = [threading.Thread(target=_lines_reader, args=(f, seen[k], lock), daemon=True)
               for f, k in readers]
    for t in threads:
        t.start()
    time.sleep(2.0)     # the history is read; tail has started polling
    admin = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    lat = {k: [] for k in seen}
    lost = 0
    for i in range(n):
        msg = "latency probe %d" % i
        body = json.dumps({"id": wid, "lines": [msg]})
        t0 = time.monotonic()
        admin.request("POST", "/_emulator/logs", body, {"Content-Type": "application/json"})
        admin.getresponse().read()
        deadline = t0 + 5.0
        got = {}
        while time.monotonic() < deadline and len(got) < len(seen):
            with lock:
                for k, d in seen.items():
                    for line, t in d.items():
                        # a text line ends with the message, a JSON
                        # line holds it as a string
                        if k not in got and (line.endswith(" " + msg + "\n") or
                                             '"%s"' % msg in line):
                            got[k] = t
            time.sleep(0.002)
        for k in seen:
            if k in got:
                lat[k].append((got[k] - t0) * 1000)
            else:
                lost += 1
        with lock:
            for d in seen.values():
                d.clear()
        time.sleep(random.uniform(0, 1.0))   # any phase of tail's 1 s polling
    tail.terminate()
    tail.wait()
    out = []
    for k in ("tail", "follow", "direct"):
        v = sorted(lat[k]) or [float("nan")]
        out += [k, "%.1f" % pct(v, 50), "%.1f" % pct(v, 99)]
    print(" ".join(out + ["lost", str(lost)]))
    os._exit(0)     # the follower and the stream block in reads


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "lookup" and len(args) in (2, 3, 4):
        cmd_lookup(*args)
    elif cmd == "reads" and len(args) >= 3:
        cmd_reads(args[0], args[1], args[2:])
    elif cmd == "readers" and len(args) >= 2:
        cmd_readers(args[0], args[1:])
    elif cmd == "copytree" and len(args) in (2, 3):
        cmd_copytree(*args)
    elif cmd == "kernel" and len(args) == 3:
        cmd_kernel(*args)
    elif cmd == "loglat" and len(args) == 4:
        cmd_loglat(*args)
    elif cmd == "stats" and len(args) == 1:
        cmd_stats(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
