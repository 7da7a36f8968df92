"""Which stores a caller reaches, answered by the stores app.

``tenants`` sits below ``stores`` (a store belongs to a tenant) and may not import it, yet the
auth endpoints list a caller's stores and the back-office and the hub API scope store-owned
rows by them. The stores app registers its answers here in ``StoresConfig.ready()``, as it
registers its history source with customers (DESIGN §7, plug-ins instead of upward imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class StoreReach(Protocol):
    def stores_reachable(self, *, memberships, user, api_key) -> list:
        """The active stores a caller reaches (API key: its tenant's; user: the stores of the
        tenants it administers and of its active store relations), by name."""

    def user_store_ids(self, *, user, tenant=None) -> frozenset:
        """The active stores of ``user``'s active store relations (in ``tenant`` if given)."""


@dataclass(frozen=True)
class _NoStores:
    """Without the stores app nobody reaches a store."""

    def stores_reachable(self, *, memberships, user, api_key) -> list:
        return []

    def user_store_ids(self, *, user, tenant=None) -> frozenset:
        return frozenset()


_reach: StoreReach = _NoStores()


def register_store_reach(reach: StoreReach) -> None:
    global _reach
    _reach = reach


def store_reach() -> StoreReach:
    return _reach
