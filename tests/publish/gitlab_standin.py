"""A contract stand-in of GitLab's PyPI package registry endpoints (GitLab cannot run here).

Written from GitLab's own source (gitlabhq/gitlabhq), and only as far as these files say:

* ``lib/api/pypi_packages.rb`` — the routes ``GET /api/v4/projects/:id/packages/pypi/simple``,
  ``…/simple/*package_name``, ``…/files/:sha256/*file_identifier`` and ``POST …/pypi``; ``:id``
  is the numeric id *or* the URL-encoded path; the upload answers ``201 Created``; a file above
  ``pypi_max_file_size`` is ``bad_request!('File is too large')``; a protected package is
  ``forbidden!(service_response.message)``; PEP 691 JSON only when the ``pypi_pep_691_json``
  flag is on and an ``Accept`` entry *starts with* ``application/vnd.pypi.simple.v1+json`` (no
  q-values are weighed), with ``Vary: Accept``.
* ``lib/api/helpers/packages/dependency_proxy_helpers.rb`` — ``redirect_registry_request``: when
  the project has no package of that name and forwarding is on (``pypi_package_requests_forwarding``,
  the default), ``302`` to ``https://pypi.org/simple/<name>/``; otherwise ``not_found!('Package')``.
* ``lib/api/helpers/packages/basic_auth_helpers.rb`` — ``unauthorized!`` adds
  ``WWW-Authenticate: Basic realm="GitLab Packages Registry"``; ``unauthorized_or!``: no user →
  401, a user → ``not_found!`` (``404 Project Not Found``) for a project they cannot see; a guest
  who can read the project but not its packages → ``forbidden!``.
* ``app/services/packages/pypi/create_package_service.rb`` and ``app/models/packages/package_file.rb``
  — a new file of an existing version is added to it (``spec/requests/api/pypi_packages_spec.rb``
  "with existing package": 201, one more package file); the same file name again fails the
  ``validates :file_name, uniqueness: { scope: :package }`` validation, rescued as
  ``RecordInvalid`` and answered ``bad_request!(message)``: ``{"message":"400 Bad request -
  Validation failed: File name has already been taken"}``; ``ERROR_RESPONSE_PACKAGE_PROTECTED``
  is ``Package protected.``.
* ``app/presenters/packages/pypi/simple_presenter_base.rb``,
  ``simple_package_versions_presenter.rb``, ``simple_package_versions_json_presenter.rb`` — the
  page: ``<a href="<api>/projects/<numeric id>/packages/pypi/files/<sha256>/<file>#sha256=<sha256>"
  data-requires-python="<escaped>"><file></a>``; JSON ``{"meta":{"api-version":"1.0"},"name",
  "files":[{"filename","url","hashes":{"sha256"},"requires-python"?}]}``.
* ``spec/requests/api/pypi_packages_spec.rb`` — the upload matrix: developer → 201, guest → 403,
  wrong token → 401, non-member of a private project → 404; deploy tokens with
  ``write_package_registry``; job tokens (``gitlab-ci-token``).
* ``doc/user/packages/pypi_repository/`` — personal/project/group tokens need ``api``
  (``read_api`` reads only), deploy tokens ``read_package_registry``/``write_package_registry``
  (username ``gitlab+deploy-token-N``), the job token the Developer role, and another project's
  CI/CD job token allowlist to reach it.

GitLab's error bodies come from ``lib/api/helpers.rb`` (``render_api_error!``:
``{"message": "<code> <text>"}``); the rate limit is Rack::Attack's (``429``, ``Retry-After``,
``Retry later``). Test knobs beyond GitLab: ``throttle(n, retry_after)`` answers the next *n*
requests 429; ``fail_after_store(n)`` stores the next *n* uploads and then answers 500 (a
timeout after the write); ``workhorse_limit`` answers 413 before the API sees the body.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import hashlib
import html
import http.server
import json
import re
import threading
import urllib.parse
from base64 import b64decode
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

ROLES = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}
REALM = 'Basic realm="GitLab Packages Registry"'
PEP_691 = "application/vnd.pypi.simple.v1+json"
PEP_691_LATEST = "application/vnd.pypi.simple.latest+json"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class StoredFile:
    filename: str
    sha256: str
    data: bytes
    requires_python: str


@dataclass
class Project:
    id: int
    path: str  # "group/project"
    private: bool = True
    members: dict[str, str] = field(default_factory=dict)  # username -> role
    #: package (normalized name) -> version -> files
    packages: dict[str, dict[str, list[StoredFile]]] = field(default_factory=dict)
    protected: list[str] = field(default_factory=list)  # name patterns ("*" wildcards)
    protected_push_role: str = "maintainer"
    job_token_allowlist: set[int] = field(default_factory=set)  # project ids allowed in
    forwarding: bool = True  # pypi_package_requests_forwarding (GitLab's default: on)


@dataclass
class Token:
    kind: str  # "personal" | "deploy" | "job"
    username: str  # the user (personal, job) or gitlab+deploy-token-N (deploy)
    scopes: frozenset[str] = frozenset({"api"})
    project_id: int | None = None  # deploy: its project; job: the job's project
    user: str | None = None  # job: the user running the pipeline (its membership counts)


class GitLabStandIn:
    """One fake GitLab instance on 127.0.0.1 serving its PyPI API under ``/api/v4``."""

    def __init__(self) -> None:
        self.projects: dict[int, Project] = {}
        self.tokens: dict[str, Token] = {}
        self.upstream = "https://pypi.org/simple/"  # dependency_proxy_helpers REGISTRY_BASE_URLS
        self.pep_691_json = False  # the pypi_pep_691_json feature flag
        self.max_file_size = 50 * 1024 * 1024  # plan_limits.pypi_max_file_size default
        self.workhorse_limit: int | None = None
        self.log: list[tuple[str, str, int]] = []
        self._throttle: list[tuple[str | None, float]] = []
        self._fail_after_store = 0
        self._lock = threading.Lock()
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                standin._handle(self, "GET")

            def do_POST(self) -> None:
                standin._handle(self, "POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.api = f"{self.url}/api/v4"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    # -- set-up

    def add_project(self, id: int, path: str, **options: Any) -> Project:
        project = Project(id, path, **options)
        self.projects[id] = project
        return project

    def add_token(self, secret: str, kind: str, username: str, **options: Any) -> Token:
        token = Token(kind, username, **options)
        self.tokens[secret] = token
        return token

    def throttle(self, count: int, retry_after: float, method: str | None = None) -> None:
        """Answer the next *count* requests (of *method*, or any) 429 with Retry-After."""
        self._throttle.extend([(method, retry_after)] * count)

    def fail_after_store(self, count: int) -> None:
        self._fail_after_store = count

    def registry_url(self, project: int | str) -> str:
        return f"{self.api}/projects/{project}/packages/pypi"

    def posts(self) -> list[tuple[str, int]]:
        return [(path, status) for method, path, status in self.log if method == "POST"]

    def files(self, project_id: int) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for versions in self.projects[project_id].packages.values():
            for stored in versions.values():
                found.update({f.filename: f.data for f in stored})
        return found

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- HTTP

    def _send(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        method: str,
        status: int,
        body: bytes | str = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        with self._lock:  # before answering: the client may look at the log right after
            self.log.append((method, handler.path, status))
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(data)

    def _error(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        method: str,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        # lib/api/helpers.rb render_api_error!: {"message": "<status> <text>"}
        self._send(handler, method, status, json.dumps({"message": message}), headers=headers)

    def _user(self, handler: http.server.BaseHTTPRequestHandler) -> Token | None:
        header = handler.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            username, _, secret = b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        token = self.tokens.get(secret)
        if token is None:
            return None
        if token.kind in ("deploy", "job") and username != token.username:
            return None
        return token

    def _project(self, ident: str) -> Project | None:
        ident = urllib.parse.unquote(ident)
        if ident.isdigit():
            return self.projects.get(int(ident))
        return next((p for p in self.projects.values() if p.path == ident), None)

    def _role(self, token: Token | None, project: Project) -> int:
        if token is None:
            return 0
        if token.kind == "deploy":
            return ROLES["developer"] if token.project_id == project.id else -1
        if (
            token.kind == "job"
            and token.project_id != project.id
            and token.project_id not in project.job_token_allowlist
        ):
            return -1  # a job token outside the allowlist sees nothing
        return ROLES.get(project.members.get(token.user or token.username, ""), 0)

    def _can_read_project(self, token: Token | None, project: Project) -> bool:
        role = self._role(token, project)
        if role < 0:
            return False
        return not project.private or role >= ROLES["guest"]

    def _can_read_packages(self, token: Token | None, project: Project) -> bool:
        if (
            token is not None
            and token.kind == "personal"
            and not token.scopes & {"api", "read_api"}
        ):
            return False
        if token is not None and token.kind == "deploy":
            return bool(token.scopes & {"read_package_registry", "write_package_registry"}) and (
                self._role(token, project) > 0
            )
        role = self._role(token, project)
        return role >= 0 and (not project.private or role >= ROLES["reporter"])

    def _can_upload(self, token: Token | None, project: Project) -> bool:
        if token is None:
            return False
        if token.kind == "personal" and "api" not in token.scopes:
            return False
        if token.kind == "deploy":
            return "write_package_registry" in token.scopes and self._role(token, project) > 0
        return self._role(token, project) >= ROLES["developer"]

    def _handle(self, handler: http.server.BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length", "0") or 0)
        if method == "POST" and self.workhorse_limit is not None and length > self.workhorse_limit:
            handler.rfile.read(length)
            self._send(handler, method, 413, "413 Request Entity Too Large", "text/plain")
            return
        body = handler.rfile.read(length) if length else b""
        throttled = None
        with self._lock:
            if self._throttle and self._throttle[0][0] in (None, method):
                throttled = self._throttle.pop(0)[1]
        if throttled is not None:  # Rack::Attack
            self._send(
                handler, method, 429, "Retry later\n", "text/plain",
                {"Retry-After": f"{throttled:g}"},
            )  # fmt: skip
            return
        path = urllib.parse.urlsplit(handler.path).path
        match = re.fullmatch(r"/api/v4/projects/([^/]+)/packages/pypi(/.*)?", path)
        if not match:
            self._error(handler, method, 404, "404 Not Found")
            return
        token = self._user(handler)
        project = self._project(match.group(1))
        rest = match.group(2) or ""
        # project!/authorized_project_find!: unknown or invisible → 404 for a user, 401 without
        if project is None or not self._can_read_project(token, project):
            if token is None:
                self._error(handler, method, 401, "401 Unauthorized", {"WWW-Authenticate": REALM})
            else:
                self._error(handler, method, 404, "404 Project Not Found")
            return
        if method == "POST" and rest in ("", "/"):
            self._upload(handler, token, project, body)
            return
        if method != "GET":
            self._error(handler, method, 405, "405 Method Not Allowed")
            return
        if not self._can_read_packages(token, project):
            if token is None:
                self._error(handler, method, 401, "401 Unauthorized", {"WWW-Authenticate": REALM})
            else:
                self._error(handler, method, 403, "403 Forbidden")
            return
        simple = re.fullmatch(r"/simple/([^/]+)/?", rest)
        files = re.fullmatch(r"/files/([0-9a-f]{64})/([^/]+)", rest)
        if simple:
            self._simple(handler, project, urllib.parse.unquote(simple.group(1)))
        elif rest in ("/simple", "/simple/"):
            links = "".join(
                f'<a href="{self.api}/projects/{project.id}/packages/pypi/simple/{n}" '
                f'data-requires-python="">{html.escape(n)}</a><br>'
                for n in sorted(project.packages)
            )
            self._send(handler, method, 200, f"<!DOCTYPE html><html><body>{links}</body></html>",
                       "text/html; charset=utf-8")  # fmt: skip
        elif files:
            stored = self._find(project, files.group(1), urllib.parse.unquote(files.group(2)))
            if stored is None:
                self._error(handler, method, 404, "404 Package Not Found")
            else:
                self._send(handler, method, 200, stored.data, "application/octet-stream")
        else:
            self._error(handler, method, 404, "404 Not Found")

    def _find(self, project: Project, sha256: str, filename: str) -> StoredFile | None:
        for versions in project.packages.values():
            for stored in versions.values():
                for candidate in stored:
                    if candidate.filename == filename and candidate.sha256 == sha256:
                        return candidate
        return None

    def _file_url(self, project: Project, stored: StoredFile) -> str:
        quoted = urllib.parse.quote(stored.filename)
        return (
            f"{self.api}/projects/{project.id}/packages/pypi/files/{stored.sha256}/{quoted}"
            f"#sha256={stored.sha256}"
        )

    def _simple(
        self, handler: http.server.BaseHTTPRequestHandler, project: Project, name: str
    ) -> None:
        versions = project.packages.get(normalize(name), {})
        stored = [f for files in versions.values() for f in files]
        if not stored:
            if project.forwarding:  # redirect_registry_request(forward_to_registry: empty)
                self._send(handler, "GET", 302, "", "text/html",
                           {"Location": f"{self.upstream}{name}/"})  # fmt: skip
            else:
                self._error(handler, "GET", 404, "404 Package Not Found")
            return
        accept = handler.headers.get("Accept", "")
        wants_json = any(t.strip().startswith((PEP_691, PEP_691_LATEST)) for t in accept.split(","))
        if self.pep_691_json and wants_json:
            document = {
                "meta": {"api-version": "1.0"},
                "name": normalize(name),
                "files": [
                    {
                        "filename": f.filename,
                        "url": self._file_url(project, f),
                        "hashes": {"sha256": f.sha256},
                        **({"requires-python": f.requires_python} if f.requires_python else {}),
                    }
                    for f in stored
                ],
            }
            self._send(handler, "GET", 200, json.dumps(document),
                       f"{PEP_691}; charset=utf-8", {"Vary": "Accept"})  # fmt: skip
            return
        links = "".join(
            f'<a href="{self._file_url(project, f)}" '
            f'data-requires-python="{html.escape(f.requires_python)}">{f.filename}</a>'
            for f in stored
        )
        title = html.escape(name)
        page = (
            "        <!DOCTYPE html>\n        <html>\n          <head>\n"
            f"            <title>Links for {title}</title>\n          </head>\n"
            f"          <body>\n            <h1>Links for {title}</h1>\n"
            f"            {links}\n          </body>\n        </html>\n"
        )
        extra = {"Vary": "Accept"} if self.pep_691_json else {}
        self._send(handler, "GET", 200, page, "text/html; charset=utf-8", extra)

    def _upload(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        token: Token | None,
        project: Project,
        body: bytes,
    ) -> None:
        if not self._can_upload(token, project):  # authorize_upload!
            if token is None:
                self._error(handler, "POST", 401, "401 Unauthorized", {"WWW-Authenticate": REALM})
            else:
                self._error(handler, "POST", 403, "403 Forbidden")
            return
        form = _multipart(handler.headers.get("Content-Type", ""), body)
        content = form.get("content")
        name, version = form.get("name"), form.get("version")
        if (
            not isinstance(content, tuple)
            or not isinstance(name, str)
            or not isinstance(version, str)
        ):
            self._error(handler, "POST", 400, "400 Bad request - content is missing")
            return
        filename, data = content
        if len(data) > self.max_file_size:
            self._error(handler, "POST", 400, "400 Bad request - File is too large")
            return
        assert token is not None
        role = self._role(token, project)
        if any(re.fullmatch(p.replace("*", ".*"), name) for p in project.protected) and (
            role < ROLES[project.protected_push_role]
        ):
            self._error(handler, "POST", 403, "403 Forbidden - Package protected.")
            return
        digest = hashlib.sha256(data).hexdigest()
        requires = form.get("requires_python")
        with self._lock:
            files = project.packages.setdefault(normalize(name), {}).setdefault(version, [])
            if any(f.filename == filename for f in files):
                duplicate = True
            else:
                duplicate = False
                files.append(
                    StoredFile(
                        filename, digest, data, requires if isinstance(requires, str) else ""
                    )
                )
            fail = self._fail_after_store > 0 and not duplicate
            if fail:
                self._fail_after_store -= 1
        if duplicate:
            self._error(
                handler, "POST", 400,
                "400 Bad request - Validation failed: File name has already been taken",
            )  # fmt: skip
        elif fail:
            self._error(handler, "POST", 500, "500 Internal Server Error")
        else:
            self._error(handler, "POST", 201, "201 Created")


def _multipart(content_type: str, body: bytes) -> dict[str, str | tuple[str, bytes]]:
    """The fields of a multipart/form-data body: text values, and (filename, bytes) for files."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, str | tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        fields[name] = (filename, data) if filename else data.decode("utf-8", "replace")
    return fields


@dataclasses.dataclass
class Upstream:
    """A hostile "pypi.org": lists, for every name, a file under the requested name's
    conventional file names with a different sha256 (a squatter faking a conflict)."""

    filenames: list[str]
    requests: list[str] = field(default_factory=list)

    def serve(self) -> Iterator[str]:
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                upstream.requests.append(self.path)
                links = "".join(
                    f'<a href="/files/{n}#sha256={"0" * 64}">{n}</a>' for n in upstream.filenames
                )
                data = f"<html><body>{links}</body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}/simple/"
        finally:
            httpd.shutdown()
            httpd.server_close()
