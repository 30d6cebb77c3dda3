"""Loaded at start-up by every snippet the tests run (via PYTHONPATH).

With SNIPPET_PORT set, connections to 127.0.0.1:8080 go to that port instead.
With SNIPPET_TRACE set, socket calls are timed and written to that file at exit.
With SNIPPET_LOOKUP_DELAY or SNIPPET_HOSTS set, a stand-in resolver answers (resolver.py).
"""

import os

if os.environ.get("SNIPPET_PORT"):
    import redirect

    redirect.install(int(os.environ["SNIPPET_PORT"]))

if os.environ.get("SNIPPET_TRACE"):
    import socket_trace

    socket_trace.install(os.environ["SNIPPET_TRACE"])

if os.environ.get("SNIPPET_LOOKUP_DELAY") or os.environ.get("SNIPPET_HOSTS"):
    import resolver

    resolver.install_from(os.environ)
