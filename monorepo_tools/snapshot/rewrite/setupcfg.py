"""Rewriting a staged ``setup.cfg`` (configupdater: comments and layout survive).

``[metadata] version`` becomes the snapshot version; each requirement line of
``[options] install_requires`` and ``[options.extras_require]`` listed in the rewrites is
replaced by its pinned form (every occurrence); all other lines, comments included, stay.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...errors import PublishError

__all__ = ["rewrite_setup_cfg"]


def _rewrite_value(value: str, rewrites: Mapping[str, str], found: set[str]) -> str:
    out = []
    for line in value.split("\n"):
        stripped = line.strip()
        # a trailing comment stays where it was
        body, sep, comment = stripped.partition(" #")
        key = body.strip()
        if key in rewrites:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + rewrites[key] + (f" {sep.strip()}{comment}" if sep else ""))
            found.add(key)
        else:
            out.append(line)
    return "\n".join(out)


def rewrite_setup_cfg(text: str, version: str, rewrites: Mapping[str, str]) -> str:
    """Return *text* with the snapshot *version* and the requirement *rewrites* applied."""
    from configupdater import ConfigUpdater

    updater = ConfigUpdater()
    try:
        updater.read_string(text)
    except Exception as exc:  # configupdater raises configparser errors
        raise PublishError(f"setup.cfg cannot be parsed for rewriting: {exc}") from exc
    if not updater.has_section("metadata"):
        raise PublishError("setup.cfg has no [metadata] section to rewrite")
    updater["metadata"]["version"] = version
    found: set[str] = set()
    options = [("options", "install_requires")]
    if updater.has_section("options.extras_require"):
        options += [("options.extras_require", key) for key in updater["options.extras_require"]]
    for section, key in options:
        if not updater.has_section(section) or not updater.has_option(section, key):
            continue
        option = updater[section][key]
        value = option.value or ""
        new = _rewrite_value(value, rewrites, found)
        if new != value:
            lines = [line.strip() for line in new.split("\n")]
            if len(lines) > 1 and not lines[0]:
                option.set_values([line for line in lines[1:] if line])
            else:
                option.value = new
    remaining = [r for r in rewrites if r not in found]
    if remaining:
        missing = ", ".join(repr(r) for r in remaining)
        raise PublishError(f"could not find the requirement(s) {missing} to rewrite in setup.cfg")
    return str(updater)
