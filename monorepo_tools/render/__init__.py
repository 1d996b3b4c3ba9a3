"""Renderers: pure functions from values (findings, graph views, plans) to text."""
