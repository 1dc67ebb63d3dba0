"""Adoption markers: how a retried create recognises the one object it may have made.

A platform without an idempotency key (Reddit, reddit-ads-api.md §6) can lose a create's answer
after the object was made. The retry must then find *that* object — never one with the same
name made by another set, tenant or run. So every object we create carries a deterministic
marker derived from our entity's id, in a field the platform keeps (on Reddit the name's
suffix ` [fd:0123456789ab]`), and adoption looks for the marker only.

The marker is part of the name given at creation; readers (sync-back) strip it, so what people
see locally and what the three-way comparison sees is the name they chose. A later rename
pushes the plain name (the object is mapped by id by then; no marker is needed any more).
"""

from __future__ import annotations

import hashlib
import re
import uuid

_MARKER = re.compile(r" \[fd:([0-9a-f]{12})\]$")


def entity_ref(entity_type: str, entity_id: uuid.UUID | str) -> str:
    """12 hex digits of SHA-256 over the entity's type and id: unique per entity (48 bits),
    the same on every attempt, and revealing nothing about the tenant."""
    return hashlib.sha256(f"{entity_type}:{entity_id}".encode()).hexdigest()[:12]


def with_ref(name: str, ref: str | None) -> str:
    return f"{name} [fd:{ref}]" if ref else name


def ref_of(name: str | None) -> str | None:
    found = _MARKER.search(name or "")
    return found.group(1) if found else None


def strip_ref(name: str) -> str:
    return _MARKER.sub("", name)
