#!/usr/bin/env python3
"""Run scripts/emulator.py unchanged, except that accepted connections get
TCP_NODELAY (http.server's StreamRequestHandler.disable_nagle_algorithm).

Why: the emulator writes a reply's headers and its body with two send()
calls. On a kept-alive connection (exalsiusfs reuses its libcurl handles)
Nagle's algorithm holds the body until the client ACKs the headers, and the
client's delayed ACK waits 40 ms: every request on a reused connection then
costs ~40 ms (~88 ms for a control write, which is a describe plus a POST),
an artefact of the test server that a production HTTP server does not have.
bench.sh uses this launcher unless given --stock-emulator.

Arguments and environment are those of scripts/emulator.py.
"""
import os
import sys

sys.dont_write_bytecode = True   # leave no __pycache__ in scripts/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import emulator  # noqa: E402

emulator.Handler.disable_nagle_algorithm = True
sys.exit(emulator.main())
