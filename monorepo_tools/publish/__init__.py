"""Snapshot publishing: staging, building, checking and uploading the monorepo's packages.

In pipeline order: :mod:`.stage` (the staged copy), :mod:`.build` (sdists and wheels),
:mod:`.check_dists` (twine check and metadata before upload), :mod:`.registry` (which registry,
its index, uploads), :mod:`.install_check` (installs each published version in a fresh venv);
:mod:`.run` orchestrates them and reports outcomes, :mod:`.progress` draws them.
"""
