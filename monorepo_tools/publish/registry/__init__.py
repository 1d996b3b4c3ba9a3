"""Where snapshots go, and publishing files there: idempotent, resumable, never leaking a secret.

Registry selection (:func:`registry_from_env`), first match wins:

1. ``--repository-url`` / ``MONOREPO_REPOSITORY_URL``: any PyPI-compatible registry; its simple
   index is ``--index-url`` / ``MONOREPO_INDEX_URL`` (default ``<repository-url>/simple``).
   Credentials: ``MONOREPO_REPOSITORY_USERNAME`` + ``MONOREPO_REPOSITORY_PASSWORD``, else
   ``GITLAB_PYPI_USERNAME`` + ``GITLAB_PYPI_PASSWORD``, else the URL's ``user:password@``.
2. GitLab: ``GITLAB_PYPI_PROJECT_ID`` with ``GITLAB_HOST`` (upload to
   ``https://<host>/api/v4/projects/<id>/packages/pypi``, index ``…/simple``); inside GitLab CI
   (``GITLAB_CI`` is ``true``; gitlab-ci-local's ``false`` does not count) ``CI_PROJECT_ID`` and
   ``CI_API_V4_URL`` stand in for unset ones. Credentials: ``GITLAB_PYPI_USERNAME`` +
   ``GITLAB_PYPI_PASSWORD``; inside GitLab CI, when both are unset, ``gitlab-ci-token`` +
   ``CI_JOB_TOKEN`` (publishing with it to another project than ``CI_PROJECT_ID`` gets a warning
   up front: that project must allowlist this one, :attr:`Registry.warnings`).
3. Nothing configured, in CI (``CI`` non-empty): :class:`~monorepo_tools.errors.ConfigError`
   naming the variables to set. Outside CI: the embedded index ``<root>/.monorepo/index/``
   (:mod:`~monorepo_tools.publish.local_index`), installable with ``pip --index-url file://…``.

Publishing (:func:`publish_files`) looks every file up in the registry's simple index first:
the same file name with the same sha256 is skipped (already published), a different sha256 is a
conflict (never overwritten), anything else is uploaded with twine *in-process* (credentials
never reach a command line; twine's console output is captured, redacted and returned). A
refused upload (GitLab: 400 "File name has already been taken"; pypiserver: 409) is checked
against the index again by hash. Connection errors, 429 and 5xx are retried with exponential
backoff (:class:`RetryPolicy`; a 429's ``Retry-After`` is honoured, bounded by
``max_retry_after``); twine's own retries are switched off, so one policy governs every POST.
401/403/404-"Project Not Found" are not retried: they stop the package with a message naming
the variables, token scopes, role and allowlist to fix. Every message passes through
:func:`~monorepo_tools.publish.redact.redact`.

GitLab as it really is (``lib/api/pypi_packages.rb``, ``basic_auth_helpers.rb``,
``dependency_proxy_helpers.rb``; the contract stand-in ``tests/publish/gitlab_standin.py``):

* **Forwarding** (on by default): the simple page of a name the project has no package for
  answers 302 to ``https://pypi.org/simple/<name>/``. A lookup never follows a redirect off the
  registry's origin (scheme, host, port): it means "not in this registry" (a same-named public
  project must not be read as ours, and a runner without internet must not fail).
* **404** ``{"message":"404 Project Not Found"}`` is a wrong project id, a token without access
  to a private project, or a job token not on the target's allowlist: an access error, never
  "nothing published"; ``404 Package Not Found`` (forwarding off) is "nothing yet".
* **403** is a role below Developer, or a package protection rule (``Package protected.``).
* **400** ``File is too large`` (and Workhorse's 413) is the size limit, not the metadata.

Modules (one concern each): :mod:`.select` (which registry), :mod:`.model` (the values),
:mod:`.index` (reading the simple index), :mod:`.upload` (twine), :mod:`.publish` (one
package's files), :mod:`.local` (the embedded index), :mod:`.gitlab` (GitLab's answers and the
credential advice), :mod:`.messages` (outcome texts).
"""

from __future__ import annotations

from ..redact import Secret
from .index import published_files, published_versions
from .model import MAX_RETRY_AFTER, FileOutcome, FileStatus, Registry, RegistryError, RetryPolicy
from .publish import publish_files
from .select import registry_from_env

__all__ = [
    "MAX_RETRY_AFTER",
    "FileOutcome",
    "FileStatus",
    "Registry",
    "RegistryError",
    "RetryPolicy",
    "Secret",
    "publish_files",
    "published_files",
    "published_versions",
    "registry_from_env",
]
