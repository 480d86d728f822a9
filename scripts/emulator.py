#!/usr/bin/env python3
"""Local emulator of the exalsius workspace HTTP API (API version 1.46).

It serves the workspace endpoints under /v1 (see docs of the exalsius API and
shared/API.md) so exalsiusfs can be developed and tested without the real
service, plus an unauthenticated admin API under /_emulator/ that lets tests
count requests, inject faults (errors, latency, broken or lost responses),
feed hostile raw data, rotate the token and change settings at run time.

It is also an Auth0-like login service at the root: POST /oauth/device/code
and POST /oauth/token (device_code and refresh_token grants, refresh tokens
rotated: a used one is refused). Access tokens are HS256 JWTs with exp, sub,
email and org claims; the API accepts them until they expire (then 401) as
well as the fixed token. /_emulator/auth steers the device flow (approve,
deny, expire, slow_down), token lifetimes, revocation (of refresh tokens,
or of every access token issued so far) and refresh latency.

GET /v1/workspace/{id}/logs is a live stream, as the real service's: a
chunked application/x-ndjson 200 with every line the workspace's log holds
(a deterministic history, then what was appended), then each new line as it
is appended. It ends cleanly when the workspace is deleted, at shutdown,
after 3600 s or after the setting log_end_after (s); it is cut without the
terminating chunk after log_drop_after lines. Start and create append a
start-up sequence spread over the pending delay, stop appends a line, the
setting log_rate (lines/s) appends "tick N" lines to every workspace with an
open stream. Admin: POST /_emulator/logs {"id", "lines": [...]} or {"id",
"count", "size"} appends; GET /_emulator/logs?id= lists the lines held;
GET /_emulator/streams counts open and started streams; POST
/_emulator/config sets log_rate, log_end_after, log_drop_after (0: off).

Python 3 standard library only. Listens on 127.0.0.1 only; never contacts
any other address (the 203.0.113.x addresses in the data are documentation
addresses, i.e. plain strings).

    EXALSIUS_TOKEN=secret scripts/emulator.py --port 0 --port-file /tmp/port --demo
"""

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import http.server
import json
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
import zlib
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

API_PREFIX = "/v1"            # --base-path changes it ("" serves the bare paths)
ADMIN_PREFIX = "/_emulator/"
DEFAULT_TOKEN = "emulator-token"
MAX_BODY = 1 << 20            # larger request bodies are refused with 400
MAX_DRAIN = 16 << 20          # oversize bodies up to this size are read and dropped
MAX_REQUESTS = 100000         # request lines kept for GET /_emulator/requests
ERROR_BASE = "https://api.exalsius.ai/errors/"
BASE_EPOCH = 1767225600       # 2026-01-01T00:00:00Z, first generated created_at

UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
DATETIME_RE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})"
                         r"(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")

OPERATIONS = (
    "list_workspaces", "create_workspace", "describe_workspace",
    "delete_workspace", "start_workspace", "stop_workspace",
    "get_workspace_logs", "list_workspace_templates",
)

ERROR_SLUGS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden",
    404: "not-found", 409: "conflict", 422: "unprocessable-entity",
    429: "rate-limited", 500: "server-error", 502: "bad-gateway",
    503: "service-unavailable", 504: "gateway-timeout",
}

# ---------------------------------------------------------------- fixtures

TEMPLATES = [
    {"name": "jupyter-notebook",
     "description": "Jupyter Notebook server with GPU support",
     "variables": {"notebook_port": "8888", "notebook_password": ""}},
    {"name": "vscode-devcontainer",
     "description": "VS Code dev container reachable over SSH",
     "variables": {"ssh_port": "22"}},
    {"name": "llm-inference",
     "description": "vLLM server with an OpenAI-compatible API",
     "variables": {"model": "", "port": "8000"}},
]
TEMPLATE_BY_NAME = {t["name"]: t for t in TEMPLATES}

CLUSTERS = [
    "8f14e45f-ceea-4e7a-9b1d-3c2a1e5d0a01",
    "2a7d9c3e-51b4-4f6e-8c0d-7e9f1b2a3c02",
    "d3b07384-d9a0-4c9b-8e1f-5a6b7c8d9e03",
]
CLUSTER_IPS = {c: "203.0.113.%d" % (10 * (i + 1)) for i, c in enumerate(CLUSTERS)}
DEFAULT_IP = "203.0.113.10"

OWNERS = [
    {"owner": "auth0|emulator-dev", "owner_username": "dev@example.com",
     "owner_org_id": "org_emulator", "owner_org_name": "Emulator Org",
     "owner_teams": ["ml-team"]},
    {"owner": "auth0|emulator-ops", "owner_username": "ops@example.com",
     "owner_org_id": "org_emulator", "owner_org_name": "Emulator Org",
     "owner_teams": ["platform", "ml-team"]},
]

RESOURCE_PROFILES = [
    {"gpu_count": 1, "gpu_memory": 80, "cpu_cores": 16, "memory_gb": 128,
     "storage_gb": 500, "gpu_vendor": "NVIDIA", "gpu_type": "A100"},
    {"gpu_count": 8, "gpu_memory": 80, "cpu_cores": 96, "memory_gb": 1024,
     "storage_gb": 2000, "gpu_vendor": "NVIDIA", "gpu_type": "H100"},
    {"gpu_count": 1, "gpu_memory": 24, "cpu_cores": 8, "memory_gb": 32,
     "storage_gb": 200, "gpu_vendor": "NVIDIA", "gpu_type": "L4"},
    {"gpu_count": 0, "gpu_memory": 0, "cpu_cores": 4, "memory_gb": 16,
     "storage_gb": 50, "gpu_vendor": "", "gpu_type": ""},
    {"gpu_count": 1, "gpu_memory": 192, "cpu_cores": 32, "memory_gb": 256,
     "storage_gb": 1000, "gpu_vendor": "AMD", "gpu_type": "MI300X"},
]
HW_INT_FIELDS = ("gpu_count", "gpu_memory", "cpu_cores", "memory_gb", "storage_gb")
HW_STR_FIELDS = ("gpu_vendor", "gpu_type")

LONG_NAME = ("long-name-" + "0123456789abcdefghij" * 15)[:300]   # 300 bytes
# Generated workspace index -> hostile name; every other index is "ws-%04d".
SPECIAL_NAMES = {
    1: "my workspace",          # spaces
    2: "team/project/run-1",    # slashes
    3: ".hidden",               # leading dot
    4: "ws-dup",                # duplicate 1/3 (cluster 0)
    5: "модель",                # unicode (Cyrillic)
    6: "训练",                   # unicode (CJK)
    7: "ws-dup",                # duplicate 2/3 (cluster 0, newer)
    8: "café",                  # unicode, NFC
    9: "100% done",             # percent sign
    10: LONG_NAME,              # longer than NAME_MAX
    11: "ws-dup",               # duplicate 3/3 (cluster 1)
    12: "..",                   # dot-dot
    13: "cafe\u0301",           # same look as "café" but NFD
    14: "trailing space ",      # trailing blank
    15: "literal %2F slash",    # looks URL-encoded
}
SPECIAL_CLUSTER = {4: 0, 7: 0, 11: 1}
FORCED_STATUS = {0: "RUNNING", 1: "STOPPED", 2: "PENDING", 3: "FAILED"}

DEMO = [  # id, name, status, cluster, template, variables, profile, created_at, extra
    ("4b3f0c8e-1d2a-4f5b-9c6d-7e8f9a0b1c01", "train-llama", "RUNNING", 0,
     "vscode-devcontainer", {"ssh_port": "22"}, 1, "2025-12-01T09:00:00Z",
     {"description": "Llama fine-tuning on 8x H100"}),
    ("4b3f0c8e-1d2a-4f5b-9c6d-7e8f9a0b1c02", "notebook-a100", "STOPPED", 0,
     "jupyter-notebook", {"notebook_port": "8888", "notebook_password": ""}, 0,
     "2025-12-02T10:30:00Z", {"description": "Exploration notebook"}),
    ("4b3f0c8e-1d2a-4f5b-9c6d-7e8f9a0b1c03", "vscode dev", "RUNNING", 1,
     "vscode-devcontainer", {"ssh_port": "22"}, 3, "2025-12-03T08:15:00Z",
     {"description": "CPU-only development box"}),
    ("4b3f0c8e-1d2a-4f5b-9c6d-7e8f9a0b1c04", "eval run/2", "PENDING", 1,
     "llm-inference", {"model": "meta-llama/Llama-3.1-8B-Instruct", "port": "8000"},
     2, "2025-12-10T14:00:00Z", {"description": "Second evaluation run"}),
    ("4b3f0c8e-1d2a-4f5b-9c6d-7e8f9a0b1c05", "train-llama", "FAILED", 0,
     "vscode-devcontainer", {"ssh_port": "22"}, 1, "2025-12-15T16:45:00Z",
     {"description": "Retry of train-llama (OOM)"}),
    ("4b3f0c8e-1d2a-4f5b-9c6d-7e8f9a0b1c06", "résumé-ü", "RUNNING", 2,
     "jupyter-notebook", {"notebook_port": "8888", "notebook_password": ""}, 4,
     "2025-12-20T11:11:11Z", {"description": "Unicode name demo",
                              "to_be_deleted_at": "2026-12-31T23:59:59Z"}),
]

# ---------------------------------------------------------------- helpers


def dump(obj):
    """Compact UTF-8 JSON; falls back to \\u escapes for lone surrogates."""
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _reject_constant(name):
    raise ValueError("invalid JSON constant " + name)


def parse_json(body):
    """Parse a request body; raises ApiError(400) on anything but JSON."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "Bad Request", "Request body is not valid JSON")


def is_datetime(s):
    m = DATETIME_RE.match(s) if isinstance(s, str) else None
    if not m:
        return False
    try:
        dt.datetime(*(int(g) for g in m.groups()[:6]))
    except ValueError:
        return False
    return True


def parse_epoch(s):
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except (AttributeError, TypeError, ValueError):
        return None


def fmt_epoch(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def fmt_epoch_ms(t):
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)),
                         int(t * 1000) % 1000)


def fmt_micros(us):
    d = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def access_info(template_name, k, cluster_id):
    """Access entries of a RUNNING workspace (NodePorts derived from k)."""
    ip = CLUSTER_IPS.get(cluster_id, DEFAULT_IP) if isinstance(cluster_id, str) else DEFAULT_IP
    out = [{"access_type": "NODE_PORT", "access_protocol": "SSH", "port_name": "ssh",
            "port_number": 30000 + k % 1300, "external_ips": [ip],
            "access_description": "SSH access"}]
    t = template_name if isinstance(template_name, str) else ""
    if "jupyter" in t or "notebook" in t:
        out.append({"access_type": "NODE_PORT", "access_protocol": "HTTP",
                    "port_name": "notebook", "port_number": 31400 + k % 1300,
                    "external_ips": [ip], "access_description": "Jupyter Notebook UI"})
    elif "llm" in t or "inference" in t:
        out.append({"access_type": "NODE_PORT", "access_protocol": "HTTP",
                    "port_name": "api", "port_number": 31400 + k % 1300,
                    "external_ips": [ip],
                    "access_description": "OpenAI-compatible inference API"})
    return out


def make_workspace(wid, name, cluster_id, status, template, owner, description,
                   resources, created_at, k, to_be_deleted_at=None):
    ws = {"id": wid, "name": name, "cluster_id": cluster_id, "workspace_status": status,
          "template": template}
    ws.update(owner)
    ws["description"] = description
    ws["access_information"] = access_info(template["name"], k, cluster_id) \
        if status == "RUNNING" else []
    ws["resources"] = resources
    ws["created_at"] = created_at
    if to_be_deleted_at is not None:
        ws["to_be_deleted_at"] = to_be_deleted_at
    return ws


LOG_FILLER = (
    "step {a} loss {f:.4f} lr {e:.2e}",
    "GPU 0: utilisation {p}% memory {m} MiB",
    "heartbeat ok",
    'INFO:     10.42.0.1:{port} - "GET /health HTTP/1.1" 200 OK',
    "checkpoint saved to /workspace/ckpt/step-{a} ✓",
)
LOG_SPECIFIC = {
    "jupyter-notebook": ["[I ServerApp] Jupyter Server 2.14.2 is running at:",
                         "[I ServerApp] http://0.0.0.0:8888/lab",
                         "[I ServerApp] Kernel started: python3"],
    "vscode-devcontainer": ["sshd: Server listening on 0.0.0.0 port 22.",
                            "devcontainer: post-create command finished"],
    "llm-inference": ["INFO:     Started server process [1]",
                      "INFO:     Loading model weights took 15.23 GB",
                      "INFO:     Uvicorn running on http://0.0.0.0:8000"],
}


def log_identity(ws):
    """(template name, pod name, image) of a workspace's log lines."""
    wid = ws.get("id") if isinstance(ws.get("id"), str) else ""
    tmpl = ws.get("template")
    tname = tmpl.get("name") if isinstance(tmpl, dict) else None
    tname = tname if isinstance(tname, str) and tname else "workspace"
    slug = re.sub(r"[^a-z0-9-]+", "-", tname.lower()).strip("-")[:40] or "workspace"
    pod = "%s-%s-0" % (slug, re.sub(r"[^a-z0-9]", "", wid.lower())[:8] or "x")
    return tname, pod, "ghcr.io/exalsius/%s:latest" % slug


def startup_messages(ws):
    """What a start appends to the log, spread over the pending delay."""
    tname, _, image = log_identity(ws)
    return (["Scheduling pod", 'Pulling image "%s"' % image,
             'Successfully pulled image "%s"' % image,
             "Created container workspace", "Started container workspace"]
            + LOG_SPECIFIC.get(tname, []))


def make_logs(ws, namespace):
    """Deterministic NDJSON log lines (5..20) derived from the workspace id."""
    wid = ws.get("id") if isinstance(ws.get("id"), str) else ""
    tname, pod, image = log_identity(ws)
    rnd = random.Random(zlib.crc32(wid.encode("utf-8", "surrogatepass")))
    msgs = ['Pulling image "%s"' % image, 'Successfully pulled image "%s"' % image,
            "Created container workspace", "Started container workspace"]
    msgs += LOG_SPECIFIC.get(tname, [])
    n = rnd.randint(5, 20)
    while len(msgs) < n:
        msgs.append(rnd.choice(LOG_FILLER).format(
            a=rnd.randrange(1, 100000), f=rnd.uniform(0.5, 3.5), e=rnd.uniform(1e-5, 1e-3),
            p=rnd.randrange(0, 101), m=rnd.randrange(1000, 80000),
            port=rnd.randrange(30000, 60000)))
    t = parse_epoch(ws.get("created_at")) or BASE_EPOCH
    out = []
    for msg in msgs[:n]:
        t += rnd.uniform(0.05, 3.0)
        out.append(dump({"pod_name": pod, "pod_namespace": namespace,
                         "timestamp": fmt_epoch_ms(t), "log_message": msg}))
    return b"\n".join(out) + b"\n"


class ApiError(Exception):
    def __init__(self, status, title, detail, headers=()):
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, list(headers)


def problem_body(status, title, detail, instance):
    return dump({"detail": {"type": ERROR_BASE + ERROR_SLUGS.get(status, "error"),
                            "title": title, "status": status, "detail": detail,
                            "instance": instance}})


def bad(msg):
    return ApiError(400, "Bad Request", msg)


def validate_create(obj):
    """Check a WorkspaceCreateRequest; returns its normalised fields."""
    if not isinstance(obj, dict):
        raise bad("Request body must be a JSON object")
    for f in ("name", "cluster_id", "template", "resources"):
        if f not in obj:
            raise bad("Field '%s' is required" % f)
    name = obj["name"]
    if not isinstance(name, str) or not name:
        raise bad("Field 'name' must be a non-empty string")
    cluster = obj["cluster_id"]
    if not isinstance(cluster, str) or not UUID_RE.match(cluster):
        raise bad("Field 'cluster_id' must be a UUID")
    tmpl = obj["template"]
    if not isinstance(tmpl, dict):
        raise bad("Field 'template' must be an object")
    if not isinstance(tmpl.get("name"), str) or not tmpl["name"]:
        raise bad("Field 'template.name' must be a non-empty string")
    if not isinstance(tmpl.get("variables"), dict):
        raise bad("Field 'template.variables' must be an object")
    tdesc = tmpl.get("description")
    if tdesc is not None and not isinstance(tdesc, str):
        raise bad("Field 'template.description' must be a string")
    res = obj["resources"]
    if not isinstance(res, dict):
        raise bad("Field 'resources' must be an object")
    hw = {}
    for f in HW_INT_FIELDS:
        v = res.get(f)
        if v is None:
            hw[f] = 0
        elif not isinstance(v, int) or isinstance(v, bool):
            raise bad("Field 'resources.%s' must be an integer" % f)
        elif not 0 <= v <= 0x7FFFFFFF:
            raise bad("Field 'resources.%s' must be between 0 and 2147483647" % f)
        else:
            hw[f] = v
    for f in HW_STR_FIELDS:
        v = res.get(f)
        if v is not None and not isinstance(v, str):
            raise bad("Field 'resources.%s' must be a string" % f)
        hw[f] = v or ""
    for f in ("description", "namespace"):
        if obj.get(f) is not None and not isinstance(obj[f], str):
            raise bad("Field '%s' must be a string" % f)
    tbd = obj.get("to_be_deleted_at")
    if tbd is not None and not is_datetime(tbd):
        raise bad("Field 'to_be_deleted_at' must be an RFC 3339 date-time string")
    known = TEMPLATE_BY_NAME.get(tmpl["name"], {})
    template = {"name": tmpl["name"],
                "description": tdesc if tdesc is not None else known.get("description", ""),
                "variables": tmpl["variables"]}
    return {"name": name, "cluster_id": cluster.lower(), "template": template,
            "resources": hw, "description": obj.get("description") or "",
            "namespace": obj.get("namespace") or "default", "to_be_deleted_at": tbd}


# ---------------------------------------------------------------- state


class Record:
    """One stored workspace. `managed` records were created or seeded by the
    emulator; raw ones were injected verbatim through the admin API."""
    __slots__ = ("ws", "managed", "born", "k", "namespace", "blob", "seq", "log")

    def __init__(self, ws, managed, born=None, k=0, namespace="default"):
        self.ws, self.managed, self.born, self.k = ws, managed, born, k
        self.namespace, self.blob, self.seq, self.log = namespace, None, 0, None

    def json(self):
        if self.blob is None:
            self.blob = dump(self.ws)
        return self.blob


MAX_FILL = 256 << 20          # count * size of one POST /_emulator/logs filler call
MAX_STREAM = 3600.0           # no log stream lasts longer (seconds)


class Log:
    """A workspace's log: the deterministic history of make_logs, then the
    lines appended later (NDJSON, one bytes object per line, each ending in
    a newline). `pending` holds lines not yet due: (monotonic due, wall
    clock ms, message), released in due order by release(). Guarded by the
    store's lock; appends notify the store's condition."""
    __slots__ = ("wid", "lines", "pending", "prefix", "last_ms", "ticks", "fills",
                 "streams", "next_tick", "closed", "_sec")

    def __init__(self, rec):
        ws = rec.ws
        self.wid = ws.get("id")
        hist = make_logs(ws, rec.namespace)
        self.lines = [ln + b"\n" for ln in hist.split(b"\n")[:-1]]
        _, pod, _ = log_identity(ws)
        self.prefix = b"".join((b'{"pod_name":', dump(pod), b',"pod_namespace":',
                                dump(rec.namespace), b',"timestamp":"'))
        last = parse_epoch(json.loads(self.lines[-1])["timestamp"])
        self.last_ms = int(round(last * 1000)) if last is not None else 0
        self.pending = []
        self.ticks = self.fills = self.streams = 0
        self.next_tick = None
        self.closed = False
        self._sec = (None, b"")

    def _stamp(self, ms):
        """The timestamp of a new line: ms, or just after the last one."""
        ms = max(ms, self.last_ms + 1)
        self.last_ms = ms
        sec = ms // 1000
        if self._sec[0] != sec:
            self._sec = (sec, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec)).encode())
        return b"%s%03dZ" % (self._sec[1], ms % 1000)

    def append(self, msg, ms=None):
        if ms is None:
            ms = time.time_ns() // 1000000
        self.lines.append(b"".join((self.prefix, self._stamp(ms), b'","log_message":',
                                    dump(msg), b"}\n")))

    def fill(self, count, size):
        """count filler lines "fill K xxx..." of about size bytes of message."""
        ms = time.time_ns() // 1000000
        xs = "x" * size
        add, stamp, prefix = self.lines.append, self._stamp, self.prefix
        for _ in range(count):
            self.fills += 1
            head = "fill %d " % self.fills
            msg = (head + xs[:max(size - len(head), 1)]).encode("ascii")
            add(b"".join((prefix, stamp(ms), b'","log_message":"', msg, b'"}\n')))

    def schedule(self, msgs, spread):
        """Lines that fall due evenly over the next `spread` seconds, the
        first at once, the last at the end."""
        mono, wall = time.monotonic(), time.time_ns() // 1000000
        n = len(msgs)
        for i, msg in enumerate(msgs):
            off = spread * i / (n - 1) if n > 1 else 0.0
            self.pending.append((mono + off, wall + int(off * 1000), msg))
        self.release()

    def release(self, now=None):
        """Move the lines that are due from pending to the log; True if any."""
        if not self.pending:
            return False
        now = time.monotonic() if now is None else now
        n = 0
        for due, ms, msg in self.pending:
            if due > now:
                break
            self.append(msg, ms)
            n += 1
        del self.pending[:n]
        return n > 0

    def next_due(self):
        return self.pending[0][0] if self.pending else None


class Store:
    """All emulator state; every access holds self.lock."""

    def __init__(self, token, pending_delay, quiet):
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)  # log appends, deletes, shutdown
        self.token, self.pending_delay, self.quiet = token, pending_delay, quiet
        self.keep_deleted = False  # delete marks DELETED instead of removing
        self.log_rate = 0.0     # tick lines/s appended to each workspace with a stream
        self.log_end_after = 0.0   # a stream ends cleanly after this many s (0: never)
        self.log_drop_after = 0    # a stream is cut after this many lines (0: never)
        self.open_streams = {}  # workspace id -> log streams open now
        self.streamed = set()   # Logs with an open stream (the generator's work list)
        self.streams_started = 0
        self.closed = False     # replaced by /_emulator/restore: its streams end
        self.records = {}       # seq -> Record, in insertion (= created_at) order
        self.by_id = {}         # workspace id -> seq of the first record with it
        self.shadowed = {}      # id -> [seq...] later records sharing that id
        self.pending = {}       # seq -> Record created by POST, not yet deployed
        self.seq = 0
        self.version = 0
        self.last_us = 0        # newest managed created_at, in microseconds
        self.next_k = 1000
        self.list_cache = (None, b"")
        self.counts = dict.fromkeys(OPERATIONS, 0)
        self.total = 0
        self.requests = []      # "METHOD /path?query" of API requests, as received
        self.requests_dropped = 0  # oldest ones dropped beyond MAX_REQUESTS
        self.faults = []
        self.fault_seq = 0
        self.templates_body = dump({"workspace_templates": TEMPLATES, "total": len(TEMPLATES)})

    # -- bookkeeping
    def _add(self, rec):
        self.seq += 1
        rec.seq = self.seq
        self.records[self.seq] = rec
        wid = rec.ws.get("id") if isinstance(rec.ws, dict) else None
        if isinstance(wid, str):
            if wid in self.by_id:
                self.shadowed.setdefault(wid, []).append(self.seq)
            else:
                self.by_id[wid] = self.seq
        self.version += 1

    def _log(self, rec):
        """The record's log, created on first use (due lines released)."""
        if rec.log is None:
            rec.log = Log(rec)
        elif rec.log.release():
            self.cond.notify_all()
        return rec.log

    def _end_log(self, rec):
        """A deleted workspace: its open streams end."""
        if rec.log is not None:
            rec.log.closed = True
            rec.log.pending = []
            self.cond.notify_all()

    def _remove(self, rec):
        self._end_log(rec)
        del self.records[rec.seq]
        self.pending.pop(rec.seq, None)
        wid = rec.ws.get("id")
        if self.by_id.get(wid) == rec.seq:
            del self.by_id[wid]
            later = self.shadowed.get(wid)
            if later:
                self.by_id[wid] = later.pop(0)
                if not later:
                    del self.shadowed[wid]
        self.version += 1

    def _touch(self, rec):
        rec.blob = None
        self.version += 1

    def _settle(self):
        """PENDING -> RUNNING for created workspaces whose delay has passed."""
        if not self.pending:
            return
        now = time.monotonic()
        for seq, rec in list(self.pending.items()):
            if now - rec.born >= self.pending_delay:
                del self.pending[seq]
                ws = rec.ws
                if ws.get("workspace_status") == "PENDING":
                    ws["workspace_status"] = "RUNNING"
                    ws["access_information"] = access_info(ws["template"]["name"], rec.k,
                                                           ws["cluster_id"])
                    self._touch(rec)

    def _lookup(self, wid):
        seq = self.by_id.get(wid)
        if seq is None:
            seq = self.by_id.get(wid.lower())
        if seq is None:
            if not UUID_RE.match(wid):
                raise bad("Invalid workspace ID '%s': must be a UUID" % wid)
            raise ApiError(404, "Workspace Not Found",
                           "The workspace with ID %s was not found." % wid)
        return self.records[seq]

    def _now_created(self):
        us = max(time.time_ns() // 1000, self.last_us + 1)
        self.last_us = us
        return fmt_micros(us)

    # -- seeding
    def seed_demo(self):
        for wid, name, status, ci, tname, variables, prof, created, extra in DEMO:
            tmpl = {"name": tname, "description": TEMPLATE_BY_NAME[tname]["description"],
                    "variables": variables}
            ws = make_workspace(wid, name, CLUSTERS[ci], status, tmpl, OWNERS[0],
                                extra.get("description", ""), RESOURCE_PROFILES[prof],
                                created, 900 + len(self.records), extra.get("to_be_deleted_at"))
            self._add(Record(ws, True))
            self.last_us = max(self.last_us, int(parse_epoch(created) * 1e6))

    def seed_generated(self, n):
        rng = random.Random(42)
        models = ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen2.5-7B-Instruct", ""]
        tmpls = []   # shared, never mutated in place
        for t in TEMPLATES:
            if t["name"] == "llm-inference":
                for m in models:
                    tmpls.append({"name": t["name"], "description": t["description"],
                                  "variables": {"model": m, "port": "8000"}})
            else:
                tmpls.append({"name": t["name"], "description": t["description"],
                              "variables": dict(t["variables"])})
        statuses = ["RUNNING"] * 10 + ["STOPPED"] * 5 + ["PENDING"] * 2 + ["FAILED"] * 3
        base = max(BASE_EPOCH, self.last_us // 1000000 + 1)
        for i in range(n):
            wid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            ci = rng.randrange(len(CLUSTERS))
            status = rng.choice(statuses)
            tmpl = rng.choice(tmpls)
            prof = rng.choice(RESOURCE_PROFILES)
            owner = OWNERS[rng.randrange(len(OWNERS))]
            created = base + 60 * i + rng.randrange(60)
            ci = SPECIAL_CLUSTER.get(i, ci)
            status = FORCED_STATUS.get(i, status)
            name = SPECIAL_NAMES.get(i) or "ws-%04d" % (i + 1)
            desc = "" if i % 5 == 4 else "Generated workspace #%d" % (i + 1)
            tbd = fmt_epoch(created + 30 * 86400) if i % 7 == 6 else None
            ws = make_workspace(wid, name, CLUSTERS[ci], status, tmpl, owner, desc, prof,
                                fmt_epoch(created), i, tbd)
            self._add(Record(ws, True, k=i))
            self.last_us = created * 1000000

    # -- counters and faults
    def count(self, op, line=None):
        """Counts one API request and records its request line; done on
        receipt, so a test that got the reply always finds it here."""
        with self.lock:
            self.total += 1
            if op:
                self.counts[op] += 1
            if line is not None:
                if len(self.requests) >= MAX_REQUESTS:
                    del self.requests[:MAX_REQUESTS // 2]
                    self.requests_dropped += MAX_REQUESTS // 2
                self.requests.append(line)

    def take_faults(self, op):
        """Consume one use of the first matching latency rule and of the first
        matching other rule; returns (latency seconds, rule or None)."""
        with self.lock:
            latency, chosen = 0.0, None
            for rule in list(self.faults):
                if rule["endpoint"] not in (None, op):
                    continue
                if rule["kind"] == "latency":
                    if latency:
                        continue
                    latency = float(rule["latency"])
                elif chosen is None:
                    chosen = rule
                else:
                    continue
                if rule["count"] > 0:
                    rule["count"] -= 1
                    if rule["count"] == 0:
                        self.faults.remove(rule)
            return latency, chosen


FAULT_KINDS = ("status", "latency", "malformed", "truncated", "drop", "drop_after")


def parse_fault(obj):
    if not isinstance(obj, dict):
        raise bad("Fault must be a JSON object")
    kinds = [k for k in FAULT_KINDS if k in obj]
    if len(kinds) != 1:
        raise bad("Fault needs exactly one of: " + ", ".join(FAULT_KINDS))
    kind = kinds[0]
    allowed = {"count", "endpoint", kind}
    if kind == "status":
        allowed |= {"retry_after", "body", "content_type"}
    extra = sorted(set(obj) - allowed)
    if extra:
        raise bad("Unknown fault field(s): " + ", ".join(extra))
    v = obj[kind]
    if kind == "status":
        if (not isinstance(v, int) or isinstance(v, bool) or not 200 <= v <= 599
                or v in (204, 304)):
            raise bad("Field 'status' must be an integer between 200 and 599 "
                      "(not 204 or 304)")
    elif kind == "latency":
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 600:
            raise bad("Field 'latency' must be a number of seconds between 0 and 600")
    elif v is not True:
        raise bad("Field '%s' must be true" % kind)
    count = obj.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or (count < 1 and count != -1):
        raise bad("Field 'count' must be a positive integer or -1")
    ep = obj.get("endpoint")
    if ep is not None and ep not in OPERATIONS:
        raise bad("Field 'endpoint' must be one of: " + ", ".join(OPERATIONS))
    ra = obj.get("retry_after")
    if ra is not None and (isinstance(ra, bool) or not isinstance(ra, (int, float, str))):
        raise bad("Field 'retry_after' must be a number or a string")
    for f in ("body", "content_type"):
        if obj.get(f) is not None and not isinstance(obj[f], str):
            raise bad("Field '%s' must be a string" % f)
    rule = {"kind": kind, kind: v, "count": count, "endpoint": ep}
    for f in ("retry_after", "body", "content_type"):
        if obj.get(f) is not None:
            rule[f] = obj[f]
    return rule


MALFORMED = {
    "list_workspaces": b'{"workspaces": [',
    "list_workspace_templates": b'{"workspace_templates": [{"name": ',
    "describe_workspace": b'{"workspace": {"id": "',
    "get_workspace_logs": b'{"pod_name": "p", "log_message": "cut\n',
}


def route(method, path):
    """Map an API path (with /v1) to (operation, workspace id) or (None, None)."""
    if not path.startswith(API_PREFIX + "/"):
        return None, None
    parts = path[len(API_PREFIX):].split("/")[1:]
    if parts == ["workspaces"]:
        return {"GET": "list_workspaces", "POST": "create_workspace"}.get(method), None
    if parts == ["management", "workspace-templates"]:
        return ("list_workspace_templates" if method == "GET" else None), None
    if len(parts) in (2, 3) and parts[0] == "workspace" and parts[1]:
        wid = unquote(parts[1])
        if len(parts) == 2:
            op = {"GET": "describe_workspace", "DELETE": "delete_workspace"}.get(method)
        else:
            op = {("POST", "start"): "start_workspace", ("POST", "stop"): "stop_workspace",
                  ("GET", "logs"): "get_workspace_logs"}.get((method, parts[2]))
        return op, (wid if op else None)
    return None, None


# ---------------------------------------------------------------- auth


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Auth:
    """The login service: device codes, token grants, rotation. Every access
    holds self.lock."""

    DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
    KEY = b"emulator-signing-key"

    def __init__(self):
        self.lock = threading.Lock()
        self.token_ttl = 3600
        self.interval = 1
        self.device_ttl = 600
        self.refresh_delay = 0.0
        self.auto_approve = False
        self.devices = {}       # device_code -> dict(state, user_code, client_id, expires, last)
        self.refresh = {}       # refresh token -> dict(client_id, used, revoked)
        self.revoked_jti = set()   # access tokens refused before their exp
        self.issued_jti = []
        self.secrets = []       # every token and device code handed out (canary tests)
        self.seq = 0
        self.counts = dict.fromkeys(("device_code", "device_poll", "refresh",
                                     "refresh_refused", "issued", "api_expired"), 0)
        self.user = {"sub": "auth0|emulator-user", "email": "dev@example.com",
                     "org_id": "org_emulator", "org_name": "Emulator Org"}

    def _jwt(self, claims):
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self.KEY, (head + "." + body).encode(), hashlib.sha256).digest()
        return head + "." + body + "." + b64url(sig)

    def verify(self, token):
        """The claims of a JWT this service issued, or None; ("expired", claims)
        for one past its exp."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        sig = hmac.new(self.KEY, (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(b64url_decode(parts[2]), sig):
                return None
            claims = json.loads(b64url_decode(parts[1]))
        except (ValueError, TypeError):
            return None
        if not isinstance(claims, dict) or claims.get("token_use") != "access":
            return None
        with self.lock:
            if claims.get("jti") in self.revoked_jti:
                return None
        return claims

    def _issue_locked(self, client_id, ttl=None):
        self.seq += 1
        now = int(time.time())
        ttl = self.token_ttl if ttl is None else ttl
        base = dict(self.user, iss="https://emulator.invalid/", iat=now, exp=now + ttl,
                    jti="%d-%s" % (self.seq, uuid.uuid4().hex[:8]))
        self.issued_jti.append(base["jti"])
        access = self._jwt(dict(base, aud="https://api.exalsius.ai", token_use="access",
                                scope="openid profile email offline_access"))
        idt = self._jwt(dict(base, aud=client_id, token_use="id", name="Emulator User"))
        rt = "rt-%d-%s" % (self.seq, uuid.uuid4().hex)
        self.refresh[rt] = {"client_id": client_id, "used": False, "revoked": False}
        self.secrets.extend((access, idt, rt))
        self.counts["issued"] += 1
        return {"access_token": access, "id_token": idt, "refresh_token": rt,
                "token_type": "Bearer", "expires_in": ttl,
                "scope": "openid profile email offline_access"}

    def device_code(self, form):
        client_id = form.get("client_id", "")
        if not client_id:
            return 400, {"error": "invalid_request", "error_description": "client_id missing"}
        with self.lock:
            self.counts["device_code"] += 1
            self.seq += 1
            code = "dc-%d-%s" % (self.seq, uuid.uuid4().hex)
            self.secrets.append(code)
            user = "%04X-%04X" % (random.randrange(65536), random.randrange(65536))
            self.devices[code] = {"state": "approved" if self.auto_approve else "pending",
                                  "user_code": user, "client_id": client_id,
                                  "expires": time.time() + self.device_ttl, "slow": False}
            return 200, {"device_code": code, "user_code": user,
                         "verification_uri": "https://emulator.invalid/activate",
                         "verification_uri_complete":
                             "https://emulator.invalid/activate?user_code=" + user,
                         "expires_in": self.device_ttl, "interval": self.interval}

    def token(self, form):
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        if grant == self.DEVICE_GRANT:
            with self.lock:
                self.counts["device_poll"] += 1
                d = self.devices.get(form.get("device_code", ""))
                if d is None or d["client_id"] != client_id:
                    return 403, {"error": "invalid_grant", "error_description": "Invalid device code."}
                if d["state"] == "expired" or time.time() > d["expires"]:
                    return 403, {"error": "expired_token", "error_description": "Device code expired."}
                if d["slow"]:
                    d["slow"] = False
                    return 429, {"error": "slow_down", "error_description": "Slow down."}
                if d["state"] == "denied":
                    return 403, {"error": "access_denied", "error_description": "User refused."}
                if d["state"] == "pending":
                    return 403, {"error": "authorization_pending",
                                 "error_description": "User has yet to authorize device code."}
                if d["state"] == "used":
                    return 403, {"error": "invalid_grant", "error_description": "Device code used."}
                d["state"] = "used"
                return 200, self._issue_locked(client_id)
        if grant == "refresh_token":
            with self.lock:
                delay = self.refresh_delay
            if delay:
                time.sleep(delay)
            with self.lock:
                self.counts["refresh"] += 1
                rt = self.refresh.get(form.get("refresh_token", ""))
                if rt is None or rt["used"] or rt["revoked"] or rt["client_id"] != client_id:
                    self.counts["refresh_refused"] += 1
                    return 403, {"error": "invalid_grant",
                                 "error_description": "Unknown or invalid refresh token."}
                rt["used"] = True
                return 200, self._issue_locked(client_id)
        return 400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant"}

    def admin(self, obj):
        """POST /_emulator/auth: change settings or steer device codes."""
        known = {"token_ttl", "interval", "device_ttl", "refresh_delay", "auto_approve",
                 "device", "revoke_refresh", "revoke_access"}
        extra = sorted(set(obj) - known)
        if extra:
            raise bad("Unknown auth setting(s): " + ", ".join(extra))
        with self.lock:
            for k in ("token_ttl", "interval", "device_ttl"):
                if k in obj:
                    if isinstance(obj[k], bool) or not isinstance(obj[k], int) or obj[k] < 0:
                        raise bad("Field %r must be a non-negative integer" % k)
                    setattr(self, k, obj[k])
            if "refresh_delay" in obj:
                self.refresh_delay = float(obj["refresh_delay"])
            if "auto_approve" in obj:
                self.auto_approve = bool(obj["auto_approve"])
            act = obj.get("device")
            if act is not None:
                if act not in ("approve", "deny", "expire", "slow_down", "pending"):
                    raise bad("Field 'device' must be approve, deny, expire, slow_down or pending")
                for d in self.devices.values():
                    if d["state"] in ("pending", "approved", "denied"):
                        if act == "slow_down":
                            d["slow"] = True
                        else:
                            d["state"] = {"approve": "approved", "deny": "denied",
                                          "expire": "expired", "pending": "pending"}[act]
            if obj.get("revoke_access"):
                self.revoked_jti.update(self.issued_jti)
            if obj.get("revoke_refresh"):
                for rt in self.refresh.values():
                    rt["revoked"] = True
            return self.state_locked()

    def state_locked(self):
        return {"counts": dict(self.counts), "token_ttl": self.token_ttl,
                "interval": self.interval, "device_ttl": self.device_ttl,
                "refresh_delay": self.refresh_delay, "auto_approve": self.auto_approve,
                "pending": [d["user_code"] for d in self.devices.values()
                            if d["state"] == "pending"],
                "live_refresh_tokens": sum(1 for r in self.refresh.values()
                                           if not r["used"] and not r["revoked"])}

    def mint(self, obj):
        """POST /_emulator/auth/mint: a login as the device flow would give."""
        ttl = obj.get("ttl")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)):
            raise bad("Field 'ttl' must be an integer (may be negative: already expired)")
        with self.lock:
            return self._issue_locked(obj.get("client_id") or "kSbRc9MOnuMKMVLzhZYBo3xkTtk2KK7B", ttl)


# ---------------------------------------------------------------- API logic


class Api:
    """The /v1 operations; each returns (status, body, content type, headers)."""

    def __init__(self, store):
        self.s = store

    def list_workspaces(self, wid, query, body):
        cluster = None
        if "cluster_id" in query:
            cluster = query["cluster_id"][0]
            if not UUID_RE.match(cluster):
                raise bad("Query parameter 'cluster_id' must be a UUID")
            cluster = cluster.lower()
        s = self.s
        with s.lock:
            s._settle()
            key = (s.version, cluster)
            if s.list_cache[0] != key:
                parts = []
                for rec in s.records.values():
                    if cluster is not None:
                        ws = rec.ws
                        c = ws.get("cluster_id") if isinstance(ws, dict) else None
                        if not isinstance(c, str) or c.lower() != cluster:
                            continue
                    parts.append(rec.json())
                out = b"".join((b'{"workspaces":[', b",".join(parts),
                                b'],"total":', str(len(parts)).encode(), b"}"))
                s.list_cache = (key, out, len(parts))
            _, out, total = s.list_cache
        return 200, out, "application/json", [("X-Total-Count", str(total))]

    def create_workspace(self, wid, query, body):
        req = validate_create(parse_json(body))
        s = self.s
        with s.lock:
            s._settle()
            for rec in s.records.values():
                ws = rec.ws
                if (isinstance(ws, dict) and ws.get("name") == req["name"]
                        and str(ws.get("cluster_id")).lower() == req["cluster_id"]
                        and ws.get("workspace_status") != "DELETED"):
                    raise ApiError(409, "Workspace Already Exists",
                                   "A workspace named '%s' already exists in cluster %s."
                                   % (req["name"], req["cluster_id"]))
            new_id = str(uuid.uuid4())
            ws = make_workspace(new_id, req["name"], req["cluster_id"], "PENDING",
                                req["template"], OWNERS[0], req["description"],
                                req["resources"], s._now_created(), 0, req["to_be_deleted_at"])
            rec = Record(ws, True, born=time.monotonic(), k=s.next_k,
                         namespace=req["namespace"])
            s.next_k += 1
            s._add(rec)
            s.pending[rec.seq] = rec
            s._log(rec).schedule(startup_messages(ws), s.pending_delay)
            s.cond.notify_all()
        return 201, dump({"workspace_id": new_id}), "application/json", []

    def describe_workspace(self, wid, query, body):
        with self.s.lock:
            self.s._settle()
            out = b'{"workspace":' + self.s._lookup(wid).json() + b"}"
        return 200, out, "application/json", []

    def delete_workspace(self, wid, query, body):
        with self.s.lock:
            rec = self.s._lookup(wid)
            real_id = rec.ws["id"]
            if self.s.keep_deleted and isinstance(rec.ws, dict):
                # as a service that deletes in the background: still listed,
                # as DELETED, until the admin API removes it
                if rec.ws.get("workspace_status") == "DELETED":
                    raise ApiError(404, "Workspace Not Found",
                                   "The workspace with ID %s was not found." % wid)
                rec.ws["workspace_status"] = "DELETED"
                self.s._touch(rec)
                self.s._end_log(rec)
            else:
                self.s._remove(rec)
        return 200, dump({"workspace_id": real_id}), "application/json", []

    def _transition(self, wid, start):
        s = self.s
        with s.lock:
            s._settle()
            rec = s._lookup(wid)
            ws = rec.ws
            status = ws.get("workspace_status")
            if start:
                ok = status in ("STOPPED", "FAILED")
                why = {"RUNNING": "Workspace is already running",
                       "PENDING": "Workspace is pending"}
            else:
                ok = status == "RUNNING"
                why = {"STOPPED": "Workspace is already stopped",
                       "PENDING": "Workspace is pending"}
            if not ok:
                raise ApiError(409, "Conflict", why.get(
                    status, "Workspace cannot be %s in status %s"
                    % ("started" if start else "stopped", json.dumps(status))))
            ws["workspace_status"] = "RUNNING" if start else "STOPPED"
            if rec.managed:
                ws["access_information"] = access_info(ws["template"]["name"], rec.k,
                                                       ws["cluster_id"]) if start else []
            elif not start and "access_information" in ws:
                ws["access_information"] = []
            s._touch(rec)
            log = s._log(rec)
            if start:
                log.schedule(startup_messages(ws), s.pending_delay)
            else:
                log.pending = []    # a start-up cut short
                log.append("Stopping container workspace")
            s.cond.notify_all()
            real_id = ws["id"]
        return 200, dump({"workspace_id": real_id}), "application/json", []

    def start_workspace(self, wid, query, body):
        return self._transition(wid, True)

    def stop_workspace(self, wid, query, body):
        return self._transition(wid, False)

    def get_workspace_logs(self, wid, query, body):
        """The answer is a stream (Handler._stream_logs); the body here is
        the record whose log it follows."""
        with self.s.lock:
            rec = self.s._lookup(wid)
            self.s._log(rec)
        return 200, rec, "application/x-ndjson", []

    def list_workspace_templates(self, wid, query, body):
        return (200, self.s.templates_body, "application/json",
                [("X-Total-Count", str(len(TEMPLATES)))])


# ---------------------------------------------------------------- HTTP


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle and
    # the client's delayed ACK stall every reply on a kept-alive connection
    # by 40 ms, which a production server does not do
    disable_nagle_algorithm = True
    server_version = "exalsius-emulator/1.0"
    sys_version = ""
    timeout = 120   # idle keep-alive connections are closed after this

    # every method goes through one dispatcher
    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def version_string(self):
        return self.server_version

    @property
    def store(self):
        return self.server.store

    # -- plumbing
    def log_request(self, code="-", size="-"):
        pass    # one line per request is written by _log instead

    def log_message(self, format, *args):
        if not self.store.quiet:
            sys.stderr.write("emulator: %s %s\n" % (self.client_address[0], format % args))

    def _log(self):
        if self.store.quiet or self._status is None:
            return
        path = (self.path or "").encode("ascii", "backslashreplace").decode("ascii")
        path = "".join(c if " " < c < "\x7f" else "\\x%02x" % ord(c) for c in path)
        sys.stderr.write("emulator: %s \"%s %s\" %s %d %.1fms%s\n" % (
            self.client_address[0], self.command, path, self._status, self._nbytes,
            (time.monotonic() - self._t0) * 1000, self._note))

    def send_error(self, code, message=None, explain=None):
        """Errors raised by http.server itself (bad request line, ...)."""
        self.close_connection = True
        self.log_message('"%s" %d %s', getattr(self, "requestline", ""), code, message or "")
        try:
            title = HTTPStatus(code).phrase
        except ValueError:
            title = "Error"
        path = getattr(self, "path", None) or "/"
        body = problem_body(code, title, message or title, urlsplit(path).path or "/")
        self.send_response(code)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def _send(self, status, body, ctype, headers=(), declared=None, payload=None):
        self._started = True
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        data = body if payload is None else payload
        self.wfile.write(data)
        self._status, self._nbytes = status, len(data)

    def _send_json(self, status, obj):
        self._send(status, dump(obj), "application/json")

    def _send_problem(self, err, instance):
        self._send(err.status, problem_body(err.status, err.title, err.detail, instance),
                   "application/problem+json", err.headers)

    def _read_body(self):
        """Returns (bytes, ApiError or None); closes the connection when the
        request framing cannot be trusted any more."""
        te = self.headers.get("Transfer-Encoding")
        if te is not None:
            if te.strip().lower() != "chunked":
                self.close_connection = True
                return b"", bad("Unsupported Transfer-Encoding")
            return self._read_chunked()
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b"", None
        try:
            n = int(cl)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            return b"", bad("Invalid Content-Length header")
        if n > MAX_BODY:
            if n > MAX_DRAIN:
                self.close_connection = True
            else:
                while n > 0:
                    chunk = self.rfile.read(min(n, 65536))
                    if not chunk:
                        raise ConnectionError("client went away")
                    n -= len(chunk)
            return b"", bad("Request body too large (limit %d bytes)" % MAX_BODY)
        data = self.rfile.read(n)
        if len(data) < n:
            raise ConnectionError("client went away")
        return data, None

    def _read_chunked(self):
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise ConnectionError("client went away")
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                return b"", bad("Malformed chunked request body")
            if size == 0:
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks), None
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                return b"", bad("Request body too large (limit %d bytes)" % MAX_BODY)
            data = self.rfile.read(size)
            if len(data) < size:
                raise ConnectionError("client went away")
            chunks.append(data)
            self.rfile.readline(8)

    def _authorized(self):
        scheme, _, tok = self.headers.get("Authorization", "").strip().partition(" ")
        want = self.store.token.encode("utf-8")
        if scheme.lower() != "bearer":
            return False
        tok = tok.strip()
        if hmac.compare_digest(tok.encode("utf-8", "surrogateescape"), want):
            return True
        claims = self.server.auth.verify(tok)
        if claims is None:
            return False
        if claims.get("exp", 0) <= time.time():
            with self.server.auth.lock:
                self.server.auth.counts["api_expired"] += 1
            self._note += " token=expired"
            return False
        return True

    # -- dispatch
    def _handle(self):
        self._t0 = time.monotonic()
        self._status, self._nbytes, self._note, self._started = None, 0, "", False
        instance = "/"
        try:
            split = urlsplit(self.path)
            instance = split.path or "/"
            if instance.startswith(ADMIN_PREFIX):
                self._handle_admin(instance)
            elif instance in ("/oauth/device/code", "/oauth/token"):
                self._handle_oauth(instance)
            else:
                self._handle_api(instance, split.query)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            if not self._started:
                try:
                    self._send_problem(ApiError(500, "Internal Server Error",
                                                "An internal server error occurred while "
                                                "processing the request."), instance)
                except OSError:
                    pass
        finally:
            self._log()

    def _handle_api(self, path, query_string):
        store = self.store
        op, wid = route(self.command, path)
        store.count(op, "%s %s" % (self.command, self.path))
        body, body_err = self._read_body()
        latency, fault = store.take_faults(op)
        if latency:
            self._note += " latency=%gs" % latency
            time.sleep(latency)
        kind = fault["kind"] if fault else None
        if kind:
            self._note += " fault=" + kind
        if kind == "drop":
            self.close_connection = True
            self._status = "dropped"
            return
        if kind == "status":
            headers = []
            if "retry_after" in fault:
                ra = fault["retry_after"]
                headers.append(("Retry-After", str(int(ra)) if isinstance(ra, (int, float))
                                and float(ra).is_integer() else str(ra)))
            code = fault["status"]
            if "body" in fault:
                self._send(code, fault["body"].encode("utf-8", "surrogatepass"),
                           fault.get("content_type", "text/plain; charset=utf-8"), headers)
            else:
                try:
                    title = HTTPStatus(code).phrase
                except ValueError:
                    title = "Error"
                self._send_problem(ApiError(code, title, "Injected fault: HTTP %d" % code,
                                            headers), path)
            return
        if kind == "malformed":
            ctype = "application/x-ndjson" if op == "get_workspace_logs" else "application/json"
            self._send(200, MALFORMED.get(op, b'{"workspace_id": '), ctype)
            return

        status, out, ctype, headers = self._process(op, wid, path, query_string, body, body_err)
        if kind == "drop_after":
            self.close_connection = True
            self._status = "lost(%s)" % status
            return
        if isinstance(out, Record):
            self._stream_logs(out, kind == "truncated")
            return
        if kind == "truncated":
            self.close_connection = True
            if len(out) >= 2:
                self._send(status, out, ctype, headers, payload=out[:len(out) // 2])
            else:
                self._send(status, out, ctype, headers, declared=len(out) + 16)
            return
        self._send(status, out, ctype, headers)

    # -- the logs stream
    CHUNK = 256 << 10

    def _write_lines(self, lines, chunked):
        """Lines out in chunks of about CHUNK bytes, each written at once
        (unbuffered socket writes: every chunk is on the wire on return)."""
        i, n, total = 0, len(lines), 0
        while i < n:
            j, size = i, 0
            while j < n and size < self.CHUNK:
                size += len(lines[j])
                j += 1
            body = b"".join(lines[i:j])
            self.wfile.write(b"%x\r\n%s\r\n" % (size, body) if chunked else body)
            total += size
            i = j
        return total

    def _client_gone(self):
        """True once the client has closed its end (EOF waiting to be read)."""
        try:
            p = select.poll()
            p.register(self.connection, select.POLLIN)
            ev = p.poll(0)
            if not ev:
                return False
            if ev[0][1] & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                return True
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _stream_logs(self, rec, truncated):
        """GET .../logs: every line held, then each new one as it is appended,
        as chunks of a chunked 200 (HTTP/1.0: a body ended by closing). Ends
        cleanly (terminating chunk) when the workspace is deleted, after
        log_end_after seconds, after MAX_STREAM seconds or at shutdown;
        abruptly (no terminating chunk) after log_drop_after lines or with
        the truncated fault (half the lines held); quietly when the client
        goes away. Waits on the store's condition, never longer than 0.5 s."""
        store, server, log = self.store, self.server, rec.log
        wid = log.wid
        chunked = self.request_version == "HTTP/1.1"
        with store.cond:
            store.streams_started += 1
            store.open_streams[wid] = store.open_streams.get(wid, 0) + 1
            log.streams += 1
            store.streamed.add(log)
            store.cond.notify_all()
        server.start_generator()
        self._started = True
        t0 = time.monotonic()
        sent, nbytes, idx, how = 0, 0, 0, "client gone"

        def state(now):
            """(why the stream ends or None, how long to wait at most)"""
            log.release(now)
            end_after = store.log_end_after
            limit = min(end_after, MAX_STREAM) if end_after > 0 else MAX_STREAM
            left = limit - (now - t0)
            if log.closed or store.closed:
                return "deleted", 0
            if server.stopping:
                return "shutdown", 0
            if left <= 0:
                return ("end_after" if end_after > 0 else "max"), 0
            due = log.next_due()
            return None, min(0.5, left, due - now if due is not None else 0.5)

        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Cache-Control", "no-cache")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            if truncated:
                with store.cond:
                    data = log.lines[:max(len(log.lines) // 2, 1)]
                nbytes += self._write_lines(data, chunked)
                sent, how = len(data), "truncated"
                self.close_connection = True
                return
            while True:
                with store.cond:
                    why, wait = state(time.monotonic())
                    if why is None and idx == len(log.lines):
                        store.cond.wait(max(wait, 0.001))
                        why, _ = state(time.monotonic())
                    data = log.lines[idx:]
                    idx += len(data)
                    drop_after = store.log_drop_after
                if drop_after and sent + len(data) >= drop_after:
                    data = data[:max(drop_after - sent, 0)]
                    nbytes += self._write_lines(data, chunked)
                    sent += len(data)
                    how = "dropped"
                    self.close_connection = True   # no terminating chunk
                    return
                if data:
                    nbytes += self._write_lines(data, chunked)
                    sent += len(data)
                if why is not None:
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                    how = why
                    if why == "shutdown" or not chunked:
                        self.close_connection = True
                    return
                if not data and self._client_gone():
                    self.close_connection = True
                    return
        except OSError:     # ConnectionError, TimeoutError: the client went away
            self.close_connection = True
        finally:
            with store.cond:
                n = store.open_streams.get(wid, 0) - 1
                if n > 0:
                    store.open_streams[wid] = n
                else:
                    store.open_streams.pop(wid, None)
                log.streams -= 1
                if log.streams <= 0:
                    store.streamed.discard(log)
                    log.next_tick = None
                store.cond.notify_all()
            self._status, self._nbytes = 200, nbytes
            self._note += " stream=%s lines=%d %.1fs" % (how, sent, time.monotonic() - t0)

    def _process(self, op, wid, path, query_string, body, body_err):
        try:
            if not self._authorized():
                raise ApiError(401, "Unauthorized", "Missing or invalid bearer token",
                               [("WWW-Authenticate", 'Bearer realm="exalsius"')])
            if op is None:
                raise ApiError(404, "Not Found", "No such endpoint: %s %s"
                               % (self.command, path))
            if body_err:
                raise body_err
            query = parse_qs(query_string, keep_blank_values=True)
            return getattr(Api(self.store), op)(wid, query, body)
        except ApiError as e:
            return (e.status, problem_body(e.status, e.title, e.detail, path),
                    "application/problem+json", e.headers)

    # -- the login service (form-encoded requests, JSON answers)
    def _handle_oauth(self, path):
        body, body_err = self._read_body()
        if self.command != "POST":
            return self._send_json(405, {"error": "invalid_request",
                                         "error_description": "POST only"})
        if body_err:
            return self._send_json(400, {"error": "invalid_request",
                                         "error_description": body_err.detail})
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return self._send_json(400, {"error": "invalid_request",
                                         "error_description": "form-encoded body expected"})
        try:
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"),
                                                 keep_blank_values=True).items()}
        except UnicodeDecodeError:
            form = {}
        auth = self.server.auth
        if path == "/oauth/device/code":
            status, out = auth.device_code(form)
        else:
            status, out = auth.token(form)
        if status == 200:
            self._note += " grant=%s" % form.get("grant_type", "device_code")
        else:
            self._note += " error=%s" % out.get("error")
        self._send_json(status, out)

    # -- admin API (no auth)
    def _admin_logs(self, m, body):
        """GET ?id=UUID: {"lines": [every line held]}; POST {"id", "lines": [...]}
        or {"id", "count", "size"}: append, answer {"ok": true, "total": N}."""
        store = self.store
        if m == "GET":
            q = parse_qs(urlsplit(self.path).query)
            wid = q.get("id", [""])[0]
            if not wid:
                raise bad("Parameter 'id' is required")
            with store.lock:
                log = store._log(store._lookup(wid))
                lines = list(log.lines)
            return self._send(200, b"".join((b'{"lines":[', b",".join(
                ln[:-1] for ln in lines), b"]}")), "application/json")
        obj = parse_json(body)
        if not isinstance(obj, dict):
            raise bad("Body must be a JSON object")
        extra = sorted(set(obj) - {"id", "lines", "count", "size"})
        if extra:
            raise bad("Unknown field(s): " + ", ".join(extra))
        wid = obj.get("id")
        if not isinstance(wid, str) or not wid:
            raise bad("Field 'id' must be a workspace id (string)")
        lines = obj.get("lines")
        count, size = obj.get("count"), obj.get("size", 64)
        if ("lines" in obj) == ("count" in obj):
            raise bad("Give exactly one of 'lines' and 'count'")
        if "lines" in obj:
            if "size" in obj:
                raise bad("Field 'size' goes with 'count'")
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                raise bad("Field 'lines' must be a list of strings")
        else:
            for f, v, hi in (("count", count, 1000000), ("size", size, 65536)):
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
                    raise bad("Field '%s' must be an integer between 0 and %d" % (f, hi))
            if count * size > MAX_FILL:
                raise bad("count * size must not exceed %d bytes" % MAX_FILL)
        with store.cond:
            log = store._log(store._lookup(wid))
            if log.closed:
                raise ApiError(404, "Workspace Not Found",
                               "The workspace with ID %s was deleted." % wid)
            if lines is not None:
                for msg in lines:
                    log.append(msg)
            else:
                log.fill(count, size)
            total = len(log.lines)
            store.cond.notify_all()
        return self._send_json(200, {"ok": True, "total": total})

    def _handle_admin(self, path):
        body, body_err = self._read_body()
        store, m, name = self.store, self.command, path[len(ADMIN_PREFIX):]
        try:
            if body_err:
                raise body_err
            if name == "auth" and m in ("GET", "POST"):
                obj = parse_json(body) if m == "POST" else {}
                if not isinstance(obj, dict):
                    raise bad("Body must be a JSON object")
                if m == "POST":
                    return self._send_json(200, self.server.auth.admin(obj))
                with self.server.auth.lock:
                    return self._send_json(200, self.server.auth.state_locked())
            if (m, name) == ("GET", "auth/secrets"):
                with self.server.auth.lock:
                    return self._send_json(200, {"secrets": list(self.server.auth.secrets)})
            if (m, name) == ("POST", "auth/mint"):
                obj = parse_json(body) if body else {}
                if not isinstance(obj, dict):
                    raise bad("Body must be a JSON object")
                return self._send_json(200, self.server.auth.mint(obj))
            if (m, name) == ("GET", "health"):
                return self._send_json(200, {"ok": True})
            if (m, name) == ("GET", "counts"):
                with store.lock:
                    out = dict(store.counts, total=store.total)
                return self._send_json(200, out)
            if (m, name) == ("POST", "reset"):
                with store.lock:
                    store.counts = dict.fromkeys(OPERATIONS, 0)
                    store.total = 0
                    store.streams_started = 0
                    out = dict(store.counts, total=0)
                return self._send_json(200, out)
            if (m, name) == ("GET", "requests"):
                # ?since=N: only the requests after the first N (absolute index)
                since = parse_qs(urlsplit(self.path).query).get("since", ["0"])[0]
                if not since.isdigit():
                    raise bad("Parameter 'since' must be a non-negative integer")
                with store.lock:
                    first = store.requests_dropped
                    out = {"requests": store.requests[max(int(since) - first, 0):],
                           "next": first + len(store.requests)}
                return self._send_json(200, out)
            if (m, name) == ("POST", "restore"):
                # everything as at start-up (seeded workspaces, templates, the
                # start token, no faults, counts and request lines zero);
                # settings (config) stay
                fresh = Store(self.server.start_token, store.pending_delay, store.quiet)
                fresh.log_rate, fresh.log_end_after, fresh.log_drop_after = (
                    store.log_rate, store.log_end_after, store.log_drop_after)
                self.server.seed(fresh)
                self.server.store = fresh
                with store.cond:    # the old workspaces' log streams end
                    store.closed = True
                    store.cond.notify_all()
                return self._send_json(200, {"ok": True, "workspaces": len(fresh.records)})
            if name == "faults" and m in ("GET", "POST", "DELETE"):
                rule = parse_fault(parse_json(body)) if m == "POST" else None
                with store.lock:
                    if m == "DELETE":
                        store.faults = []
                    elif rule is not None:
                        store.fault_seq += 1
                        rule["id"] = store.fault_seq
                        store.faults.append(rule)
                    out = {"ok": True, "faults": [dict(r) for r in store.faults]}
                return self._send_json(200, out)
            if (m, name) == ("POST", "workspaces"):
                items = parse_json(body)
                if isinstance(items, dict):
                    items = [items]
                if not isinstance(items, list):
                    raise bad("Body must be a JSON object or a list")
                with store.lock:
                    for obj in items:
                        store._add(Record(obj, False))
                    total = len(store.records)
                return self._send_json(200, {"ok": True, "added": len(items), "total": total})
            if (m, name) == ("POST", "token"):
                obj = parse_json(body)
                tok = obj.get("token") if isinstance(obj, dict) else None
                if not isinstance(tok, str) or not tok or any(c in tok for c in " \t\r\n"):
                    raise bad("Field 'token' must be a non-empty string without blanks")
                with store.lock:
                    store.token = tok
                return self._send_json(200, {"ok": True})
            if name == "config" and m in ("GET", "POST"):
                obj = parse_json(body) if m == "POST" else {}
                if not isinstance(obj, dict):
                    raise bad("Body must be a JSON object")
                extra = sorted(set(obj) - {"pending_delay", "quiet", "keep_deleted",
                                           "log_rate", "log_end_after", "log_drop_after"})
                if extra:
                    raise bad("Unknown setting(s): " + ", ".join(extra))
                pd = obj.get("pending_delay")
                if "pending_delay" in obj and (isinstance(pd, bool) or
                                               not isinstance(pd, (int, float)) or pd < 0):
                    raise bad("Field 'pending_delay' must be a non-negative number")
                for f, hi in (("log_rate", 10000), ("log_end_after", MAX_STREAM)):
                    v = obj.get(f)
                    if f in obj and (isinstance(v, bool) or not isinstance(v, (int, float))
                                     or not 0 <= v <= hi):
                        raise bad("Field '%s' must be a number between 0 and %g" % (f, hi))
                v = obj.get("log_drop_after")
                if "log_drop_after" in obj and (isinstance(v, bool) or not isinstance(v, int)
                                                or v < 0):
                    raise bad("Field 'log_drop_after' must be a non-negative integer")
                for flag in ("quiet", "keep_deleted"):
                    if flag in obj and not isinstance(obj[flag], bool):
                        raise bad("Field '%s' must be a boolean" % flag)
                with store.lock:
                    if "pending_delay" in obj:
                        store.pending_delay = float(pd)
                    if "quiet" in obj:
                        store.quiet = obj["quiet"]
                    if "keep_deleted" in obj:
                        store.keep_deleted = obj["keep_deleted"]
                    if "log_rate" in obj:
                        store.log_rate = float(obj["log_rate"])
                        for log in store.streamed:
                            log.next_tick = None    # the new rate from now on
                    if "log_end_after" in obj:
                        store.log_end_after = float(obj["log_end_after"])
                    if "log_drop_after" in obj:
                        store.log_drop_after = obj["log_drop_after"]
                    store.cond.notify_all()     # open streams see the change
                    out = {"pending_delay": store.pending_delay, "quiet": store.quiet,
                           "keep_deleted": store.keep_deleted, "log_rate": store.log_rate,
                           "log_end_after": store.log_end_after,
                           "log_drop_after": store.log_drop_after}
                if store.log_rate > 0:
                    self.server.start_generator()
                return self._send_json(200, out)
            if name == "logs" and m in ("GET", "POST"):
                return self._admin_logs(m, body)
            if (m, name) == ("GET", "streams"):
                with store.lock:
                    out = {"open": dict(store.open_streams),
                           "total": sum(store.open_streams.values()),
                           "started": store.streams_started}
                return self._send_json(200, out)
            if (m, name) == ("GET", "state"):
                with store.lock:
                    store._settle()
                    out = b"".join((b'{"workspaces":[',
                                    b",".join(r.json() for r in store.records.values()),
                                    b'],"version":', str(store.version).encode(),
                                    b',"pending_delay":', dump(store.pending_delay),
                                    b',"faults":', dump(store.faults), b"}"))
                return self._send(200, out, "application/json")
            raise ApiError(404, "Not Found", "No such admin endpoint: %s %s" % (m, path))
        except ApiError as e:
            self._send_problem(e, path)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    stopping = False        # set at shutdown: log streams end, the generator stops
    generator = None
    _gen_lock = threading.Lock()

    def start_generator(self):
        """The log_rate generator: one thread at most, started on first need."""
        with self._gen_lock:
            if self.generator is None and not self.stopping:
                self.generator = threading.Thread(target=self._generate,
                                                  name="log-generator", daemon=True)
                self.generator.start()

    def _generate(self):
        """Appends "tick N" lines at log_rate per second to every workspace
        with an open log stream; sleeps on the store's condition (at most
        0.5 s, at least 10 ms: a high rate is served in batches)."""
        while not self.stopping:
            store = self.store
            with store.cond:
                now = time.monotonic()
                wake = now + 0.5
                rate = store.log_rate if not store.closed else 0.0
                added = False
                for log in store.streamed:
                    if rate <= 0 or log.closed:
                        log.next_tick = None
                        continue
                    period = 1.0 / rate
                    if log.next_tick is None:
                        log.next_tick = now + period
                    n = 0
                    while log.next_tick <= now and n < 100000:
                        log.release(now)    # due start-up lines keep their place
                        log.ticks += 1
                        log.append("tick %d" % log.ticks)
                        log.next_tick += period
                        n += 1
                    if log.next_tick <= now:    # fell far behind: skip, do not burst
                        log.next_tick = now + period
                    added = added or n > 0
                    wake = min(wake, log.next_tick)
                if added:
                    store.cond.notify_all()
                if not self.stopping:
                    store.cond.wait(min(0.5, max(0.01, wake - now)))

    def halt(self):
        """Shutdown: streams end (terminating chunk), the generator stops."""
        self.stopping = True
        store = self.store
        with store.cond:
            store.cond.notify_all()


# ---------------------------------------------------------------- main


class _Shutdown(Exception):
    pass


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Local emulator of the exalsius workspace API (127.0.0.1 only). "
                    "The accepted bearer token comes from $EXALSIUS_TOKEN "
                    "(default %r)." % DEFAULT_TOKEN,
        epilog="Workspace logs are an endless chunked NDJSON stream. Admin API "
               "(unauthenticated, /_emulator/): POST config {log_rate: lines/s "
               "appended to streamed workspaces, log_end_after: s until a stream "
               "ends cleanly, log_drop_after: lines until it is cut; 0 = off, the "
               "default}; POST logs {id, lines: [...]} or {id, count, size} appends "
               "lines; GET logs?id=UUID lists them; GET streams counts open and "
               "started log streams. See the module docstring for the rest.")
    p.add_argument("--port", type=int, default=0, help="TCP port (default 0: ephemeral)")
    p.add_argument("--port-file", help="write the bound port number to this file")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seed N generated workspaces (deterministic)")
    p.add_argument("--demo", action="store_true", help="seed a few demo workspaces")
    p.add_argument("--pending-delay", type=float, default=2.0, metavar="SECONDS",
                   help="how long created workspaces stay PENDING (default 2.0)")
    p.add_argument("--quiet", action="store_true", help="no per-request log lines")
    p.add_argument("--base-path", default="/v1", choices=("/v1", ""),
                   help='serve the API under /v1 (default) or at the bare root ("")')
    p.add_argument("--token-ttl", type=int, default=3600, metavar="SECONDS",
                   help="lifetime of access tokens the login service issues (default 3600)")
    args = p.parse_args(argv)
    if args.seed < 0 or args.pending_delay < 0 or not 0 <= args.port <= 65535:
        p.error("--seed, --pending-delay and --port must not be negative")
    return args


def main(argv=None):
    global API_PREFIX
    args = parse_args(argv)
    API_PREFIX = args.base_path
    token = os.environ.get("EXALSIUS_TOKEN") or DEFAULT_TOKEN
    store = Store(token, args.pending_delay, args.quiet)

    def seed(st):
        if args.demo:
            st.seed_demo()
        if args.seed:
            st.seed_generated(args.seed)

    t0 = time.monotonic()
    seed(store)
    seeded = time.monotonic() - t0

    server = Server(("127.0.0.1", args.port), Handler)
    server.store, server.seed, server.start_token = store, seed, token
    server.auth = Auth()
    server.auth.token_ttl = args.token_ttl
    port = server.server_address[1]

    def halt():
        server.halt()
        server.shutdown()

    def stop(signum, frame):
        # raising here could land inside socketserver's own request
        # handling, which swallows it: ask the loop to end instead
        threading.Thread(target=halt, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if args.port_file:
            write_port_file(args.port_file, port)
        sys.stderr.write("emulator: listening on http://127.0.0.1:%d%s (%d workspaces, "
                         "seeded in %.2fs)\n" % (port, API_PREFIX, len(store.records), seeded))
        sys.stderr.flush()
        server.serve_forever(poll_interval=0.5)
    except (_Shutdown, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        server.halt()
        # open log streams see the flag within 0.5 s and send their
        # terminating chunk; wait for them a little, then go regardless
        st = server.store
        deadline = time.monotonic() + 1.5
        with st.cond:
            while st.open_streams and time.monotonic() < deadline:
                st.cond.wait(0.1)
        if server.generator is not None:
            server.generator.join(1.0)
        server.server_close()
    sys.stderr.write("emulator: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
