#!/usr/bin/env bash
# Bad input, table-driven: every row of badinput.tsv (next to this file) is
# one hostile input with the result a user of this tool should get per the
# README (errno table, Names, Limits, Hostile API data): control and .ctl
# writes, spec.json contents and mkdir names, and API replies (workspace
# objects injected verbatim into the list, whole list / describe / logs /
# templates bodies). One emulator serves the whole table; before each API
# case it is restored to its start state (POST /_emulator/restore) and the
# mount drops what it cached (`refresh` to .ctl), so every case starts from
# the same data. The mount is shared by the cases with the same mount
# options, and mounted again if a case left it dead. See the header of
# badinput.tsv for the columns and the checks.
#
# Besides each row's own checks, after every case: the daemon is alive and
# the mount answers sanely (the root lists without a name twice,
# .workspaces.tsv is a clean table, .by-id holds only UUIDs, .templates no
# name twice); no API request path the emulator received during the case
# (it records them on receipt: GET /_emulator/requests) may be anything
# but a known endpoint with a UUID for an id; every mount must end with a
# clean daemon exit.
#
#   BADINPUT_ONLY=REGEX   run only the rows whose "kind/name" matches REGEX
#   BADINPUT_TSV=FILE     another table
source "$(dirname "$0")/lib.sh"

# the warnings and errors the table provokes on purpose (see finish)
log_expect \
	"$LOG_E"'listing workspaces: API list reply has no "workspaces" array$' \
	"$LOG_E"'\.ctl: unknown command \(known: refresh, refresh NAME\)$' \
	"$LOG_E"'(listing workspaces|refreshing train-llama|templates): API reply is not valid JSON \(.+ at offset [0-9]+\)$' \
	"$LOG_E"'templates: API templates reply has no "workspace_templates" array$' \
	"$LOG_E"'refreshing train-llama: API describe reply unusable: not an object$' \
	"$LOG_E"'refreshing train-llama: the API answered a describe with another workspace'"'"'s id$' \
	"$LOG_E"'(logs of|rmdir|workspace|refreshing) .*: workspace id from the API is not a UUID; refusing to use it in a URL$' \
	"$LOG_E"'workspace '"$LOG_UUID"': control: (more than 16 commands in one write|no command given \(known: start, stop\)|a NUL byte at offset [0-9]+ \(commands are text, one a line: start, stop\)|write of [0-9]+ bytes is over the 4096-byte limit|unknown command ".*" \(known: start, stop\))$' \
	"$LOG_E"'workspace '"$LOG_UUID"': stop failed: HTTP 409: Workspace is already stopped$' \
	"$LOG_E"'mkdir .*: not a workspace name in its encoded form$' \
	"$LOG_E"'draft sp-[a-z0-9-]+: (spec\.json: .+|spec\.json must be one JSON object, starting with .+|spec\.json is not valid JSON: .+ \(line [0-9]+, column [0-9]+\)|create failed: HTTP 400: Field '"'"'.+'"'"' must be .+)$' \
	"$LOG_W"'API reply held invalid UTF-8, NUL or control characters; replaced$' \
	"$LOG_W"'API reply holds numbers too large to hold; shown as strings$' \
	"$LOG_W"'list entry [0-9]+ skipped: (no string id|no string name|not an object)$' \
	"$LOG_W"'list holds workspace id '"$LOG_UUID"' twice; later copy skipped$' \
	"$LOG_W"'logs of '"$LOG_UUID"': [0-9]+ unreadable lines skipped$' \
	"$LOG_W"'template [0-9]+ skipped: (a repeated name or control characters in it|no usable name)$' \
	"$LOG_W"'workspace '"$LOG_UUID"': workspace_status is not a plain word; shown as UNKNOWN$'

TSV=${BADINPUT_TSV:-$ROOT/tests/integration/badinput.tsv}
ONLY=${BADINPUT_ONLY:-}
CTL_WS=notebook-a100		# a STOPPED demo workspace
LOG_WS=train-llama		# a RUNNING one, for the logs file
DESC_WS=train-llama		# a RUNNING one, stopped to make it described
MNT_OPTS=cache_ttl=0,max_stale=0

# ---- the helper: evaluates inputs, performs byte-exact operations, checks --
cat >"$T_DIR/bi.py" <<'PY'
import errno, json, os, re, sys, urllib.error, urllib.request, uuid

DEL = object()
U1 = "0badc0de-0000-4000-8000-000000000001"
U2 = "0badc0de-0000-4000-8000-000000000002"
U3 = "0badc0de-0000-4000-8000-000000000003"
F1 = "0badf00d-0000-4000-8000-000000000001"
TL = "4b3f0c8e-1d2a-4f5b-9c6d-7e8f9a0b1c01"     # the demo's train-llama
SAMPLE = 24     # links followed per directory by the invariants


def sampled(n):
    """SAMPLE indexes spread evenly over range(n), the first and last among them."""
    if n <= SAMPLE:
        return set(range(n))
    return set(round(k * (n - 1) / (SAMPLE - 1)) for k in range(SAMPLE))
UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def requests_since(url, since):
    """The API request lines ("METHOD /path?query") the emulator received
    after the first `since`; it records them before answering, so every
    request whose reply has arrived is there."""
    with urllib.request.urlopen("%s/_emulator/requests?since=%d" % (url, int(since)),
                                timeout=30) as r:
        return json.load(r)["requests"]


def ename(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def to_bytes(v):
    if isinstance(v, bytes):
        return v
    return v.encode("utf-8", "surrogatepass")


def unesc(s):
    """\\xHH escapes in a check's argument -> bytes; other backslashes stay
    (so regex escapes such as \\. keep working)."""
    b = s.encode("utf-8")
    return re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), b)


def env(name, cluster):
    def override(o, kw):
        for k, v in kw.items():
            if v is DEL:
                o.pop(k, None)
            else:
                o[k] = v
        return o

    def spec(**kw):
        o = {"name": name, "cluster_id": cluster,
             "template": {"name": "jupyter-notebook", "variables": {"notebook_port": "8888"}},
             "resources": {"gpu_count": 1, "gpu_type": "A100", "gpu_vendor": "NVIDIA",
                           "cpu_cores": 4, "memory_gb": 16, "storage_gb": 100},
             "description": ""}
        return json.dumps(override(o, kw)) + "\n"

    def ws(**kw):
        o = {"id": str(uuid.uuid4()), "name": "bi-x", "cluster_id": cluster,
             "workspace_status": "RUNNING",
             "template": {"name": "jupyter-notebook", "description": "", "variables": {}},
             "owner": "auth0|badinput", "owner_username": "bi@example.com",
             "description": "", "access_information": [],
             "resources": {"gpu_count": 1, "gpu_memory": 80, "cpu_cores": 16,
                           "memory_gb": 128, "storage_gb": 500,
                           "gpu_vendor": "NVIDIA", "gpu_type": "A100"},
             "created_at": "2026-03-01T00:00:00Z"}
        return override(o, kw)

    def listtext(*items):
        return json.dumps({"workspaces": list(items), "total": len(items)},
                          ensure_ascii=False)

    def deep(n):
        v = 0
        for _ in range(n):
            v = [v]
        return v

    def pad(text, n):
        text = text.rstrip("\n")
        return text + " " * (n - len(text.encode("utf-8")) - 1) + "\n"

    def ndjson(*objs):
        return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)

    def tpls(*items):
        return json.dumps({"workspace_templates": list(items), "total": len(items)},
                          ensure_ascii=False)

    return {"json": json, "DEL": DEL, "U1": U1, "U2": U2, "U3": U3, "F1": F1, "TL": TL,
            "NAME": name, "CLUSTER": cluster, "spec": spec, "ws": ws,
            "listtext": listtext, "deep": deep, "pad": pad, "ndjson": ndjson,
            "tpls": tpls, "JUPYTER": {"name": "jupyter-notebook",
                                       "variables": {"notebook_port": "8888"}}}


RAW_ENDPOINTS = {
    "rawlist": ("list_workspaces", "application/json"),
    "rawdescribe": ("describe_workspace", "application/json"),
    "rawlogs": ("get_workspace_logs", "application/x-ndjson"),
    "rawtemplates": ("list_workspace_templates", "application/json"),
}


def cmd_eval(kind, name, cluster, expr, out):
    v = eval(expr, env(name, cluster))
    if kind == "inject":
        data = json.dumps(v, ensure_ascii=True).encode("ascii")
    elif kind in RAW_ENDPOINTS:
        ep, ctype = RAW_ENDPOINTS[kind]
        data = json.dumps({"status": 200, "body": v, "content_type": ctype,
                           "endpoint": ep, "count": -1},
                          ensure_ascii=True).encode("ascii")
    else:
        data = to_bytes(v)
    with open(out, "wb") as f:
        f.write(data)


def do_write(path, data):
    """open(O_WRONLY|O_TRUNC), write everything (as cp does), close."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    except OSError as e:
        return ename(e) + "@open"
    try:
        off = 0
        while off < len(data):
            n = os.write(fd, data[off:])
            if n <= 0:
                raise OSError(errno.EIO, "short write")
            off += n
    except OSError as e:
        try:
            os.close(fd)
        except OSError:
            pass
        return ename(e) + "@write"
    try:
        os.close(fd)
    except OSError as e:
        return ename(e) + "@close"
    return "OK"


def do_read(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        return ename(e) + "@open", None
    data = b""
    try:
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            data += b
    except OSError as e:
        os.close(fd)
        return ename(e) + "@read", None
    os.close(fd)
    return "OK", data


def fs(p):
    return os.fsencode(p)


def cmd_write(path, datafile):
    print(do_write(fs(path), open(datafile, "rb").read()))


def cmd_dirop(op, mnt, namefile):
    path = fs(mnt) + b"/" + open(namefile, "rb").read()
    try:
        (os.mkdir if op == "mkdir" else os.rmdir)(path)
        print("OK")
    except OSError as e:
        print(ename(e) + "@" + op)


def cmd_skeleton(mnt, namefile):
    """A fresh draft's spec.json is JSON carrying the decoded name."""
    dirname = open(namefile, "rb").read()
    rc, data = do_read(fs(mnt) + b"/" + dirname + b"/spec.json")
    if rc != "OK":
        print("reading spec.json: " + rc)
        return
    try:
        obj = json.loads(data.decode("utf-8"))
    except ValueError as e:
        print("spec.json is not JSON: %s" % e)
        return
    want = re.sub(rb"%([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), dirname)
    got = obj.get("name") if isinstance(obj, dict) else None
    if not isinstance(got, str) or got.encode("utf-8", "surrogatepass") != want:
        print("skeleton name %r, want %r" % (got, want))
        return
    print("OK")


def cmd_listdir(mnt, out):
    try:
        names = os.listdir(fs(mnt))
    except OSError as e:
        print(ename(e))
        return
    with open(out, "w") as f:
        json.dump([n.decode("latin-1") for n in names], f)
    print("OK")


def cmd_check(mnt, basefile, subject0, emuurl, since, *tokens):
    """One line per token: 'ok TOKEN' or 'fail TOKEN: why'."""
    m = fs(mnt)
    base = set(n.encode("latin-1") for n in json.load(open(basefile)))
    try:
        names = os.listdir(m)
        lerr = None
    except OSError as e:
        names, lerr = [], ename(e)
    new = [n for n in names if n not in base]
    subject = subject0.encode() if subject0 != "-" else None
    given = subject is not None
    listed_seen = []

    def res(tok, why=None):
        shown = tok if len(tok) <= 120 else tok[:117] + "..."
        print("ok " + shown if why is None else "fail %s: %s" % (shown, why))

    def listed_ok(n):
        try:
            os.stat(m + b"/" + n)
        except OSError as e:
            return "stat: " + ename(e)
        rc, data = do_read(m + b"/" + n + b"/status.json")
        if rc != "OK":
            return "status.json: " + rc
        try:
            json.loads(data.decode("utf-8"))
        except ValueError as e:
            return "status.json is not JSON: %s" % e
        return None

    for tok in tokens:
        kind, _, arg = tok.partition(":")
        if tok.startswith("listed~"):
            rx = re.compile(unesc(tok[len("listed~"):]).decode("latin-1"), re.S)
            hits = [n for n in new if rx.search(n.decode("latin-1"))]
            if lerr:
                res(tok, "ls fails with " + lerr)
            elif len(hits) != 1:
                res(tok, "%d new names match; new names: %r" % (len(hits), new[:5]))
            else:
                subject = hits[0] if not given and not listed_seen else subject
                listed_seen.append(hits[0])
                res(tok, listed_ok(hits[0]))
        elif tok.startswith("logs~"):
            rx = re.compile(unesc(tok[len("logs~"):]).decode("latin-1"), re.M)
            rc, data = do_read(m + b"/" + (subject or b"?") + b"/logs")
            if rc != "OK":
                res(tok, "reading logs: " + rc)
            else:
                text = data.decode("latin-1")
                res(tok, None if rx.search(text) else "logs are %r" % text[:300])
        elif kind == "loglines":
            rc, data = do_read(m + b"/" + (subject or b"?") + b"/logs")
            got = len(data.splitlines()) if data is not None else rc
            res(tok, None if str(got) == arg else "%s lines" % got)
        elif kind == "tpls":
            try:
                got = sorted(os.listdir(m + b"/.templates"))
                res(tok, None if len(got) == int(arg) else "templates %r" % got[:8])
            except OSError as e:
                res(tok, "ls .templates: " + ename(e))
        elif kind == "tpl":
            rc, data = do_read(m + b"/.templates/" + unesc(arg))
            try:
                ok = rc == "OK" and isinstance(json.loads(data.decode("utf-8")), dict)
            except ValueError:
                ok = False
            res(tok, None if ok else "reading it: %s %r" % (rc, (data or b"")[:100]))
        elif kind == "skeleton":
            d = m + b"/bi-skeleton-draft"
            try:
                os.mkdir(d)
            except OSError as e:
                res(tok, "mkdir: " + ename(e))
                continue
            rc, data = do_read(d + b"/spec.json")
            try:
                obj = json.loads(data.decode("utf-8")) if rc == "OK" else None
            except ValueError:
                obj = None
            ok = (isinstance(obj, dict) and obj.get("name") == "bi-skeleton-draft"
                  and isinstance(obj.get("template"), dict)
                  and isinstance(obj["template"].get("name"), str)
                  and obj["template"]["name"] != "")
            if arg and arg != "OK" and ok:
                ok = obj["template"]["name"] == arg
            res(tok, None if ok else "spec.json %s %r" % (rc, (data or b"")[:200]))
            try:
                os.rmdir(d)
            except OSError:
                pass
        elif tok.startswith("access1~"):
            rx = re.compile(unesc(tok[len("access1~"):]).decode("latin-1"))
            rc, data = do_read(m + b"/" + (subject or b"?") + b"/access")
            first = data.split(b"\n")[0].decode("latin-1") if data is not None else ""
            if rc != "OK":
                res(tok, "reading access: " + rc)
            else:
                res(tok, None if rx.search(first) else "first line %r" % first)
        elif kind == "listed":
            n = unesc(arg)
            if lerr:
                res(tok, "ls fails with " + lerr)
            elif n not in names:
                res(tok, "not listed; new names: %r" % new[:5])
            else:
                subject = n if not given and not listed_seen else subject
                listed_seen.append(n)
                res(tok, listed_ok(n))
        elif kind == "skipped":
            res(tok, None if not new and not lerr else "new entries %r %s" % (new[:5], lerr or ""))
        elif kind == "count":
            res(tok, None if len(new) == int(arg) else "%d new entries" % len(new))
        elif kind == "ls":
            res(tok, None if lerr == arg or (arg == "OK" and lerr is None) else "ls gives %s" % (lerr or "OK"))
        elif kind == "cat":
            f, _, want = arg.partition("=")
            rc, data = do_read(m + b"/" + (subject or b"?") + b"/" + f.encode())
            got = data.rstrip(b"\n") if data is not None else None
            res(tok, None if rc == "OK" and got == unesc(want) else "%s %r" % (rc, got))
        elif kind == "read":
            f, _, want = arg.partition(":")
            rc, data = do_read(m + b"/" + (subject or b"?") + b"/" + f.encode())
            res(tok, None if rc == want else "got " + rc)
        elif kind == "control":
            got = do_write(m + b"/" + (subject or b"?") + b"/control", b"stop\n")
            res(tok, None if got == arg else "got " + got)
        elif kind == "rmdir":
            try:
                os.rmdir(m + b"/" + (subject or b"?"))
                got = "OK"
            except OSError as e:
                got = ename(e) + "@rmdir"
            res(tok, None if got == arg else "got " + got)
        elif kind == "never":
            # no API request the emulator received since the case began names it
            hits = [l for l in requests_since(emuurl, since)
                    if unesc(arg) in l.encode("latin-1")]
            res(tok, None if not hits else "sent: %s" % hits[0][:160])
        elif kind == "mtime":
            try:
                got = int(os.stat(m + b"/" + (subject or b"?")).st_mtime)
            except OSError as e:
                got = ename(e)
            res(tok, None if str(got) == arg else "mtime %s" % got)
        else:
            res(tok, "unknown check")


def cmd_invariants(mnt):
    """What must hold whatever the API sent: the root lists, without a
    name twice; .workspaces.tsv is a clean 7-column table naming listed
    directories; .by-id holds UUIDs only, each a link to the directory of
    the workspace with that id; .by-cluster holds UUIDs, each with links to
    listed directories; .templates holds no name twice."""
    m = fs(mnt)
    bad = []
    try:
        names = os.listdir(m)
    except OSError as e:
        print("ls of the root: " + ename(e))
        return
    dup = sorted(set(n for n in names if names.count(n) > 1))
    if dup:
        bad.append("root lists twice: %r" % dup[:3])
    tsv_id = {}     # name -> id, from .workspaces.tsv
    rc, data = do_read(m + b"/.workspaces.tsv")
    if rc != "OK":
        bad.append(".workspaces.tsv: " + rc)
    else:
        rows = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
        if rows and rows[0].startswith(b"name\tid\t"):
            rows = rows[1:]     # the header line
        for ln in rows:
            f = ln.split(b"\t")
            if len(f) != 7 or any(c < 0x20 and c != 9 for c in ln) or b"\x7f" in ln:
                bad.append(".workspaces.tsv line %r" % ln[:80])
                break
            if f[0] not in names:
                bad.append(".workspaces.tsv names %r, not listed" % f[0][:80])
                break
            tsv_id[f[0]] = f[1]
    try:
        ids = os.listdir(m + b"/.by-id")
        if any(not UUID_RE.match(i.decode("latin-1")) for i in ids) or len(set(ids)) != len(ids):
            bad.append(".by-id holds %r" % ids[:3])
        # each link leads to the directory of that very workspace (reading
        # it may fail while a bad reply about it is served; showing another
        # id may not). At cache_ttl=0 every readlink and open asks the API,
        # so 300 links cost half a minute: SAMPLE links spread over the
        # directory are followed and their id read; every id must be a
        # listed name's id in .workspaces.tsv.
        by_tsv = {v.lower(): k for k, v in tsv_id.items()}
        follow = sampled(len(ids))
        for k, i in enumerate(ids):
            if k in follow:
                t = os.readlink(m + b"/.by-id/" + i)
                rc, data = do_read(m + b"/.by-id/" + i + b"/id")
                ok = t.startswith(b"../") and t[3:] in names and \
                    (rc != "OK" or data.strip().lower() == i.lower())
            else:
                t, data = b"(not followed)", b"-"
                ok = tsv_id and by_tsv.get(i.lower()) in names
            if not ok:
                bad.append(".by-id/%s -> %r holds id %r" % (i.decode(), t[:80], data))
                break
    except OSError as e:
        bad.append(".by-id: " + ename(e))
    try:
        cls = os.listdir(m + b"/.by-cluster")
        if len(set(c.lower() for c in cls)) != len(cls):
            bad.append(".by-cluster lists a cluster twice: %r" % sorted(cls)[:4])
        for cl in cls:
            if not UUID_RE.match(cl.decode("latin-1")):
                bad.append(".by-cluster holds %r" % cl[:80])
                break
            es = os.listdir(m + b"/.by-cluster/" + cl)
            follow = sampled(len(es))
            for k, e in enumerate(es):
                t = os.readlink(m + b"/.by-cluster/" + cl + b"/" + e) if k in follow \
                    else b"../../" + e
                if t != b"../../" + e or e not in names:
                    bad.append(".by-cluster/%s/%r -> %r" % (cl.decode(), e[:80], t[:80]))
                    break
    except OSError as e:
        bad.append(".by-cluster: " + ename(e))
    try:
        t = os.listdir(m + b"/.templates")
        if len(set(t)) != len(t):
            bad.append(".templates lists twice: %r" % sorted(set(x for x in t if t.count(x) > 1))[:3])
    except OSError:
        pass    # the templates reply itself may be the bad input
    print("OK" if not bad else "; ".join(bad))


def cmd_uuidpaths(emuurl, since):
    """API request lines whose path is not one the driver may send: the list,
    the templates, or /v1/workspace/{UUID}[/start|/stop|/logs]. (A non-UUID
    id such as ../../x could also surface as a normalised path elsewhere.)"""
    ok = re.compile(r"\A/v1/(workspaces|management/workspace-templates|"
                    r"workspace/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(/start|/stop|/logs)?)\Z")
    bad = []
    for line in requests_since(emuurl, since):
        path = line.partition(" ")[2].split("?")[0]
        if not ok.match(path):
            bad.append(path)
    print("OK" if not bad else "unexpected request paths: %r" % bad[:3])


def admin(url, method, path, data=None):
    """One call of the emulator's admin API; the decoded JSON reply."""
    req = urllib.request.Request("%s/_emulator/%s" % (url, path), data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return {"error": e.code, "body": e.read()[:200].decode("latin-1")}


def cmd_emu(url, what, *args):
    """The emulator's admin API: reset (counts), clear (faults), restore,
    next (index of the next request), sent OPS... (sum of their counts),
    post PATH FILE (prints OK if the emulator took it)."""
    if what in ("reset", "restore"):
        out = admin(url, "POST", what, b"")
        print("OK" if "error" not in out else out)
    elif what == "clear":
        out = admin(url, "DELETE", "faults")
        print("OK" if out.get("ok") else out)
    elif what == "next":
        print(admin(url, "GET", "requests?since=999999999")["next"])
    elif what == "sent":
        counts = admin(url, "GET", "counts")
        print(sum(counts[op] for op in args))
    elif what == "post":
        out = admin(url, "POST", args[0], open(args[1], "rb").read())
        print("OK" if out.get("ok") is True else json.dumps(out)[:200])
    else:
        raise ValueError("unknown emu command " + what)


OPS = {
    "eval": lambda a: cmd_eval(*a[0:5]),
    "write": lambda a: cmd_write(a[0], a[1]),
    "mkdir": lambda a: cmd_dirop("mkdir", a[0], a[1]),
    "rmdir": lambda a: cmd_dirop("rmdir", a[0], a[1]),
    "skeleton": lambda a: cmd_skeleton(a[0], a[1]),
    "listdir": lambda a: cmd_listdir(a[0], a[1]),
    "check": lambda a: cmd_check(a[0], a[1], *a[2:]),
    "invariants": lambda a: cmd_invariants(a[0]),
    "uuidpaths": lambda a: cmd_uuidpaths(a[0], a[1]),
    "emu": lambda a: cmd_emu(*a),
}


def serve():
    """Runs ops for the suite without a Python start each (a start costs
    50-300 ms here, and a run makes over a thousand calls). A request on
    stdin is the argument count, then the arguments, each ended by a NUL;
    the op's output follows on stdout, then a line "\x04 RC"."""
    inp = sys.stdin.buffer
    buf = b""

    def field():
        nonlocal buf
        while b"\0" not in buf:
            more = os.read(inp.fileno(), 65536)
            if not more:
                raise EOFError
            buf += more
        f, _, buf = buf.partition(b"\0")
        return os.fsdecode(f)

    while True:
        try:
            n = int(field())
            a = [field() for _ in range(n)]
        except EOFError:
            return
        rc = 0
        try:
            OPS[a[0]](a[1:])
        except Exception:
            import traceback
            traceback.print_exc()
            rc = 1
        sys.stdout.write("\x04 %d\n" % rc)
        sys.stdout.flush()


if sys.argv[1:] == ["serve"]:
    serve()
else:
    OPS[sys.argv[1]](sys.argv[2:])
PY

# ---- shared steps ------------------------------------------------------------

# BI OP ARGS...: one op of the helper, run by one long-lived helper process
# (see serve() in bi.py); prints the op's output, fails if the op failed.
mkfifo "$T_DIR/bi.req" "$T_DIR/bi.rsp" || exit 1
"$PY" "$T_DIR/bi.py" serve <"$T_DIR/bi.req" >"$T_DIR/bi.rsp" &
BI_PID=$!
exec 7>"$T_DIR/bi.req" 8<"$T_DIR/bi.rsp"
# (killed, not waited for: the emulator and daemon started later inherit
# the FIFOs, so the helper sees no end of input while they run)
ON_EXIT+=('exec 7>&- 8<&-; kill $BI_PID 2>/dev/null; wait $BI_PID 2>/dev/null')
bi() {
	local line
	{ printf '%d\0' $#; printf '%s\0' "$@"; } >&7 || return 1
	while IFS= read -r line <&8; do
		case $line in
		$'\x04 '*) return "${line#$'\x04 '}" ;;
		esac
		printf '%s\n' "$line"
	done
	echo "# the helper process is gone"
	return 1
}
BI=bi

# emu_logged_start: an emulator that also logs every request line to
# emu.log, for the diagnosis of a failure (lib.sh starts it with --quiet;
# its config API turns the lines back on before any request reaches the API)
emu_logged_start() {
	emu_start --demo --pending-delay 0.2 || return 1
	emu_admin POST config '{"quiet": false}' >/dev/null
}

# alive CASE: the daemon still runs and the mount answers sanely; a failure
# is reported (once) and returns 1.
alive() {
	local c=$1 r
	if ! kill -0 "$EXFS_PID" 2>/dev/null; then
		fail "$c: daemon alive"
		return 1
	fi
	r=$($BI invariants "$MNT")
	if [ "$r" != OK ]; then
		fail "$c: the mount still answers sanely ($r)"
		return 1
	fi
	return 0
}

# sent_calls OPS...: sum of the emulator's counts for these operations
sent_calls() {
	$BI emu "$EMU_URL" sent "$@"
}

# check_result CASE GOT EXPECTED OPS...: the first word of EXPECTED is the
# result; "sent=N" words compare with the calls to OPS since the last reset.
check_result() {
	local c=$1 got=$2 exp=$3 word want ok=1 why=
	shift 3
	for word in $exp; do
		case $word in
		sent=*)
			want=${word#sent=}
			local n
			n=$(sent_calls "$@")
			[ "$n" = "$want" ] || { ok=0; why="$why; $n API calls, want $want"; }
			;;
		*)
			[ "$got" = "$word" ] || { ok=0; why="$why; got $got, want $word"; }
			;;
		esac
	done
	if [ $ok = 1 ]; then pass "$c: $exp"; else fail "$c:${why#;}"; fi
}

run_control() {
	local c=$1 input=$2 exp=$3 got
	$BI eval control "" "$CLUSTER" "$input" "$T_DIR/in" || { fail "$c: bad input expression"; return; }
	$BI emu "$EMU_URL" reset >/dev/null
	got=$($BI write "$MNT/$CTL_WS/control" "$T_DIR/in")
	check_result "$c" "$got" "$exp" start_workspace stop_workspace
	[ "$(cat "$MNT/$CTL_WS/status" 2>/dev/null)" = STOPPED ] ||
		api POST "/workspace/$CTL_ID/stop" >/dev/null	# back to the start state
	alive "$c"
}

run_dotctl() {
	local c=$1 input=$2 exp=$3 got
	$BI eval dotctl "" "$CLUSTER" "$input" "$T_DIR/in" || { fail "$c: bad input expression"; return; }
	$BI emu "$EMU_URL" reset >/dev/null
	got=$($BI write "$MNT/.ctl" "$T_DIR/in")
	check_result "$c" "$got" "$exp" start_workspace stop_workspace create_workspace delete_workspace
	alive "$c"
}

run_spec() {
	local c=$1 input=$2 exp=$3 name="sp-${1#spec/}" got
	$BI eval spec "$name" "$CLUSTER" "$input" "$T_DIR/in" || { fail "$c: bad input expression"; return; }
	if ! mkdir "$MNT/$name" 2>/dev/null; then
		fail "$c: mkdir $name for the draft"
		return
	fi
	$BI emu "$EMU_URL" reset >/dev/null
	got=$($BI write "$MNT/$name/spec.json" "$T_DIR/in")
	check_result "$c" "$got" "$exp" create_workspace
	if [ "$got" != OK ]; then
		# README: on any failure the draft stays, and error says why
		if [ ! -d "$MNT/$name" ] || [ ! -s "$MNT/$name/error" ]; then
			fail "$c: the draft stays with a non-empty error file"
		fi
		rmdir "$MNT/$name" 2>/dev/null
	fi
	alive "$c"
}

run_mkdir() {
	local c=$1 input=$2 exp=$3 got r
	$BI eval mkdir "" "$CLUSTER" "$input" "$T_DIR/in" || { fail "$c: bad input expression"; return; }
	$BI emu "$EMU_URL" reset >/dev/null
	got=$($BI mkdir "$MNT" "$T_DIR/in")
	check_result "$c" "$got" "$exp" create_workspace
	if [ "$got" = OK ]; then
		r=$($BI skeleton "$MNT" "$T_DIR/in")
		[ "$r" = OK ] || fail "$c: skeleton spec.json of the draft: $r"
		r=$($BI rmdir "$MNT" "$T_DIR/in")
		[ "$r" = OK ] || fail "$c: rmdir of the draft: $r"
	fi
	alive "$c"
}

# emu_next: the index of the next API request the emulator will receive
emu_next() { $BI emu "$EMU_URL" next; }

# api_setup CASE OPTS: the emulator back at its start state and a mount with
# OPTS that holds nothing of the previous case: the mount of the previous
# case if it has these options and is alive (told to drop its caches),
# else a new one. The daemon of a mount given up must have exited cleanly.
API_OPTS=
api_setup() {
	local c=$1 opts=$2 r
	if [ -n "$EXFS_PID" ] && ! kill -0 "$EXFS_PID" 2>/dev/null; then
		# already reported by alive(); unmount the dead mount
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"
		wait "$EXFS_PID" 2>/dev/null
		EXFS_PID=
	fi
	if [ -n "$EXFS_PID" ] && [ "$opts" != "$API_OPTS" ]; then
		mnt_stop || fail "mount -o $API_OPTS: daemon exited cleanly"
	fi
	r=$($BI emu "$EMU_URL" restore)
	[ "$r" = OK ] || { fail "$c: emulator restore ($r)"; return 1; }
	if [ -z "$EXFS_PID" ]; then
		mnt_start -o "$opts" || { fail "$c: mount"; return 1; }
		API_OPTS=$opts
	elif ! printf 'refresh\n' >"$MNT/.ctl"; then
		fail "$c: refresh of the shared mount"
		return 1
	fi
}

# run_api KIND CASE INPUT EXPECTED: the hostile data in place on a restored
# emulator (see api_setup), the checks, then the global invariants.
run_api() {
	local kind=$1 c=$2 input=$3 exp=$4 line0 r out opts=$MNT_OPTS subject=- admin=faults
	case $kind in
	inject) admin=workspaces ;;
	rawlogs) subject=$LOG_WS ;;
	# a describe is only asked for when a cached listing exists
	rawdescribe) subject=$DESC_WS; opts=cache_ttl=60,max_stale=0 ;;
	esac
	api_setup "$c" "$opts" || return
	r=$($BI listdir "$MNT" "$T_DIR/base.json")
	[ "$r" = OK ] || fail "$c: baseline listing ($r)"
	if ! $BI eval "$kind" "" "$CLUSTER" "$input" "$T_DIR/in"; then
		fail "$c: bad input expression"
		return
	fi
	line0=$(emu_next)
	out=$($BI emu "$EMU_URL" post "$admin" "$T_DIR/in")
	if [ "$out" != OK ]; then
		fail "$c: the emulator took the input ($out)"
		return
	fi
	if [ "$kind" = rawdescribe ]; then
		# a command makes the next read of it ask GET /workspace/{id}
		$BI emu "$EMU_URL" reset >/dev/null
		printf 'stop\n' >"$T_DIR/stop"
		r=$($BI write "$MNT/$DESC_WS/control" "$T_DIR/stop")
		[ "$r" = OK ] || fail "$c: stop of $DESC_WS before the describe ($r)"
	fi
	# shellcheck disable=SC2086
	while read -r verdict rest; do
		if [ "$verdict" = ok ]; then pass "$c: $rest"; else fail "$c: $rest"; fi
	done < <($BI check "$MNT" "$T_DIR/base.json" "$subject" "$EMU_URL" "$line0" $exp)
	if [ "$kind" = rawdescribe ] && [ "$($BI emu "$EMU_URL" sent describe_workspace)" = 0 ]; then
		fail "$c: the hostile describe reply was never asked for"
	fi
	case $kind in
	inject) alive "$c" && pass "$c: mount alive and sane" ;;
	rawlist) $BI emu "$EMU_URL" clear >/dev/null; alive "$c" && pass "$c: mount alive and sane once the reply is withdrawn" ;;
	*)	# the root lists from good data: all must be sane while
		# the bad reply is still served, and after
		alive "$c" && pass "$c: mount alive and sane"
		$BI emu "$EMU_URL" clear >/dev/null
		alive "$c" && pass "$c: and once the reply is withdrawn" ;;
	esac
	r=$($BI uuidpaths "$EMU_URL" "$line0")
	[ "$r" = OK ] || fail "$c: $r"
}

# ---- the table -----------------------------------------------------------------

declare -a K N I E
while IFS=$'\t' read -r kind name input expected || [ -n "$kind" ]; do
	case $kind in ''|'#'*) continue ;; esac
	if [ -n "$ONLY" ] && ! [[ "$kind/$name" =~ $ONLY ]]; then continue; fi
	K+=("$kind"); N+=("$kind/$name"); I+=("$input"); E+=("$expected")
done <"$TSV"
echo "# ${#K[@]} cases from $(basename "$TSV")"

emu_logged_start || exit 1
# the cluster of the demo's first workspace (restore keeps the demo data)
CLUSTER=$(api GET /workspaces | jq -r '.workspaces[0].cluster_id')

# control, .ctl, spec and mkdir rows share one mount
need_fs=0
for k in "${K[@]}"; do case $k in control|dotctl|spec|mkdir) need_fs=1 ;; esac; done
if [ $need_fs = 1 ]; then
	mnt_start -o "$MNT_OPTS" || exit 1
	CTL_ID=$(cat "$MNT/$CTL_WS/id")
	expect "the control target starts STOPPED" "$(cat "$MNT/$CTL_WS/status")" STOPPED
	expect "the emulator records request lines" \
		"$(emu_admin GET requests | jq -r '.requests | map(select(startswith("GET /v1/workspaces"))) | length > 0')" true
	for i in "${!K[@]}"; do
		case ${K[$i]} in
		control) run_control "${N[$i]}" "${I[$i]}" "${E[$i]}" ;;
		dotctl) run_dotctl "${N[$i]}" "${I[$i]}" "${E[$i]}" ;;
		spec) run_spec "${N[$i]}" "${I[$i]}" "${E[$i]}" ;;
		mkdir) run_mkdir "${N[$i]}" "${I[$i]}" "${E[$i]}" ;;
		esac
	done
	r=$($BI uuidpaths "$EMU_URL" 0)
	expect "every API request path is a known one (ids are UUIDs)" "$r" OK
	mnt_stop
	check "daemon exited cleanly" test $? -eq 0
fi

for i in "${!K[@]}"; do
	case ${K[$i]} in
	inject|raw*) run_api "${K[$i]}" "${N[$i]}" "${I[$i]}" "${E[$i]}" ;;
	esac
done
if [ -n "$EXFS_PID" ]; then
	mnt_stop
	check "daemon of the last API cases exited cleanly" test $? -eq 0
fi
emu_stop
finish
