#!/usr/bin/env python3
"""Contract test of scripts/emulator.py against the published OpenAPI spec.

Standalone (Python standard library only, no pytest). Starts the emulator on
an ephemeral 127.0.0.1 port, drives every workspace endpoint and the admin
API, and validates each response body against the schema the spec declares
for that path, method and status. Prints "ok - NAME" / "not ok - NAME: WHY"
per check and ends with "contract: N passed, N failed"; exits 1 on failure.

The spec is read from $EXALSIUS_OPENAPI_DIR (default: ../shared/exalsius-openapi
beside the repository). Without it the test fails.
"""

import datetime as dt
import http.client
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(REPO, "scripts", "emulator.py")


def _spec_dir():
    """$EXALSIUS_OPENAPI_DIR, else the nearest shared/exalsius-openapi beside
    the checkout or one of its parents (a clone may sit deeper than the
    main checkout); the first candidate when none exists."""
    if os.environ.get("EXALSIUS_OPENAPI_DIR"):
        return os.environ["EXALSIUS_OPENAPI_DIR"]
    d = os.path.dirname(REPO)
    first = os.path.join(d, "shared", "exalsius-openapi")
    while True:
        cand = os.path.join(d, "shared", "exalsius-openapi")
        if os.path.isfile(os.path.join(cand, "exalsius-workspaces.json")):
            return cand
        up = os.path.dirname(d)
        if up == d:
            return first
        d = up


SPEC_DIR = _spec_dir()
SPEC_FILE = os.path.join(SPEC_DIR, "exalsius-workspaces.json")
TOKEN = "contract-test-token-5f0c"
CLUSTER = "8f14e45f-ceea-4e7a-9b1d-3c2a1e5d0a01"
OTHER_CLUSTER = "0b9c4c55-3e3f-4f0e-9a51-6f7c2d1e0a99"
SEED = 50
PENDING_DELAY = 0.2
HTTP_TIMEOUT = 5.0

UUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
DATETIME_RE = re.compile(r"\A(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})"
                         r"(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))\Z")

# ---------------------------------------------------------------- reporting

PASSED = []
FAILED = []


def check(name, cond, why=""):
    if cond:
        PASSED.append(name)
        print("ok - %s" % name)
    else:
        FAILED.append(name)
        print("not ok - %s: %s" % (name, why or "condition false"))
    sys.stdout.flush()
    return bool(cond)


# ---------------------------------------------------------------- JSON Schema


def _is_datetime(s):
    m = DATETIME_RE.match(s)
    if not m:
        return False
    try:
        dt.datetime(*(int(g) for g in m.groups()[:6]))
    except ValueError:
        return False
    return m.group(9) is None or (int(m.group(9)) < 24 and int(m.group(10)) < 60)


FORMATS = {
    "uuid": lambda s: bool(UUID_RE.match(s)),
    "date-time": _is_datetime,
}
INT_RANGES = {"int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}


def _type_ok(v, t):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or \
            (isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    return False


def _json_eq(a, b):
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


class Validator:
    """The JSON-Schema subset the spec uses (OpenAPI 3.1 schema objects)."""

    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("unsupported $ref " + ref)
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def errors(self, inst, schema, path="$"):
        out = []
        self._v(inst, schema, path, out)
        return out

    def _v(self, v, s, p, out):
        if s is True or s is None:
            return
        if s is False:
            out.append("%s: not allowed" % p)
            return
        if "$ref" in s:
            self._v(v, self.resolve(s["$ref"]), p, out)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if s.get("nullable"):
                types = types + ["null"]
            if not any(_type_ok(v, t) for t in types):
                out.append("%s: expected %s, got %s" % (p, "|".join(types), type(v).__name__))
                return
        if "enum" in s and not any(_json_eq(v, e) for e in s["enum"]):
            out.append("%s: %r not in enum %r" % (p, v, s["enum"]))
        if "const" in s and not _json_eq(v, s["const"]):
            out.append("%s: %r != const %r" % (p, v, s["const"]))
        fmt = s.get("format")
        if isinstance(v, str) and fmt in FORMATS and not FORMATS[fmt](v):
            out.append("%s: %r is not a valid %s" % (p, v, fmt))
        if fmt in INT_RANGES and _type_ok(v, "integer"):
            lo, hi = INT_RANGES[fmt]
            if not lo <= v <= hi:
                out.append("%s: %r out of %s range" % (p, v, fmt))
        if isinstance(v, str):
            if "minLength" in s and len(v) < s["minLength"]:
                out.append("%s: shorter than %d" % (p, s["minLength"]))
            if "maxLength" in s and len(v) > s["maxLength"]:
                out.append("%s: longer than %d" % (p, s["maxLength"]))
            if "pattern" in s and not re.search(s["pattern"], v):
                out.append("%s: does not match %r" % (p, s["pattern"]))
        if _type_ok(v, "number") and not isinstance(v, bool):
            if "minimum" in s and v < s["minimum"]:
                out.append("%s: below minimum %r" % (p, s["minimum"]))
            if "maximum" in s and v > s["maximum"]:
                out.append("%s: above maximum %r" % (p, s["maximum"]))
        if isinstance(v, dict):
            for r in s.get("required", []):
                if r not in v:
                    out.append("%s: missing required property '%s'" % (p, r))
            props = s.get("properties", {})
            extra = s.get("additionalProperties", True)
            for k, x in v.items():
                if k in props:
                    self._v(x, props[k], "%s.%s" % (p, k), out)
                elif extra is False:
                    out.append("%s: unexpected property '%s'" % (p, k))
                elif isinstance(extra, dict):
                    self._v(x, extra, "%s.%s" % (p, k), out)
        if isinstance(v, list):
            if "items" in s:
                for i, x in enumerate(v):
                    self._v(x, s["items"], "%s[%d]" % (p, i), out)
            if "minItems" in s and len(v) < s["minItems"]:
                out.append("%s: fewer than %d items" % (p, s["minItems"]))
        for sub in s.get("allOf", []):
            self._v(v, sub, p, out)
        if "anyOf" in s and all(self.errors(v, sub, p) for sub in s["anyOf"]):
            out.append("%s: matches none of anyOf" % p)
        if "oneOf" in s:
            n = sum(1 for sub in s["oneOf"] if not self.errors(v, sub, p))
            if n != 1:
                out.append("%s: matches %d of oneOf (need exactly 1)" % (p, n))


# ---------------------------------------------------------------- HTTP


class Resp:
    def __init__(self, status, headers, body, elapsed):
        self.status, self.headers, self.body, self.elapsed = status, headers, body, elapsed

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:200])


def request(port, method, path, body=None, token=TOKEN, headers=None, conn=None):
    """One HTTP exchange; a fresh connection unless `conn` is given."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    h = {"Accept": "application/json, application/problem+json"}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    t0 = time.monotonic()
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, payload,
                    time.monotonic() - t0)
    finally:
        if own:
            conn.close()


class LogStream:
    """GET .../logs read by hand over a socket: the status and headers, then
    the chunks as they arrive, with the arrival time of every line. `ended`
    becomes "clean" (terminating chunk), "abrupt" (closed without it) or
    stays None (still open)."""

    def __init__(self, port, wid, token=TOKEN):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT)
        self.sock.sendall(("GET /v1/workspace/%s/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer %s\r\nAccept: application/x-ndjson\r\n\r\n"
                           % (wid, token)).encode())
        self.t0 = time.monotonic()
        self.raw, self.body, self.ended, self.eof = b"", b"", None, False
        self.lines, self.arrived = [], []   # raw line bytes, monotonic arrival
        while b"\r\n\r\n" not in self.raw:
            if not self._recv(self.t0 + HTTP_TIMEOUT):
                raise AssertionError("no response headers: %r" % self.raw[:200])
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        head = head.decode("latin-1").split("\r\n")
        self.status = int(head[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in
                        (h.split(":", 1) for h in head[1:])}
        self.chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        if not self.chunked:    # an error answer with a Content-Length
            n = int(self.headers.get("content-length", "0"))
            while len(self.raw) < n and self._recv(self.t0 + HTTP_TIMEOUT):
                pass
            self.body, self.ended = self.raw[:n], "clean"

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or self.eof:
            return False
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        except OSError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.raw += d
        return True

    def _parse(self):
        while self.ended is None:
            head, sep, rest = self.raw.partition(b"\r\n")
            if not sep:
                return
            size = int(head.split(b";")[0], 16)
            if size == 0:
                if rest.startswith(b"\r\n"):
                    self.ended = "clean"
                return
            if len(rest) < size + 2:
                return
            self.body += rest[:size]
            self.raw = rest[size + 2:]
            now = time.monotonic()
            *done, self.body = self.body.split(b"\n")
            for ln in done:
                self.lines.append(ln)
                self.arrived.append(now)

    def read(self, until=None, timeout=2.0):
        """Reads until until(self) holds, the stream ends or timeout s pass;
        returns whether until held (or the stream ended, without until)."""
        deadline = time.monotonic() + timeout
        while True:
            self._parse()
            if until is not None and until(self):
                return True
            if self.ended:
                return until is None
            if self.eof:
                self.ended = "abrupt"
                return until is None
            if not self._recv(deadline):
                if self.eof:
                    continue
                return False

    def docs(self, start=0):
        return [json.loads(ln) for ln in self.lines[start:]]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- the test


class Contract:
    def __init__(self, spec, port):
        self.spec, self.port = spec, port
        self.val = Validator(spec)

    def req(self, method, path, body=None, **kw):
        return request(self.port, method, path, body, **kw)

    def admin(self, method, name, body=None):
        r = request(self.port, method, "/_emulator/" + name, body, token=None)
        if r.status != 200:
            raise AssertionError("admin %s %s -> %r" % (method, name, r))
        return r.json()

    def declared(self, template, method, status):
        """(content type, schema, headers) the spec declares, or None."""
        op = self.spec["paths"][template][method.lower()]
        resp = op["responses"].get(str(status))
        if resp is None:
            return None
        if "$ref" in resp:
            resp = self.val.resolve(resp["$ref"])
        (ctype, media), = resp["content"].items()
        return ctype, media["schema"], resp.get("headers", {})

    def problem_errors(self, r):
        """Hand check of the problem+json error shape (any status)."""
        errs = []
        if not r.headers.get("content-type", "").startswith("application/problem+json"):
            errs.append("content-type %r" % r.headers.get("content-type"))
        try:
            d = r.json()["detail"]
        except (ValueError, KeyError, TypeError) as e:
            return errs + ["not a problem document: %r (%s)" % (r.body[:120], e)]
        if not isinstance(d, dict):
            return errs + ["detail is not an object"]
        for f in ("type", "title", "detail", "instance"):
            if not isinstance(d.get(f), str):
                errs.append("detail.%s missing or not a string" % f)
        if not str(d.get("type", "")).startswith("https://api.exalsius.ai/errors/"):
            errs.append("detail.type %r" % d.get("type"))
        if d.get("status") != r.status:
            errs.append("detail.status %r != %d" % (d.get("status"), r.status))
        return errs

    def expect(self, name, r, template, method, status):
        """Check status, content type, declared headers and body schema.
        Returns the parsed document (a list of lines for NDJSON) or None."""
        if not check(name + " status", r.status == status,
                     "got %d, want %d: %r" % (r.status, status, r.body[:300])):
            return None
        decl = self.declared(template, method, status)
        if decl is None:
            errs = self.problem_errors(r) if status >= 400 else ["no schema declared"]
            check(name + " problem+json", not errs, "; ".join(errs))
            return r.json() if not errs else None
        ctype, schema, headers = decl
        got = r.headers.get("content-type", "")
        check(name + " content-type", got.split(";")[0].strip() == ctype,
              "got %r, want %r" % (got, ctype))
        for hname, hdecl in headers.items():
            hv = r.headers.get(hname.lower())
            ok = hv is not None
            if ok and hdecl.get("schema", {}).get("type") == "integer":
                ok = hv.strip().isdigit()
            check("%s header %s" % (name, hname), ok, "got %r" % hv)
        try:
            if ctype == "application/x-ndjson":
                text = r.body.decode("utf-8")
                docs = [json.loads(line) for line in text.split("\n") if line]
                errs = []
                for i, doc in enumerate(docs):
                    errs += self.val.errors(doc, schema, "$line%d" % (i + 1))
                if not text.endswith("\n"):
                    errs.append("NDJSON does not end with a newline")
            else:
                docs = r.json()
                errs = self.val.errors(docs, schema)
        except ValueError as e:
            check(name + " schema", False, "unparsable body %r: %s" % (r.body[:200], e))
            return None
        check(name + " schema", not errs, "; ".join(errs[:5]))
        return docs

    # ------------------------------------------------------------ checks

    def test_validator(self):
        v = self.val
        ws = {"name": "x", "cluster_id": CLUSTER,
              "template": {"name": "t", "variables": {}}, "resources": {}}
        wsr = {"$ref": "#/components/schemas/workspace"}
        check("validator accepts a minimal workspace", not v.errors(ws, wsr), v.errors(ws, wsr))
        bad = dict(ws)
        del bad["name"]
        check("validator rejects missing required field",
              any("name" in e for e in v.errors(bad, wsr)))
        check("validator rejects wrong type", v.errors(dict(ws, name=5), wsr))
        check("validator rejects bad uuid", v.errors(dict(ws, cluster_id="123"), wsr))
        check("validator rejects bad enum", v.errors(dict(ws, workspace_status="ZOMBIE"), wsr))
        check("validator rejects bad date-time",
              v.errors(dict(ws, created_at="2026-13-01T00:00:00Z"), wsr)
              and v.errors(dict(ws, created_at="yesterday"), wsr))
        check("validator rejects bool as integer",
              v.errors(dict(ws, resources={"gpu_count": True}), wsr))
        check("validator rejects int32 overflow",
              v.errors(dict(ws, resources={"gpu_count": 2 ** 31}), wsr))
        check("validator rejects nested item errors", v.errors(
            dict(ws, access_information=[{"access_type": "NODE_PORT", "port_number": 1}]), wsr))
        s = {"type": "object", "properties": {"a": {"type": ["string", "null"]}},
             "additionalProperties": False}
        check("validator type lists and additionalProperties",
              not v.errors({"a": None}, s) and v.errors({"a": 1}, s) and v.errors({"b": 1}, s))
        check("validator anyOf/oneOf/allOf",
              not v.errors(1, {"anyOf": [{"type": "string"}, {"type": "integer"}]})
              and v.errors(1.5, {"anyOf": [{"type": "string"}, {"type": "integer"}]})
              and v.errors(1, {"oneOf": [{"type": "number"}, {"type": "integer"}]})
              and v.errors("x", {"allOf": [{"type": "string"}, {"enum": ["y"]}]}))
        err = {"$ref": "#/components/schemas/error"}
        check("validator rejects error without detail.status",
              v.errors({"detail": {"type": "t", "title": "t", "detail": "d",
                                   "instance": "/"}}, err))

    def test_auth(self):
        for name, tok in (("no token", None), ("wrong token", "nope")):
            r = self.req("GET", "/v1/workspaces", token=tok)
            check("401 %s status" % name, r.status == 401, repr(r))
            errs = self.problem_errors(r)
            check("401 %s problem+json" % name, not errs, "; ".join(errs))
        r = self.req("GET", "/v1/workspaces", headers={"Authorization": "Basic " + TOKEN})
        check("401 non-bearer scheme", r.status == 401, repr(r))

    def form(self, path, fields):
        from urllib.parse import urlencode
        return self.req("POST", path, urlencode(fields).encode(), token=None,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})

    def test_login_service(self):
        """The Auth0-like service: device flow, JWT access tokens, rotation."""
        cid = "contract-client"
        grant = "urn:ietf:params:oauth:grant-type:device_code"
        r = self.form("/oauth/device/code", {"client_id": cid, "scope": "openid"})
        d = r.json()
        check("device code answers the RFC 8628 fields", r.status == 200 and all(
            k in d for k in ("device_code", "user_code", "verification_uri",
                             "expires_in", "interval")), repr(r))
        poll = {"client_id": cid, "grant_type": grant, "device_code": d["device_code"]}
        r = self.form("/oauth/token", poll)
        check("an unapproved code is pending", r.status == 403 and
              r.json().get("error") == "authorization_pending", repr(r))
        self.admin("POST", "auth", {"device": "slow_down"})
        r = self.form("/oauth/token", poll)
        check("slow_down once when asked", r.json().get("error") == "slow_down", repr(r))
        self.admin("POST", "auth", {"device": "approve"})
        r = self.form("/oauth/token", poll)
        tok = r.json()
        check("an approved code gives tokens", r.status == 200 and all(
            k in tok for k in ("access_token", "refresh_token", "id_token", "expires_in")), repr(r))
        claims = json.loads(base64.urlsafe_b64decode(
            tok["access_token"].split(".")[1] + "=="))
        check("the access token is a JWT with exp, sub, email, org",
              all(k in claims for k in ("exp", "sub", "email", "org_id")), repr(claims))
        r = self.form("/oauth/token", poll)
        check("a device code gives tokens once", r.status == 403, repr(r))
        r = self.req("GET", "/v1/workspaces", token=tok["access_token"])
        check("the API accepts the issued token", r.status == 200, repr(r))
        ref = {"client_id": cid, "grant_type": "refresh_token",
               "refresh_token": tok["refresh_token"]}
        r = self.form("/oauth/token", ref)
        check("refresh gives a new refresh token", r.status == 200 and
              r.json()["refresh_token"] != tok["refresh_token"], repr(r))
        r = self.form("/oauth/token", ref)
        check("a used refresh token is refused", r.status == 403 and
              r.json().get("error") == "invalid_grant", repr(r))
        old = self.admin("POST", "auth/mint", {"ttl": -5})
        r = self.req("GET", "/v1/workspaces", token=old["access_token"])
        check("an expired access token gets 401", r.status == 401, repr(r))
        d2 = self.form("/oauth/device/code", {"client_id": cid}).json()
        self.admin("POST", "auth", {"device": "deny"})
        r = self.form("/oauth/token", dict(poll, device_code=d2["device_code"]))
        check("a denied code says access_denied", r.json().get("error") == "access_denied", repr(r))
        d3 = self.form("/oauth/device/code", {"client_id": cid}).json()
        self.admin("POST", "auth", {"device": "expire"})
        r = self.form("/oauth/token", dict(poll, device_code=d3["device_code"]))
        check("an expired code says expired_token", r.json().get("error") == "expired_token", repr(r))
        r = self.req("POST", "/oauth/token", b"{}", token=None)
        check("a JSON body is refused", r.status == 400, repr(r))

    def test_list(self):
        r = self.req("GET", "/v1/workspaces")
        doc = self.expect("list", r, "/workspaces", "get", 200)
        if doc is None:
            return []
        items = doc["workspaces"]
        check("list total matches seed", doc.get("total") == SEED == len(items),
              "total=%r len=%d" % (doc.get("total"), len(items)))
        check("list X-Total-Count", r.headers.get("x-total-count") == str(len(items)),
              repr(r.headers.get("x-total-count")))
        times = [dt.datetime.fromisoformat(w["created_at"].replace("Z", "+00:00"))
                 for w in items]
        check("list ordered by created_at", times == sorted(times))
        names = [w["name"] for w in items]
        check("seed has names with space, slash, leading dot",
              any(" " in n for n in names) and any("/" in n for n in names)
              and any(n.startswith(".") for n in names), names[:20])
        check("seed has a name three times", any(names.count(n) >= 3 for n in names))
        check("seed has unicode and % names",
              "модель" in names and "训练" in names and "café" in names
              and any("%" in n for n in names))
        check("seed has a 300-byte name", any(len(n.encode()) == 300 for n in names))
        check("seed has ws-0001", "ws-0001" in names)
        statuses = {w["workspace_status"] for w in items}
        check("seed statuses spread", {"RUNNING", "STOPPED", "PENDING", "FAILED"} <= statuses,
              statuses)
        running = [w for w in items if w["workspace_status"] == "RUNNING"]
        check("running seeds carry SSH access", running and all(
            any(a["access_protocol"] == "SSH" for a in w["access_information"])
            for w in running))
        check("non-running seeds carry no access", all(
            not w["access_information"] for w in items if w["workspace_status"] != "RUNNING"))
        clusters = sorted({w["cluster_id"] for w in items})
        check("seed uses several clusters", len(clusters) >= 2, clusters)
        total = 0
        for c in clusters:
            r = self.req("GET", "/v1/workspaces?cluster_id=" + c)
            d = self.expect("list cluster %s" % c[:8], r, "/workspaces", "get", 200)
            if d is not None:
                check("list cluster %s filtered" % c[:8],
                      all(w["cluster_id"] == c for w in d["workspaces"])
                      and d["total"] == len(d["workspaces"]) ==
                      int(r.headers.get("x-total-count", -1)))
                total += d["total"]
        check("cluster filters partition the list", total == len(items),
              "%d != %d" % (total, len(items)))
        r = self.req("GET", "/v1/workspaces?cluster_id=" + OTHER_CLUSTER)
        d = self.expect("list empty cluster", r, "/workspaces", "get", 200)
        check("list empty cluster is empty", d is not None and d["workspaces"] == []
              and d["total"] == 0)
        r = self.req("GET", "/v1/workspaces?cluster_id=not-a-uuid")
        self.expect("list invalid cluster_id", r, "/workspaces", "get", 400)
        return items

    def test_templates(self):
        r = self.req("GET", "/v1/management/workspace-templates")
        doc = self.expect("templates", r, "/management/workspace-templates", "get", 200)
        if doc:
            names = [t["name"] for t in doc["workspace_templates"]]
            check("templates include jupyter-notebook and total",
                  "jupyter-notebook" in names and doc.get("total") == len(names) >= 3, names)

    def create_body(self, name, cluster=CLUSTER, template="jupyter-notebook"):
        return {"name": name, "cluster_id": cluster,
                "template": {"name": template, "variables": {"notebook_port": "8888"}},
                "resources": {"gpu_count": 1, "gpu_type": "A100", "gpu_vendor": "NVIDIA",
                              "cpu_cores": 4, "memory_gb": 16, "storage_gb": 100},
                "description": "contract test"}

    def create(self, name, label, **kw):
        r = self.req("POST", "/v1/workspaces", self.create_body(name, **kw))
        doc = self.expect(label, r, "/workspaces", "post", 201)
        return doc["workspace_id"] if doc else None

    def describe(self, wid, label):
        r = self.req("GET", "/v1/workspace/" + wid)
        doc = self.expect(label, r, "/workspace/{workspace_id}", "get", 200)
        return doc["workspace"] if doc else None

    def test_create_and_lifecycle(self):
        name = "contract ws/ü %"
        t_create = time.monotonic()
        wid = self.create(name, "create")
        if not wid:
            return
        ws = self.describe(wid, "describe new")
        early = time.monotonic() - t_create < PENDING_DELAY
        if ws:
            check("new workspace fields", ws["id"] == wid and ws["name"] == name
                  and ws["cluster_id"] == CLUSTER and ws["resources"]["gpu_count"] == 1
                  and ws["template"]["name"] == "jupyter-notebook"
                  and ws["description"] == "contract test", ws)
            check("new workspace PENDING without access", not early or (
                ws["workspace_status"] == "PENDING" and ws["access_information"] == []),
                ws["workspace_status"])
            for f in ("owner", "owner_username", "owner_org_id", "owner_org_name",
                      "owner_teams", "resources", "created_at", "template", "description"):
                if f not in ws:
                    check("new workspace has %s" % f, False)
        time.sleep(max(0.0, PENDING_DELAY + 0.15 - (time.monotonic() - t_create)))
        ws = self.describe(wid, "describe after delay")
        if ws:
            check("PENDING -> RUNNING after delay", ws["workspace_status"] == "RUNNING",
                  ws["workspace_status"])
            prot = sorted(a["access_protocol"] for a in ws["access_information"])
            check("running jupyter has SSH and HTTP access", prot == ["HTTP", "SSH"], prot)
            ssh = [a for a in ws["access_information"] if a["access_protocol"] == "SSH"]
            check("SSH access entry shape", ssh and ssh[0]["access_type"] == "NODE_PORT"
                  and ssh[0]["external_ips"] and 30000 <= ssh[0]["port_number"] <= 32767, ssh)
        r = self.req("GET", "/v1/workspaces")
        d = self.expect("list after create", r, "/workspaces", "get", 200)
        if d:
            check("list shows created workspace last", d["workspaces"][-1]["id"] == wid
                  and d["total"] == SEED + 1)

        # create: duplicates and invalid bodies
        r = self.req("POST", "/v1/workspaces", self.create_body(name))
        d = self.expect("create duplicate", r, "/workspaces", "post", 409)
        check("create duplicate title", d and d["detail"]["title"] == "Workspace Already Exists",
              repr(r))
        other = self.create(name, "create same name in other cluster", cluster=OTHER_CLUSTER)
        cases = [
            ("missing cluster_id", {k: v for k, v in self.create_body("a").items()
                                    if k != "cluster_id"}, "cluster_id"),
            ("bad cluster_id", dict(self.create_body("a"), cluster_id="nope"), "cluster_id"),
            ("empty name", dict(self.create_body("a"), name=""), "name"),
            ("name not string", dict(self.create_body("a"), name=7), "name"),
            ("template without variables", dict(self.create_body("a"),
                                                template={"name": "x"}), "template"),
            ("missing resources", {k: v for k, v in self.create_body("a").items()
                                   if k != "resources"}, "resources"),
            ("gpu_count string", dict(self.create_body("a"),
                                      resources={"gpu_count": "1"}), "gpu_count"),
            ("gpu_type number", dict(self.create_body("a"),
                                     resources={"gpu_type": 1}), "gpu_type"),
            ("array body", [1, 2], None),
            ("non-JSON body", b"{not json", None),
            ("empty body", b"", None),
        ]
        for label, body, field in cases:
            r = self.req("POST", "/v1/workspaces", body)
            d = self.expect("create invalid: " + label, r, "/workspaces", "post", 400)
            if d and field:
                check("create invalid: %s names the field" % label,
                      "'%s" % field in d["detail"]["detail"] or field in d["detail"]["detail"],
                      d["detail"]["detail"])
        r = self.req("POST", "/v1/workspaces", b"x" * ((1 << 20) + 10))
        self.expect("create oversize body", r, "/workspaces", "post", 400)

        # describe errors
        r = self.req("GET", "/v1/workspace/" + OTHER_CLUSTER)
        d = self.expect("describe unknown", r, "/workspace/{workspace_id}", "get", 404)
        check("describe unknown instance is the path",
              d and d["detail"]["instance"] == "/v1/workspace/" + OTHER_CLUSTER)
        r = self.req("GET", "/v1/workspace/not-a-uuid")
        self.expect("describe malformed id", r, "/workspace/{workspace_id}", "get", 400)

        # stop / start
        r = self.req("POST", "/v1/workspace/%s/stop" % wid)
        self.expect("stop running", r, "/workspace/{workspace_id}/stop", "post", 200)
        ws = self.describe(wid, "describe stopped")
        if ws:
            check("stopped state without access", ws["workspace_status"] == "STOPPED"
                  and ws["access_information"] == [], ws)
        r = self.req("POST", "/v1/workspace/%s/stop" % wid)
        self.expect("stop stopped", r, "/workspace/{workspace_id}/stop", "post", 409)
        r = self.req("POST", "/v1/workspace/%s/start" % wid)
        self.expect("start stopped", r, "/workspace/{workspace_id}/start", "post", 200)
        ws = self.describe(wid, "describe restarted")
        if ws:
            check("restarted is RUNNING with access", ws["workspace_status"] == "RUNNING"
                  and len(ws["access_information"]) == 2, ws)
        r = self.req("POST", "/v1/workspace/%s/start" % wid)
        d = self.expect("start running", r, "/workspace/{workspace_id}/start", "post", 409)
        check("start running message", d and "already running" in d["detail"]["detail"])
        r = self.req("POST", "/v1/workspace/%s/start" % OTHER_CLUSTER)
        self.expect("start unknown", r, "/workspace/{workspace_id}/start", "post", 404)
        r = self.req("POST", "/v1/workspace/%s/stop" % OTHER_CLUSTER)
        self.expect("stop unknown", r, "/workspace/{workspace_id}/stop", "post", 404)
        # a long pending delay (admin config) makes the PENDING checks deterministic
        self.admin("POST", "config", {"pending_delay": 30})
        try:
            pend = self.create("contract pending", "create for pending checks")
            if pend:
                ws = self.describe(pend, "describe pending")
                check("pending workspace has no access", ws and ws["workspace_status"] ==
                      "PENDING" and ws["access_information"] == [], ws)
                r = self.req("POST", "/v1/workspace/%s/start" % pend)
                d = self.expect("start pending", r, "/workspace/{workspace_id}/start", "post", 409)
                check("start pending message", d and "pending" in d["detail"]["detail"])
                r = self.req("POST", "/v1/workspace/%s/stop" % pend)
                self.expect("stop pending", r, "/workspace/{workspace_id}/stop", "post", 409)
        finally:
            self.admin("POST", "config", {"pending_delay": PENDING_DELAY})

        # logs: an endless stream; log_end_after ends it so that a whole
        # body can be read (the stream itself: test_log_stream)
        time.sleep(PENDING_DELAY + 0.05)    # the restart's start-up lines are all due
        self.admin("POST", "config", {"log_end_after": 0.3})
        try:
            r = self.req("GET", "/v1/workspace/%s/logs" % wid)
            lines = self.expect("logs", r, "/workspace/{workspace_id}/logs", "get", 200)
            if lines is not None:
                msgs = [ln["log_message"] for ln in lines]
                hist = msgs.index("Scheduling pod") if "Scheduling pod" in msgs else -1
                check("logs history has 5..20 lines before the start-up", 5 <= hist <= 20,
                      msgs[:25])
                check("logs chunked", r.headers.get("transfer-encoding") == "chunked",
                      r.headers)
                r2 = self.req("GET", "/v1/workspace/%s/logs" % wid)
                check("logs deterministic", r2.body == r.body)
        finally:
            self.admin("POST", "config", {"log_end_after": 0})
        r = self.req("GET", "/v1/workspace/%s/logs" % OTHER_CLUSTER)
        self.expect("logs unknown", r, "/workspace/{workspace_id}/logs", "get", 404)

        # delete
        r = self.req("DELETE", "/v1/workspace/" + wid)
        d = self.expect("delete", r, "/workspace/{workspace_id}", "delete", 200)
        check("delete returns the id", d and d["workspace_id"] == wid)
        r = self.req("GET", "/v1/workspace/" + wid)
        self.expect("describe deleted", r, "/workspace/{workspace_id}", "get", 404)
        r = self.req("DELETE", "/v1/workspace/" + wid)
        self.expect("delete again", r, "/workspace/{workspace_id}", "delete", 404)
        r = self.req("GET", "/v1/workspaces")
        d = self.expect("list after delete", r, "/workspaces", "get", 200)
        if d:
            check("deleted workspace gone from list",
                  wid not in {w["id"] for w in d["workspaces"]})
        for x in (other, pend):
            if x:
                self.req("DELETE", "/v1/workspace/" + x)

    def test_unknown_and_connection(self):
        for path, method in (("/v1/nope", "GET"), ("/v1/workspaces/", "GET"),
                             ("/workspaces", "GET"), ("/v1/workspaces", "PUT")):
            r = self.req(method, path)
            check("unknown %s %s -> 404" % (method, path), r.status == 404, repr(r))
            errs = self.problem_errors(r)
            check("unknown %s %s problem+json" % (method, path), not errs, "; ".join(errs))
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            a = request(self.port, "GET", "/v1/management/workspace-templates", conn=conn)
            b = request(self.port, "GET", "/v1/management/workspace-templates", conn=conn)
            check("keep-alive: two requests on one connection",
                  a.status == b.status == 200 and a.body == b.body)
            c = request(self.port, "GET", "/v1/management/workspace-templates",
                        headers={"Connection": "close"}, conn=conn)
            check("Connection: close answered with close",
                  c.status == 200 and c.headers.get("connection", "").lower() == "close")
        finally:
            conn.close()

    def test_admin(self, items):
        self.admin("DELETE", "faults")
        c = self.admin("POST", "reset")
        check("reset zeroes counts", c.get("total") == 0 and all(v == 0 for v in c.values()), c)
        wid = items[0]["id"]
        self.req("GET", "/v1/workspaces")
        self.req("GET", "/v1/workspaces", token=None)
        self.req("GET", "/v1/workspace/" + wid)
        self.admin("POST", "config", {"log_end_after": 0.1})
        self.req("GET", "/v1/workspace/%s/logs" % wid)
        self.admin("POST", "config", {"log_end_after": 0})
        self.req("GET", "/v1/nothing-here")
        self.req("POST", "/v1/workspace/%s/stop" % OTHER_CLUSTER)
        c = self.admin("GET", "counts")
        want = {"list_workspaces": 2, "create_workspace": 0, "describe_workspace": 1,
                "delete_workspace": 0, "start_workspace": 0, "stop_workspace": 1,
                "get_workspace_logs": 1, "list_workspace_templates": 0, "total": 6}
        check("counts exact", c == want, "got %r" % c)

        # status faults
        self.admin("POST", "faults", {"status": 503, "count": 2,
                                      "endpoint": "list_workspaces", "retry_after": 2})
        r1 = self.req("GET", "/v1/workspaces")
        r0 = self.req("GET", "/v1/management/workspace-templates")
        r2 = self.req("GET", "/v1/workspaces")
        r3 = self.req("GET", "/v1/workspaces")
        check("fault 503 x2 then success", (r1.status, r2.status, r3.status) == (503, 503, 200),
              (r1.status, r2.status, r3.status))
        check("fault only hits its endpoint", r0.status == 200, repr(r0))
        check("fault 503 Retry-After", r1.headers.get("retry-after") == "2", r1.headers)
        errs = self.problem_errors(r1)
        check("fault 503 problem+json", not errs, "; ".join(errs))
        c = self.admin("GET", "counts")
        check("counts include faulted requests", c["list_workspaces"] == 5, c)
        self.admin("POST", "faults", {"status": 502, "body": "<html>bad gateway</html>"})
        r = self.req("GET", "/v1/workspace/" + wid)
        check("fault raw body", r.status == 502 and r.body == b"<html>bad gateway</html>",
              repr(r))
        self.admin("POST", "faults", {"status": 500, "count": -1})
        rs = [self.req("GET", "/v1/workspaces").status for _ in range(3)]
        self.admin("DELETE", "faults")
        r = self.req("GET", "/v1/workspaces")
        check("fault count -1 until cleared", rs == [500] * 3 and r.status == 200, (rs, r.status))
        bad = request(self.port, "POST", "/_emulator/faults", {"status": "x"}, token=None)
        check("invalid fault rejected", bad.status == 400, repr(bad))

        # latency
        self.admin("POST", "faults", {"latency": 0.5})
        r = self.req("GET", "/v1/management/workspace-templates")
        r2 = self.req("GET", "/v1/management/workspace-templates")
        check("latency fault delays once", r.status == 200 and r.elapsed >= 0.45
              and r2.elapsed < 0.4, (r.elapsed, r2.elapsed))

        # a slow request must not hold up others (threaded server)
        self.admin("POST", "faults", {"latency": 1.0, "endpoint": "list_workspaces"})
        slow = []
        t = threading.Thread(target=lambda: slow.append(self.req("GET", "/v1/workspaces")))
        t.start()
        time.sleep(0.2)
        fast = self.req("GET", "/v1/management/workspace-templates")
        t.join(HTTP_TIMEOUT)
        check("requests served concurrently", fast.status == 200 and fast.elapsed < 0.5
              and slow and slow[0].status == 200 and slow[0].elapsed >= 0.95,
              (fast.elapsed, slow and slow[0].elapsed))

        # malformed / truncated / drop
        self.admin("POST", "faults", {"malformed": True})
        r = self.req("GET", "/v1/workspaces")
        try:
            json.loads(r.body)
            parsed = True
        except ValueError:
            parsed = False
        check("malformed fault: 200 with non-JSON body", r.status == 200 and not parsed, repr(r))
        self.admin("POST", "faults", {"truncated": True})
        try:
            r = self.req("GET", "/v1/workspaces")
            check("truncated fault breaks the body", False, "got %r" % r)
        except http.client.IncompleteRead:
            check("truncated fault breaks the body", True)
        except (OSError, http.client.HTTPException) as e:
            check("truncated fault breaks the body", False, repr(e))
        self.admin("POST", "faults", {"drop": True})
        try:
            r = self.req("GET", "/v1/workspaces")
            check("drop fault closes the connection", False, "got %r" % r)
        except (http.client.RemoteDisconnected, ConnectionError) as e:
            check("drop fault closes the connection", True)
        except (OSError, http.client.HTTPException) as e:
            check("drop fault closes the connection", False, repr(e))
        r = self.req("GET", "/v1/workspaces")
        check("server fine after drop", r.status == 200, repr(r))

        # drop_after: the request takes effect but the answer is lost
        self.admin("POST", "faults", {"drop_after": True, "endpoint": "delete_workspace"})
        victim = items[1]["id"]
        try:
            r = self.req("DELETE", "/v1/workspace/" + victim)
            check("drop_after loses the response", False, "got %r" % r)
        except (http.client.RemoteDisconnected, ConnectionError):
            check("drop_after loses the response", True)
        r = self.req("GET", "/v1/workspace/" + victim)
        check("drop_after really deleted", r.status == 404, repr(r))
        self.admin("POST", "faults", {"drop_after": True, "endpoint": "create_workspace"})
        try:
            self.req("POST", "/v1/workspaces", self.create_body("lost-response"))
        except (http.client.RemoteDisconnected, ConnectionError):
            pass
        d = self.req("GET", "/v1/workspaces").json()
        check("drop_after really created", "lost-response" in
              {w["name"] for w in d["workspaces"]})
        check("faults consumed", self.admin("GET", "faults")["faults"] == [])

        # raw injection
        before = self.req("GET", "/v1/workspaces").json()["total"]
        hostile = [{"id": "not-a-uuid", "name": 123, "workspace_status": "EXPLODED"},
                   {"name": "no id", "cluster_id": None},
                   {"id": "0badc0de-0000-4000-8000-000000000000", "name": "x\u0000y",
                    "created_at": "never", "access_information": "nope"}]
        self.admin("POST", "workspaces", hostile)
        r = self.req("GET", "/v1/workspaces")
        d = r.json()
        check("injected workspaces listed verbatim", d["total"] == before + 3
              and d["workspaces"][-3:] == hostile
              and r.headers.get("x-total-count") == str(before + 3), d["workspaces"][-3:])
        r = self.req("GET", "/v1/workspace/not-a-uuid")
        check("describe injected non-uuid id", r.status == 200
              and r.json() == {"workspace": hostile[0]}, repr(r))
        r = self.req("DELETE", "/v1/workspace/not-a-uuid")
        check("delete injected workspace", r.status == 200, repr(r))
        state = self.admin("GET", "state")
        check("state lists all workspaces", isinstance(state.get("workspaces"), list)
              and hostile[1] in state["workspaces"]
              and hostile[0] not in state["workspaces"])

        # token rotation and config
        self.admin("POST", "token", {"token": "rotated-token"})
        old = self.req("GET", "/v1/workspaces")
        new = self.req("GET", "/v1/workspaces", token="rotated-token")
        self.admin("POST", "token", {"token": TOKEN})
        check("token rotation", old.status == 401 and new.status == 200,
              (old.status, new.status))
        self.admin("POST", "config", {"pending_delay": 0})
        wid2 = self.create("contract instant", "create with pending_delay 0")
        ws = self.describe(wid2, "describe instant") if wid2 else None
        check("config pending_delay 0 -> RUNNING at once",
              ws and ws["workspace_status"] == "RUNNING", ws and ws["workspace_status"])
        self.admin("POST", "config", {"pending_delay": PENDING_DELAY})
        h = self.admin("GET", "health")
        check("health", h == {"ok": True}, h)

    # ------------------------------------------------------------ log streams

    def streams(self):
        return self.admin("GET", "streams")

    def wait_streams(self, total, timeout=2.0):
        """Polls /_emulator/streams until `total` streams are open."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.streams()
            if st["total"] == total or time.monotonic() >= deadline:
                return st
            time.sleep(0.05)

    def test_log_stream(self, items):
        self.admin("DELETE", "faults")
        self.admin("POST", "config", {"log_rate": 0, "log_end_after": 0, "log_drop_after": 0})
        cfg = self.admin("GET", "config")
        check("config shows the log settings", (cfg.get("log_rate"), cfg.get("log_end_after"),
              cfg.get("log_drop_after")) == (0, 0, 0), cfg)
        self.admin("POST", "reset")
        check("streams: none open, none started after reset",
              self.streams() == {"open": {}, "total": 0, "started": 0}, self.streams())
        wid = items[5]["id"]
        schema = self.declared("/workspace/{workspace_id}/logs", "get", 200)[1]
        held = self.admin("GET", "logs?id=" + wid)["lines"]
        check("admin logs: the history (5..20 lines)", 5 <= len(held) <= 20, len(held))
        n = len(held)

        s1 = LogStream(self.port, wid)
        s2 = LogStream(self.port, wid)
        try:
            check("stream status 200", s1.status == 200, s1.status)
            check("stream content-type application/x-ndjson",
                  s1.headers.get("content-type", "").split(";")[0] == "application/x-ndjson",
                  s1.headers)
            check("stream is chunked", s1.chunked, s1.headers)
            got = s1.read(lambda s: len(s.lines) >= n, 2.0)
            check("stream sends the lines held at once", got and s1.docs() == held,
                  (len(s1.lines), n))
            errs = []
            for i, doc in enumerate(s1.docs()):
                errs += self.val.errors(doc, schema, "$line%d" % (i + 1))
            check("stream lines validate against the spec", s1.lines and not errs,
                  "; ".join(errs[:5]))
            s2.read(lambda s: len(s.lines) >= n, 2.0)
            check("stream history deterministic", s2.lines == s1.lines and len(s1.lines) == n,
                  (len(s1.lines), len(s2.lines)))
            check("stream stays open after the lines held",
                  not s1.read(lambda s: len(s.lines) > n, 0.3) and s1.ended is None,
                  (len(s1.lines), s1.ended))
            st = self.streams()
            check("streams counts the open streams", st["open"] == {wid: 2} and
                  st["total"] == 2 and st["started"] == 2, st)
            c = self.admin("GET", "counts")
            check("a stream is one logs request", c["get_workspace_logs"] == 2, c)

            # appended lines arrive on the open stream
            t0 = time.monotonic()
            r = self.admin("POST", "logs", {"id": wid, "lines": ["contract line \u00fc 1",
                                                               "second"]})
            check("admin logs append answers the total", r == {"ok": True, "total": n + 2}, r)
            got = s1.read(lambda s: len(s.lines) >= n + 2, 1.0)
            check("appended lines arrive within 1 s", got and
                  [d["log_message"] for d in s1.docs(n)] == ["contract line \u00fc 1", "second"]
                  and s1.arrived[n + 1] - t0 < 1.0, s1.lines[n:])
            docs = s1.docs()
            if len(docs) >= n + 2:
                stamps = [d["timestamp"] for d in docs]
                check("appended lines: the history's pod, increasing timestamps",
                      all(d["pod_name"] == docs[0]["pod_name"] and
                          d.get("pod_namespace") == docs[0].get("pod_namespace")
                          for d in docs[n:]) and stamps[n - 1] < stamps[n] < stamps[n + 1]
                      and all(re.match(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z", t)
                              for t in stamps[n:]), stamps[n - 1:])
                errs = []
                for doc in docs[n:]:
                    errs += self.val.errors(doc, schema)
                check("appended lines validate against the spec", not errs, errs[:3])

            # log_rate generates lines on open streams
            m = len(s1.lines)
            self.admin("POST", "config", {"log_rate": 20})
            got = s1.read(lambda s: len(s.lines) >= m + 5, 1.5)
            self.admin("POST", "config", {"log_rate": 0})
            ticks = [d["log_message"] for d in s1.docs(m)]
            check("log_rate generates tick lines", got and ticks[:5] ==
                  ["tick %d" % i for i in range(1, 6)], ticks[:8])
            s1.read(None, 0.15)
            k = len(s1.lines)
            check("log_rate 0 stops the ticks", not s1.read(lambda s: len(s.lines) > k, 0.4),
                  s1.lines[k:])
            want = self.admin("GET", "logs?id=" + wid)["lines"]
            check("the stream shows every line held (admin logs)", s1.docs() == want,
                  (len(s1.lines), len(want)))
        finally:
            s1.close()
            s2.close()
        st = self.wait_streams(0)
        check("streams drop to 0 after the clients close", st["total"] == 0 and
              st["open"] == {} and st["started"] == 2, st)

        # log_end_after: a clean end (terminating chunk) on time
        self.admin("POST", "config", {"log_end_after": 0.5})
        try:
            s = LogStream(self.port, wid)
            s.read(None, 2.5)
            el = time.monotonic() - s.t0
            s.close()
            check("log_end_after ends the stream cleanly within its time + 1 s",
                  s.ended == "clean" and 0.45 <= el <= 1.5 and len(s.lines) >= n,
                  (s.ended, el, len(s.lines)))
        finally:
            self.admin("POST", "config", {"log_end_after": 0})

        # log_drop_after: cut without the terminating chunk
        self.admin("POST", "config", {"log_drop_after": 3})
        try:
            s = LogStream(self.port, wid)
            s.read(None, 2.0)
            s.close()
            check("log_drop_after closes the stream without the terminating chunk",
                  s.ended == "abrupt" and len(s.lines) == 3, (s.ended, len(s.lines)))
        finally:
            self.admin("POST", "config", {"log_drop_after": 0})

        # the truncated fault: half the lines held, then closed
        total = len(self.admin("GET", "logs?id=" + wid)["lines"])
        self.admin("POST", "faults", {"truncated": True, "endpoint": "get_workspace_logs"})
        s = LogStream(self.port, wid)
        s.read(None, 2.0)
        s.close()
        check("truncated fault: half the lines, no terminating chunk",
              s.ended == "abrupt" and len(s.lines) == total // 2, (s.ended, len(s.lines), total))
        self.admin("POST", "faults", {"status": 503, "endpoint": "get_workspace_logs"})
        s = LogStream(self.port, wid)
        s.close()
        check("status fault on logs", s.status == 503, s.status)

        # start-up sequence, stop, delete
        self.admin("POST", "config", {"pending_delay": 0.6})
        try:
            new = self.create("contract logs", "create for logs")
        finally:
            self.admin("POST", "config", {"pending_delay": PENDING_DELAY})
        if not new:
            return
        # (the history has the template's lines too: the start-up sequence
        # is what follows "Scheduling pod")
        seq = ["Scheduling pod", "Started container workspace",
               "[I ServerApp] Kernel started: python3"]

        def started_up(k):
            def until(s):
                tail = s.lines[k:]
                at = [i for i, ln in enumerate(tail) if b'"Scheduling pod"' in ln]
                return bool(at) and any(b"Kernel started" in ln for ln in tail[at[0]:])
            return until

        s = LogStream(self.port, new)
        try:
            got = s.read(started_up(0), 2.0)
            msgs = [d["log_message"] for d in s.docs()]
            h = msgs.index(seq[0]) if seq[0] in msgs else 0
            idx = [msgs.index(x, h) if x in msgs[h:] else -1 for x in seq]
            check("create appends the start-up sequence", got and -1 not in idx and
                  idx == sorted(idx) and "Pulling image" in msgs[idx[0] + 1], msgs[-10:])
            if got and -1 not in idx:
                spread = s.arrived[idx[2]] - s.arrived[idx[0]]
                check("start-up lines fall due over the pending delay", 0.3 <= spread <= 1.5,
                      spread)
            ws = self.describe(new, "describe after start-up")
            check("RUNNING once the start-up sequence is out",
                  ws and ws["workspace_status"] == "RUNNING", ws and ws["workspace_status"])
            k = len(s.lines)
            self.req("POST", "/v1/workspace/%s/stop" % new)
            got = s.read(lambda s: len(s.lines) > k, 1.0)
            check("stop appends 'Stopping container workspace'", got and
                  s.docs(k)[0]["log_message"] == "Stopping container workspace", s.lines[k:])
            k = len(s.lines)
            self.req("POST", "/v1/workspace/%s/start" % new)
            got = s.read(started_up(k), 2.0)
            msgs = [d["log_message"] for d in s.docs(k)]
            check("start appends the start-up sequence", got and msgs[0] == "Scheduling pod",
                  msgs)
            t0 = time.monotonic()
            r = self.req("DELETE", "/v1/workspace/" + new)
            s.read(None, 1.5)
            check("delete ends the open stream cleanly", r.status == 200 and
                  s.ended == "clean" and time.monotonic() - t0 < 1.0,
                  (r.status, s.ended, time.monotonic() - t0))
        finally:
            s.close()
        s = LogStream(self.port, new)
        s.close()
        check("logs of a deleted workspace: 404", s.status == 404, s.status)

        # admin validation and the filler
        for label, body, want in (
                ("unknown id", {"id": OTHER_CLUSTER, "lines": ["x"]}, 404),
                ("lines not strings", {"id": wid, "lines": [1]}, 400),
                ("lines and count", {"id": wid, "lines": [], "count": 1}, 400),
                ("count too large", {"id": wid, "count": 1000001, "size": 1}, 400),
                ("size too large", {"id": wid, "count": 1, "size": 65537}, 400),
                ("unknown field", {"id": wid, "lines": [], "nope": 1}, 400),
                ("no id", {"lines": ["x"]}, 400)):
            r = request(self.port, "POST", "/_emulator/logs", body, token=None)
            check("admin logs refuses %s (%d)" % (label, want), r.status == want
                  and not self.problem_errors(r), repr(r))
        for bad in ({"log_rate": -1}, {"log_end_after": "1"}, {"log_drop_after": 1.5},
                    {"log_drop_after": True}):
            r = request(self.port, "POST", "/_emulator/config", bad, token=None)
            check("config refuses %r" % bad, r.status == 400, repr(r))
        before = len(self.admin("GET", "logs?id=" + wid)["lines"])
        t0 = time.monotonic()
        r = self.admin("POST", "logs", {"id": wid, "count": 50000, "size": 200})
        el = time.monotonic() - t0
        check("filler: 50,000 lines appended in under a second",
              r.get("total") == before + 50000 and el < 1.0, (r, el))
        lines = self.admin("GET", "logs?id=" + wid)["lines"]
        last = lines[-1]["log_message"] if lines else ""
        check("filler lines: 'fill N xxx' of about the size", len(lines) == before + 50000
              and last.startswith("fill 50000 x") and 190 <= len(last) <= 210, last[:40])

    def stream_at_shutdown(self, wid):
        """A stream open when SIGTERM arrives: ended with the terminating chunk."""
        return LogStream(self.port, wid)


def wait_for_port(proc, port_file, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("emulator exited early with status %s" % proc.returncode)
        try:
            with open(port_file) as f:
                text = f.read()
            if text.endswith("\n"):
                return int(text)
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise RuntimeError("emulator did not write its port file within 10 s")


def main():
    if not os.path.isfile(SPEC_FILE):
        # a missing spec is a failure, never a skip: a green `make check`
        # must mean the emulator was checked against it
        print("not ok - spec: not found at %s (set EXALSIUS_OPENAPI_DIR)" % SPEC_FILE)
        print("contract: 0 passed, 1 failed")
        return 1
    with open(SPEC_FILE, encoding="utf-8") as f:
        spec = json.load(f)

    with tempfile.TemporaryDirectory(prefix="emu-contract-") as tmp:
        port_file = os.path.join(tmp, "port")
        log_path = os.path.join(tmp, "emulator.log")
        env = dict(os.environ, EXALSIUS_TOKEN=TOKEN)
        log = open(log_path, "wb")
        proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--port", "0", "--port-file", port_file,
             "--seed", str(SEED), "--pending-delay", str(PENDING_DELAY)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            port = wait_for_port(proc, port_file, time.monotonic() + 10)
            check("emulator started", True)
            c = Contract(spec, port)
            items = []
            sections = [("validator", c.test_validator), ("auth", c.test_auth),
                        ("login service", c.test_login_service),
                        ("list", lambda: items.extend(c.test_list())),
                        ("templates", c.test_templates),
                        ("lifecycle", c.test_create_and_lifecycle),
                        ("unknown paths and connections", c.test_unknown_and_connection),
                        ("admin", lambda: c.test_admin(items) if len(items) >= 2
                         else check("admin needs seeded items", False)),
                        ("log stream", lambda: c.test_log_stream(items) if len(items) >= 6
                         else check("log stream needs seeded items", False))]
            for name, fn in sections:
                try:
                    fn()
                except Exception as e:  # report and go on with the next section
                    traceback.print_exc(file=sys.stdout)
                    check("section %s ran to completion" % name, False, repr(e))
            # (items[5] holds the 50,000 filler lines: a stream of it would
            # still be writing to this client, which reads nothing yet)
            open_stream = LogStream(port, items[6]["id"]) if len(items) >= 7 else None
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                rc = None
            check("SIGTERM exits 0", rc == 0, "exit status %r" % rc)
            check("SIGTERM with a log stream open: out within 2 s",
                  time.monotonic() - t0 < 2.0, time.monotonic() - t0)
            if open_stream is not None:
                open_stream.read(None, 1.0)
                open_stream.close()
                check("SIGTERM ends an open log stream cleanly",
                      open_stream.ended == "clean", open_stream.ended)
        except Exception as e:  # report, never hang or leave the emulator behind
            traceback.print_exc(file=sys.stdout)
            check("test ran to completion", False, repr(e))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            log.close()
        with open(log_path, "rb") as f:
            text = f.read()
        check("emulator logged requests", b'"GET /v1/workspaces"' in text)
        check("emulator log never shows the token", TOKEN.encode() not in text)
        if FAILED:
            sys.stdout.write("--- emulator log (tail) ---\n%s\n"
                             % text[-3000:].decode("utf-8", "replace"))

    print("contract: %d passed, %d failed" % (len(PASSED), len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
