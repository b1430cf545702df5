"""Owns the worker's use of Cloud Storage: a small client of the GCS JSON API over urllib (no Google client
library on the TPU VM). It does what `engine/cloud/gcs-bucket.ts` does through @google-cloud/storage, for
the calls a worker makes: read an object (`alt=media`, checked against the md5 in `x-goog-hash`), stream a
large one to a file (or exactly the generation a plan listed, checked against the md5 it listed), write
one only if absent (multipart upload with `ifGenerationMatch=0`; 412 means
another writer finished first), and list names under a prefix (every page). 429, 5xx and dropped
connections are retried with exponential backoff; every write carries a precondition, so retrying is safe.

Where it connects: a local server (`http://host:port`, no credentials) named by the first variable of
EMULATOR_ENV that is set — `STORAGE_EMULATOR_HOST`, the name Google's clients and emulators use, then
`STRAND_GCS_EMULATOR_HOST`, kept as an alias; the engine (engine/cloud/cloud-settings.ts) reads the same
list in the same order — or https://storage.googleapis.com with an access token from the metadata server
(on a TPU VM: the node's service account, Application Default Credentials).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EMULATOR_ENV = ("STORAGE_EMULATOR_HOST", "STRAND_GCS_EMULATOR_HOST")
GOOGLE_ENDPOINT = "https://storage.googleapis.com"
METADATA_TOKEN = "/computeMetadata/v1/instance/service-accounts/default/token"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def emulator_host(env: dict[str, str]) -> str | None:
    """The local storage server's host: the first variable of EMULATOR_ENV that is set and not empty."""
    return next((env[name] for name in EMULATOR_ENV if env.get(name)), None)


class GcsError(RuntimeError):
    """A request failed for good (after retries, or with a status that retrying cannot fix)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def parse_gcs_uri(uri: str) -> tuple[str, str]:
    """`gs://bucket/some/prefix` -> (bucket, prefix without slashes at either end)."""
    if not uri.startswith("gs://") or len(uri) <= 5:
        raise ValueError(f'not a gs:// URI: "{uri}"')
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


class MetadataToken:
    """Access tokens from the GCE metadata server (what ADC uses on a TPU VM), renewed a minute early."""

    def __init__(self, host: str | None = None, clock: Callable[[], float] = time.monotonic):
        self.url = f"http://{host or os.environ.get('GCE_METADATA_HOST', 'metadata.google.internal')}{METADATA_TOKEN}"
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0

    def __call__(self) -> str:
        if self._token is None or self.clock() >= self._expires:
            request = urllib.request.Request(self.url, headers={"Metadata-Flavor": "Google"})
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.load(response)
            self._token = str(body["access_token"])
            self._expires = self.clock() + float(body.get("expires_in", 300)) - 60
        return self._token


@dataclass
class Backoff:
    """Delays between attempts: 1, 2, 4, ... seconds up to `cap`, `attempts` tries in all."""

    attempts: int = 7
    first: float = 1.0
    cap: float = 32.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def delays(self):
        delay = self.first
        for _ in range(self.attempts - 1):
            yield delay
            delay = min(delay * 2, self.cap)


def md5_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _goog_hash(header: str | None, kind: str) -> str | None:
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == kind:
            return value
    return None


class GcsClient:
    def __init__(
        self, endpoint: str | None = None, token: Callable[[], str] | None = None, backoff: Backoff | None = None
    ):
        self.endpoint = (endpoint or GOOGLE_ENDPOINT).rstrip("/")
        self.token = token
        self.backoff = backoff or Backoff()

    @staticmethod
    def from_env(env: dict[str, str] | None = None) -> GcsClient:
        env = dict(os.environ) if env is None else env
        host = emulator_host(env)
        if host:
            return GcsClient(host if host.startswith(("http://", "https://")) else f"http://{host}")
        return GcsClient(GOOGLE_ENDPOINT, MetadataToken())

    def _object_url(self, bucket: str, name: str, **query: str) -> str:
        path = f"/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o/{urllib.parse.quote(name, safe='')}"
        return self.endpoint + path + (f"?{urllib.parse.urlencode(query)}" if query else "")

    def _send(self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        """Opens the request, retrying transient failures; returns the open response, or an HTTPError whose
        status the caller handles (404, 412). Anything else is a GcsError."""
        delays = self.backoff.delays()
        while True:
            request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
            if self.token is not None:
                request.add_header("Authorization", f"Bearer {self.token()}")
            try:
                return urllib.request.urlopen(request, timeout=300)
            except urllib.error.HTTPError as error:
                if error.code in (404, 412):
                    return error
                transient = error.code in RETRY_STATUSES
                problem = (
                    f"{method} {url.split('?')[0]}: HTTP {error.code} {error.read()[:300].decode(errors='replace')}"
                )
                status = error.code
            except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
                transient, problem, status = True, f"{method} {url.split('?')[0]}: {error}", None
            delay = next(delays, None) if transient else None
            if delay is None:
                raise GcsError(problem, status)
            self.backoff.sleep(delay)

    def get(self, bucket: str, name: str) -> bytes | None:
        """The object's bytes, checked against its md5; None when there is none."""
        delays = self.backoff.delays()
        while True:
            response = self._send("GET", self._object_url(bucket, name, alt="media"))
            with response:
                if response.status == 404:
                    return None
                data = response.read()
                expected = _goog_hash(response.headers.get("x-goog-hash"), "md5")
            if expected is None or md5_of(data) == expected:
                return data
            # A corrupted transfer: read again, as the Node client does after a failed validation.
            delay = next(delays, None)
            if delay is None:
                raise GcsError(f"gs://{bucket}/{name}: downloaded bytes do not match the md5 the server reports")
            self.backoff.sleep(delay)

    def get_json(self, bucket: str, name: str):
        data = self.get(bucket, name)
        return None if data is None else json.loads(data)

    def download_file(
        self,
        bucket: str,
        name: str,
        destination: Path,
        chunk: int = 8 << 20,
        generation: str | None = None,
        md5: str | None = None,
    ) -> str:
        """Streams an object to `destination` (md5 checked, read again if it does not match); returns its
        SHA-256 hex, computed on the way. With `generation`, exactly that version (another one is an error
        naming both), checked against `md5` (what the plan listed) rather than what the server says."""
        delays = self.backoff.delays()
        query = {"alt": "media", **({"generation": generation} if generation is not None else {})}
        while True:
            response = self._send("GET", self._object_url(bucket, name, **query))
            with response:
                if response.status == 404:
                    if generation is not None:
                        raise self._changed(bucket, name, generation)
                    raise GcsError(f"gs://{bucket}/{name} does not exist", 404)
                digest, sha = hashlib.md5(), hashlib.sha256()
                with open(destination, "wb") as sink:
                    while block := response.read(chunk):
                        digest.update(block)
                        sha.update(block)
                        sink.write(block)
                    sink.flush()
                    os.fsync(sink.fileno())
                expected = md5 or _goog_hash(response.headers.get("x-goog-hash"), "md5")
            if expected is None or base64.b64encode(digest.digest()).decode() == expected:
                return sha.hexdigest()
            delay = next(delays, None)
            if delay is None:
                raise GcsError(f"gs://{bucket}/{name}: downloaded bytes do not match the md5 the server reports")
            self.backoff.sleep(delay)

    def _changed(self, bucket: str, name: str, generation: str) -> GcsError:
        """Why a planned generation is gone: the object changed or was deleted since the plan."""
        response = self._send("GET", self._object_url(bucket, name))
        with response:
            current = None if response.status == 404 else json.load(response).get("generation")
        uri = f"gs://{bucket}/{name}"
        if current is None:
            return GcsError(f"{uri} was deleted after the plan (it was generation {generation})", 404)
        return GcsError(
            f"{uri} changed after the plan: generation {generation} was planned, {current} is there now", 404
        )

    def put_if_absent(self, bucket: str, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Writes the object unless one exists: 'written', or 'exists' (its content is the caller's to judge)."""
        return self._upload(bucket, name, data, content_type, if_absent=True)

    def put_json(self, bucket: str, name: str, value) -> None:
        """Writes the object, replacing what is there (a host's progress, which it rewrites)."""
        self._upload(bucket, name, json.dumps(value).encode(), "application/json", if_absent=False)

    def _upload(self, bucket: str, name: str, data: bytes, content_type: str, *, if_absent: bool) -> str:
        boundary = f"strand-{uuid.uuid4().hex}"
        metadata = json.dumps({"name": name, "contentType": content_type, "md5Hash": md5_of(data)}).encode()
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                metadata,
                f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        precondition = {"ifGenerationMatch": "0"} if if_absent else {}
        query = urllib.parse.urlencode({"uploadType": "multipart", **precondition, "name": name})
        url = f"{self.endpoint}/upload/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o?{query}"
        response = self._send("POST", url, body, {"Content-Type": f'multipart/related; boundary="{boundary}"'})
        with response:
            if response.status == 412:
                return "exists"
            if response.status == 404:
                raise GcsError(f"bucket {bucket} does not exist", 404)
            stored = json.load(response)
        if stored.get("md5Hash") not in (None, md5_of(data)):
            raise GcsError(f"gs://{bucket}/{name}: the server stored bytes whose md5 differs from what was sent")
        return "written"

    def put_json_if_absent(self, bucket: str, name: str, value) -> str:
        return self.put_if_absent(bucket, name, json.dumps(value).encode(), "application/json")

    def list(self, bucket: str, prefix: str) -> list[str]:
        names: list[str] = []
        token: str | None = None
        while True:
            query = {"prefix": prefix, "fields": "items(name),nextPageToken", **({"pageToken": token} if token else {})}
            url = (
                f"{self.endpoint}/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o?{urllib.parse.urlencode(query)}"
            )
            response = self._send("GET", url)
            with response:
                if response.status == 404:
                    raise GcsError(f"bucket {bucket} does not exist", 404)
                page = json.load(response)
            names.extend(item["name"] for item in page.get("items", []))
            token = page.get("nextPageToken")
            if not token:
                return sorted(names)


@dataclass(frozen=True)
class Bucket:
    """A `gs://bucket/prefix` root: names are relative to it, as in the worker contract's layout."""

    client: GcsClient
    bucket: str
    prefix: str

    @staticmethod
    def at(client: GcsClient, uri: str) -> Bucket:
        bucket, prefix = parse_gcs_uri(uri)
        return Bucket(client, bucket, prefix)

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")

    def _path(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def get(self, name: str) -> bytes | None:
        return self.client.get(self.bucket, self._path(name))

    def get_json(self, name: str):
        return self.client.get_json(self.bucket, self._path(name))

    def download_file(self, name: str, destination: Path) -> str:
        return self.client.download_file(self.bucket, self._path(name), destination)

    def put_if_absent(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        return self.client.put_if_absent(self.bucket, self._path(name), data, content_type)

    def put_json_if_absent(self, name: str, value) -> str:
        return self.client.put_json_if_absent(self.bucket, self._path(name), value)

    def put_json(self, name: str, value) -> None:
        self.client.put_json(self.bucket, self._path(name), value)

    def list(self, prefix: str) -> list[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        return [n[strip:] for n in self.client.list(self.bucket, self._path(prefix))]
