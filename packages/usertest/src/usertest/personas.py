"""The persona and mission catalog shipped in the package (``usertest/catalog/*.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files

__all__ = ["Mission", "Persona", "load_missions", "load_personas"]


@dataclass(frozen=True, slots=True)
class Persona:
    id: str
    name: str
    description: str

    @property
    def text(self) -> str:
        return f"{self.name}. {self.description}"


@dataclass(frozen=True, slots=True)
class Mission:
    id: str
    title: str
    description: str
    success: str

    @property
    def text(self) -> str:
        return f"{self.title}. {self.description}\n\nSuccess: {self.success}"


def _load(name: str) -> list[dict[str, str]]:
    data = json.loads(files("usertest").joinpath("catalog", name).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"catalog/{name} must hold a JSON array")
    return data


def load_personas() -> dict[str, Persona]:
    """Every persona by id, in catalog order."""
    return {p["id"]: Persona(p["id"], p["name"], p["description"]) for p in _load("personas.json")}


def load_missions() -> dict[str, Mission]:
    """Every mission by id, in catalog order."""
    return {
        m["id"]: Mission(m["id"], m["title"], m["description"], m["success"]) for m in _load("missions.json")
    }
