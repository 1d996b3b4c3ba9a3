"""Snapshot publishing: staging, building, verifying and uploading the monorepo's packages."""
