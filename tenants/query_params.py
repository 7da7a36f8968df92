"""Querysets built once and run many times with new values.

Building a queryset with many expressions is costly in Django: the analytics of one customer
spent ~11 ms of Python building an aggregate that PostgreSQL answered in 3 ms
(docs/performance.md), and built the very same expressions for every request. A queryset
whose changing values are ``Param`` nodes can be built (and resolved) once, for example in
a ``functools.cache``-d function, and evaluated for each request inside ``bound(...)``,
which supplies the values; cloning a resolved queryset and compiling it costs a fraction of
building it.

    CUSTOMER = Param("customer", models.BigIntegerField())

    @functools.cache
    def orders_of_customer():
        return SalesOrder.objects.filter(customer_id=CUSTOMER).values("status").annotate(...)

    with bound(customer=customer.pk):
        rows = list(orders_of_customer().all())

Always evaluate a clone (``.all()``, a slice): a cached queryset evaluated itself would keep
its first results and hand them to every later caller.

A ``Param`` is compiled like a ``Value`` of its ``output_field`` (the same placeholder and
database preparation), with the value bound where and when the query is compiled: per
thread and per request (a context variable), never shared. Evaluating a query outside
``bound`` (or without one of its values) raises ``LookupError`` naming the parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Value

_BOUND: ContextVar[dict] = ContextVar("hub_query_params", default={})  # noqa: B039 (never mutated)


class Param(Value):
    """A value of a query given at evaluation time by ``bound(name=value)``."""

    def __init__(self, name: str, output_field):
        self.name = name
        super().__init__(None, output_field=output_field)

    @property
    def value(self):
        try:
            return _BOUND.get()[self.name]
        except KeyError:
            raise LookupError(
                f"query parameter {self.name!r} is not bound: evaluate the query inside "
                f"tenants.query_params.bound({self.name}=...)"
            ) from None

    @value.setter
    def value(self, _value) -> None:
        """``Value.__init__`` sets a value: a parameter has none of its own."""

    def __repr__(self) -> str:
        return f"Param({self.name!r})"


@contextmanager
def bound(**values) -> Iterator[None]:
    """Bind parameter values for the queries evaluated inside the block."""
    token = _BOUND.set({**_BOUND.get(), **values})
    try:
        yield
    finally:
        _BOUND.reset(token)
