"""The exceptions monorepo-tools raises at its boundaries.

Findings about the monorepo's packages (a publishable package depending on an internal one, a
bad version, ...) are *values* (:class:`monorepo_tools.rules.Finding`), collected and reported
all at once; exceptions are for the cases where a command cannot run at all::

    MonorepoError                 base; carries the message a user sees (exit code 2 unless said)
    ├── ConfigError               the root configuration or the command line is unusable (exit 2):
    │   │                         --root missing, globs matching nothing, a bad root pyproject
    │   ├── OutputRefused         _io: --output would replace a source file, or has no folder
    │   ├── TomlError             workspace.readers.toml: a document is not TOML (line, column)
    │   └── FocusError            render.select: graph --focus names no package, bad --depth
    ├── PlanError                 the workspace has findings that block publishing (exit 1)
    └── PublishError              a side effect failed: build, upload, staging (exit 1)
        ├── BuildEnvError         publish.build: a build environment could not be created
        ├── UntrackedPackageError publish.stage: a publishable package git does not track
        ├── RegistryError         publish.registry: looking up the index failed (after retries)
        └── IndexConflict         publish.local_index: a file of that name is already in the
                                  local index with other bytes (never overwritten)

The subclasses live beside the code that raises them (``monorepo_tools.publish.*``); a caller
that only wants "the command could not run" catches :class:`MonorepoError`. Private exceptions
(``_Transient``, ``_HookError``, ...) never leave their module. Every message names the file,
the field or requirement, and the fix.
"""

from __future__ import annotations

__all__ = ["ConfigError", "MonorepoError", "PlanError", "PublishError"]


class MonorepoError(Exception):
    """Base class; ``exit_code`` is what the CLI returns for it."""

    exit_code = 2


class ConfigError(MonorepoError):
    """Usage or configuration error (exit 2)."""

    exit_code = 2


class PlanError(MonorepoError):
    """The workspace cannot be published as it is (exit 1)."""

    exit_code = 1


class PublishError(MonorepoError):
    """Building, staging or uploading failed (exit 1)."""

    exit_code = 1
