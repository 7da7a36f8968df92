"""The dialects' viewsets and router (DESIGN.md §6: a viewset per documented endpoint family).

Each dialect declares its endpoint families as ``DialectViewSet`` subclasses (in its
``api/views.py``), documents them in its ``api/docs.py`` with ``documented(...)``, and routes
them with a ``DialectRouter`` (in its ``api/urls.py``), which keeps the seeds' paths:

- nothing ends in a slash (``/api/data/customer``, ``/customers/bulk``);
- path parameters use Django's converters (``<str:id>`` takes anything but a slash), so a
  malformed id reaches the view and is answered with the dialect's own 404, never a 500 or
  Django's page; the route strings are those of hand-written ``path()`` patterns, which the
  metrics' route label and the generated isolation matrix read.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import ViewSet

from tenants.api.dialect import DialectViewMixin


class DialectRouter(SimpleRouter):
    """``SimpleRouter`` with ``path()`` patterns and no trailing slash.

    Register a family under its full path below the include that mounts the router, with
    ``lookup_url_kwarg`` (and ``lookup_value_converter``) on the viewset naming its id as
    the seed does. A family nested under another's id is registered under a prefix that
    already holds that id (``data/customer/<str:id>/address``).
    """

    def __init__(self):
        super().__init__(trailing_slash=False, use_regex_path=False)


class DialectSchema(AutoSchema):
    """The document of a dialect viewset's operation.

    drf-spectacular takes a viewset's ``list`` action for an array of its response; the
    dialects' lists are not all arrays (a store page, a b2b ``{data, meta}`` envelope), and
    the ones that are say so (``many=True``), as they did when they were plain views.
    """

    def _is_list_view(self, serializer=None) -> bool:
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            # the response of the lowest status code, as drf-spectacular picks it
            serializer = {str(code): s for code, s in serializer.items()}
            serializer = serializer[min(serializer)]
        return is_list_serializer(serializer)


class DialectViewSet(DialectViewMixin, ViewSet):
    """Base of every dialect's viewsets: ``dialect``'s errors, its authentication, throttles,
    renderers and parsers, as ``DialectViewMixin`` gives them to a plain view."""

    schema = DialectSchema()

    def get_view_description(self, html=False) -> str:
        # DRF answers OPTIONS with the view's docstring, which is written for maintainers
        # (the plain views had none of their own); the operations are described in the
        # OpenAPI document.
        return ""


def documented(**operations):
    """Class decorator: each ``extend_schema(...)`` (or list of them) onto the viewset method
    of that name: the standard actions, ``@action`` methods and the methods mapped to them
    (``@clienttypes.mapping.post``), which ``extend_schema_view`` does not reach. The
    documentation lives in the dialect's ``api/docs.py``, so a view reads as what it does."""

    def decorate(viewset):
        for name, schemas in operations.items():
            method = vars(viewset).get(name)
            if method is None:
                raise ImproperlyConfigured(f"{viewset.__name__} has no method {name!r}")
            for schema in schemas if isinstance(schemas, list | tuple) else [schemas]:
                schema(method)
        return viewset

    return decorate
