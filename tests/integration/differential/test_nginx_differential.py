"""The gateway's bare route against nginx `proxy_pass`, request for request (issue 12).

Every request of the corpus (corpus.py: methods, encoded and odd paths, duplicate and mixed-case headers,
hop-by-hop headers, chunked and large bodies, pipelining, HEAD; upstream answers chunked, close-delimited,
204/304, large, slow, reset mid-body) goes once through nginx and once through the gateway, both in
front of the same recording upstream. What the upstream received and what the client got are compared;
every difference must be one of `EXPECTED`, each of which docs/gateway.md explains.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "gateway" / "integration"))

from client import Answer, exchange  # noqa: E402
from corpus import PREFIX, Case, corpus  # noqa: E402
from gateway_harness import free_port, serving, write_snapshot  # noqa: E402
from recording_upstream import Received, RecordingUpstream  # noqa: E402

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None, reason="nginx is not installed (make test installs it)"
)

# Headers each proxy adds or sets on its own, by design; compared nowhere.
UPSTREAM_OWN = {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix",
                "x-request-id", "via", "connection", "host"}  # fmt: skip
CLIENT_OWN = {"server", "date", "connection", "keep-alive", "x-request-id", "via", "transfer-encoding",
              "content-length"}  # fmt: skip
# Differences by design, each explained in docs/gateway.md ("Against nginx"), removed before comparing:
# - hop-by-hop headers of RFC 9110 7.6.1 (and those the Connection header names) that nginx passes on
#   and the gateway drops, both ways; Proxy-Authenticate too (it concerns the proxy's own hop);
NGINX_PASSES_UPSTREAM = {
    "proxy-connection",
    "trailer",
    "keep-alive",
    "te",
    "upgrade",
    "x-remove",
}  # x-remove:
# named by the client's Connection header
NGINX_PASSES_DOWNSTREAM = {"upgrade", "proxy-authenticate", "x-private"}  # x-private: named by Connection
# - a chunked request body: nginx (having read it whole) may send it with Content-Length, the gateway
#   streams it chunked; the bytes are compared;
# - an empty query ("?" alone) is not forwarded by the gateway;
# - errors of the gateway itself (502, 504) are problem documents, nginx's are HTML pages: status only.

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
PATHS = ("/{a}", "/{a}/{b}", "/{a}/{b}/{c}")


def _nginx_conf(directory: Path, port: int, upstream: int) -> Path:
    conf = directory / "nginx.conf"
    conf.write_text(f"""
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {directory}/body;
  proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi;
  scgi_temp_path {directory}/scgi;
  client_max_body_size 20m;
  upstream recording {{ server 127.0.0.1:{upstream}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://recording;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host 127.0.0.1:{upstream};
      proxy_buffering off;
      proxy_request_buffering off;
    }}
  }}
}}
""")
    return conf


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RecordingUpstream, int, int]]:
    directory = tmp_path_factory.mktemp("differential")
    with RecordingUpstream() as upstream:
        nginx_port, gateway_port = free_port(), free_port()
        conf = _nginx_conf(directory, nginx_port, upstream.port)
        snapshot = directory / "snapshot.json"
        routes = [{"operation_id": f"{m.lower()}{i}", "method": m, "path": p, "plugins": []}
                  for m in METHODS for i, p in enumerate(PATHS)]  # fmt: skip
        write_snapshot(snapshot, {"format": 1, "id": "sha256:differential", "consumers": [], "plans": {},
            "services": [{"name": "d.t.v1", "agency": "d", "api": "t", "version": "1.0.0", "prefix": PREFIX,
                          "upstream": f"http://127.0.0.1:{upstream.port}{PREFIX}", "status": "published",
                          "timeouts": {"connect": 2.0, "read": 5.0}, "max_body_bytes": 20 * 1024 * 1024,
                          "plugins": [], "routes": routes}]})  # fmt: skip
        nginx = ["nginx", "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")]
        gateway = [sys.executable, "-m", "gateway", "--port", str(gateway_port), "--snapshot", str(snapshot)]
        with (
            serving(nginx, f"http://127.0.0.1:{nginx_port}/"),
            serving(gateway, f"http://127.0.0.1:{gateway_port}/healthz"),
        ):
            yield upstream, nginx_port, gateway_port


def _normalised(headers: list[tuple[str, str]], own: set[str]) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in headers if k.lower() not in own and k.lower() != "x-case")


def _connection_listed(headers: list[tuple[str, str]]) -> set[str]:
    return {t.strip().lower() for k, v in headers if k.lower() == "connection" for t in v.split(",")}


def _upstream_view(received: list[Received]) -> list[dict[str, object]]:
    views = []
    for r in received:
        own = (
            UPSTREAM_OWN
            | NGINX_PASSES_UPSTREAM
            | _connection_listed(r.headers)
            | {"content-length", "transfer-encoding"}
        )
        views.append({"method": r.method, "target": r.target.removesuffix("?"), "body": r.body,
                      "headers": _normalised(r.headers, own)})  # fmt: skip
    return views


def _client_view(answers: list[Answer]) -> list[dict[str, object]]:
    views: list[dict[str, object]] = []
    for a in answers:
        if a.status >= 500:
            views.append({"status": a.status})
        else:
            headers = _normalised(a.headers, CLIENT_OWN | NGINX_PASSES_DOWNSTREAM)
            views.append({"status": a.status, "complete": a.complete, "body": a.body, "headers": headers})
    return views


def _run(
    case: Case, port: int, upstream: RecordingUpstream, label: str
) -> tuple[list[Answer], list[Received]]:
    tagged = case.raw.replace(b"X-Case: " + case.id.encode(), b"X-Case: " + f"{label}-{case.id}".encode())
    answers = exchange(port, tagged.replace(b"{host}", b"127.0.0.1:%d" % port), list(case.methods))
    time.sleep(0.01)  # the upstream records on its own thread
    return answers, upstream.received.get(f"{label}-{case.id}", [])


def _differences(case: Case, nginx: tuple[list[Answer], list[Received]],
                 gateway: tuple[list[Answer], list[Received]]) -> list[str]:  # fmt: skip
    found = []
    for where, left, right in (("upstream", _upstream_view(nginx[1]), _upstream_view(gateway[1])),
                               ("client", _client_view(nginx[0]), _client_view(gateway[0]))):  # fmt: skip
        if len(left) != len(right):
            found.append(
                f"{case.id} {where}: {len(left)} messages through nginx, {len(right)} through the gateway"
            )
            continue
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            for key in a:
                if a[key] != b.get(key):
                    shown = (repr(a[key])[:300], repr(b[key])[:300])
                    found.append(f"{case.id} {where}[{index}].{key}: nginx {shown[0]} / gateway {shown[1]}")
    return found


def test_the_gateway_forwards_like_nginx(targets: tuple[RecordingUpstream, int, int]) -> None:
    upstream, nginx_port, gateway_port = targets
    cases = corpus()
    assert sum(len(c.methods) for c in cases) >= 200
    differences: list[str] = []
    for case in cases:
        nginx = _run(case, nginx_port, upstream, "n")
        gateway = _run(case, gateway_port, upstream, "g")
        differences += _differences(case, nginx, gateway)
    unexpected = differences
    report = Path(os.environ.get("PYTEST_DIFFERENCES", "/tmp")) / "agora-nginx-differences.json"
    report.write_text(json.dumps(differences, indent=1))
    assert not unexpected, f"{len(unexpected)} unexpected differences (all in {report}):\n" + "\n".join(
        unexpected[:40]
    )
