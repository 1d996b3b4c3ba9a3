"""Snapshot planning: what a push to ``main`` publishes, before anything is staged or built.

Modules (one concern each), in the order the pipeline uses them:

* :mod:`.versions` -- the snapshot id (env var priorities) and ``<base_release>.dev<id>``.
* :mod:`.plan` -- :class:`~.plan.Plan`: every publishable package, its version, its internal pins,
  in dependency order (refused when the check has findings).
* :mod:`.changed_only` -- ``snapshot --affected-since REF``: the plan narrowed to what changed,
  pins of the rest pointing at what the registry already holds.
* :mod:`.rewrite` -- the staged copy's pyproject.toml / setup.cfg / version files rewritten to
  that version and those pins.

Staging, building and uploading live in :mod:`monorepo_tools.publish`.
"""
