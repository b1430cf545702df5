"""An in-process server for the part of the GCS JSON API wire protocol the worker speaks, as storage.googleapis.com
answers it (and as test/emulators/gcs-server.ts does for the Node client): `alt=media` downloads with
`x-goog-hash`, multipart uploads with `ifGenerationMatch` (412 when it does not hold), object lists with
`prefix` and `pageToken` (small pages, so paging is exercised), and generations (a read of another one is
404, as GCS answers it). Faults can be injected: error statuses for
matching requests, and a download served with one byte flipped under the true bytes' hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Fault:
    status: int
    method: str
    path_includes: str
    times: int = 1


@dataclass
class GcsWire:
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    buckets: set[str] = field(default_factory=set)
    # Every successful write, in order (object name), and every request (method, path, status).
    writes: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    corrupt_downloads: int = 0
    page_size: int = 3
    on_write: Callable[[str], None] = lambda name: None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Object generations by (bucket, name); an object put straight into `objects` is generation 1.
    generations: dict[tuple[str, str], int] = field(default_factory=dict)

    def replace(self, bucket: str, name: str, data: bytes) -> int:
        """Writes a new version of an object (as another writer would); returns its generation."""
        with self.lock:
            self.objects[(bucket, name)] = data
            self.generations[(bucket, name)] = self.generations.get((bucket, name), 1) + 1
            return self.generations[(bucket, name)]

    def names(self, bucket: str, prefix: str = "") -> list[str]:
        return sorted(n for b, n in self.objects if b == bucket and n.startswith(prefix))

    def json(self, bucket: str, name: str):
        return json.loads(self.objects[(bucket, name)])

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        wire = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: bytes | dict | None = None, headers: dict[str, str] | None = None):
                url = urllib.parse.urlsplit(self.path)
                wire.requests.append((self.command, url.path, status))
                payload = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if not isinstance(body, bytes) and body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _error(self, status: int, message: str):
                self._answer(status, {"error": {"code": status, "message": message}})

            def _fault(self) -> bool:
                path = urllib.parse.urlsplit(self.path).path
                for fault in wire.faults:
                    if fault.method == self.command and fault.path_includes in path:
                        fault.times -= 1
                        if fault.times <= 0:
                            wire.faults.remove(fault)
                        self._error(fault.status, "injected")
                        return True
                return False

            def do_GET(self):
                if self._fault():
                    return
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                parts = url.path.split("/")
                # /storage/v1/b/BUCKET/o[/NAME]
                if parts[1:4] != ["storage", "v1", "b"] or len(parts) < 6 or parts[5] != "o":
                    return self._error(404, "no route")
                bucket = urllib.parse.unquote(parts[4])
                if bucket not in wire.buckets:
                    return self._error(404, f"bucket {bucket} not found")
                if len(parts) == 6:
                    names = wire.names(bucket, query.get("prefix", ""))
                    start = int(query.get("pageToken", 0))
                    page = names[start : start + wire.page_size]
                    more = {"nextPageToken": str(start + wire.page_size)} if start + wire.page_size < len(names) else {}
                    return self._answer(200, {"items": [{"name": n} for n in page], **more})
                name = urllib.parse.unquote("/".join(parts[6:]))
                data = wire.objects.get((bucket, name))
                generation = wire.generations.get((bucket, name), 1)
                if data is None or query.get("generation", str(generation)) != str(generation):
                    return self._error(404, f"No such object: {bucket}/{name}")
                if query.get("alt") != "media":
                    return self._answer(200, {"name": name, "size": str(len(data)), "generation": str(generation)})
                md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
                served = data
                if wire.corrupt_downloads > 0 and data:
                    wire.corrupt_downloads -= 1
                    served = bytes([data[0] ^ 1]) + data[1:]
                self._answer(200, served, {"x-goog-hash": f"md5={md5}"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self._fault():
                    return
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                parts = url.path.split("/")
                if parts[1:5] != ["upload", "storage", "v1", "b"] or query.get("uploadType") != "multipart":
                    return self._error(400, "unsupported upload")
                bucket = urllib.parse.unquote(parts[5])
                if bucket not in wire.buckets:
                    return self._error(404, f"bucket {bucket} not found")
                boundary = self.headers["Content-Type"].split("boundary=")[1].strip('"')
                sections = body.split(f"--{boundary}".encode())
                metadata = json.loads(sections[1].split(b"\r\n\r\n", 1)[1][:-2])
                media = sections[2].split(b"\r\n\r\n", 1)[1][:-2]
                name = query.get("name", metadata["name"])
                md5 = base64.b64encode(hashlib.md5(media).digest()).decode()
                if metadata.get("md5Hash") not in (None, md5):
                    return self._error(400, "Provided MD5 hash does not match the object data")
                with wire.lock:
                    if query.get("ifGenerationMatch") == "0" and (bucket, name) in wire.objects:
                        return self._error(412, "At least one of the pre-conditions you specified did not hold.")
                    wire.objects[(bucket, name)] = media
                    wire.writes.append(name)
                # Before the writer is answered: a test sees every version the writer wrote, in order.
                wire.on_write(name)
                self._answer(200, {"name": name, "md5Hash": md5, "size": str(len(media))})

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"
