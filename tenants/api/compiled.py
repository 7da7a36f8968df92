"""Output serializers whose declared fields are also their fast path.

A dialect's output is declared once, as DRF fields. A ``CompiledSerializer`` renders that
declaration without DRF's per-field machinery: on first use, its fields are walked once and
turned into one generated function per input kind (a model instance, or a ``values()`` row:
a dict whose key ``a__b`` is the source ``a.b``), which reads each field's source and renders
it with a fast converter chosen per field class. The same declaration gives the columns a
list reads (``row_columns``), so a row, an instance and the OpenAPI schema cannot drift apart.

- A field class whose ``to_representation`` has a fast equivalent names it (``renders``);
  DRF's common fields are named here. Any other field renders by its own
  ``to_representation``. ``None`` renders as ``None``, as DRF renders it.
- A field with a rule (a value made of several columns, a default when a related row is
  missing) is a ``Computed`` field: it declares the paths it reads and computes its value
  from them; its class's converter then renders that value. The rule lives in that field
  class, for DRF's path (``get_attribute``) and the compiled one alike.
- A nested ``CompiledSerializer`` (alone or ``many=True``) renders through its own compiled
  function. Sources are attributes or keys, not methods to call (DRF would call them).

The generated functions are what a hand-written ``to_representation`` would be: a dict
display of the fields in declaration order (tests/test_compiled.py compares them with DRF's
own rendering of the same declaration).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Manager
from rest_framework import ISO_8601, serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from tenants.api.dialect import iso_timestamp

#: field class -> (field -> its fast converter, or None to pass values through as they are)
_CONVERTERS: dict[type, Callable] = {}


#: converter -> the same as an expression of ``v``, written into the generated functions
_INLINE: dict[Callable, str] = {}


def renders(converter: Callable | None, *, inline: str | None = None):
    """Class decorator: the field class (and its subclasses that do not render their own
    way) renders a value that is not None as ``converter(value)`` does (None: the value as
    it is); ``inline``: the same as an expression of ``v``, saving a call per value."""

    def register(field_class):
        _CONVERTERS[field_class] = lambda field: converter
        if inline is not None:
            _INLINE[converter] = inline
        return field_class

    return register


def renders_by(factory: Callable):
    """``renders`` for a converter that depends on the field's options: ``factory(field)``
    gives it (or ``_OWN`` to use the field's own ``to_representation``)."""

    def register(field_class):
        _CONVERTERS[field_class] = factory
        return field_class

    return register


_OWN = object()


def _uuid(field):
    return str if field.uuid_format == "hex_verbose" else _OWN


def _datetime(field):
    fmt = getattr(field, "format", empty)
    fmt = api_settings.DATETIME_FORMAT if fmt is empty else fmt
    iso = isinstance(fmt, str) and fmt.lower() == ISO_8601
    utc = (
        settings.USE_TZ and settings.TIME_ZONE == "UTC" and getattr(field, "timezone", None) is None
    )
    return iso_timestamp if iso and utc else _OWN


def _choice(field):
    lookup = field.choice_strings_to_values.get
    own = field.to_representation

    def choice(value):  # a str (or a str enum's member) is its choice's plain value
        return lookup(value, value) if isinstance(value, str) else own(value)

    return choice


def _list(field):
    child = converter(field.child)
    if child is None:
        return list
    return lambda items: [None if item is None else child(item) for item in items]


renders(str)(serializers.CharField)
renders(None)(serializers.BooleanField)  # the columns are booleans already
renders(None)(serializers.IntegerField)  # and integers
renders(None)(serializers.ReadOnlyField)
renders_by(_uuid)(serializers.UUIDField)
renders_by(_datetime)(serializers.DateTimeField)
renders_by(_choice)(serializers.ChoiceField)
renders_by(_list)(serializers.ListField)


@renders(lambda value: value or None, inline="v or None")
class BlankAsNullCharField(serializers.CharField):
    """An optional string on the wire: an empty value is shown as ``null``."""

    def to_representation(self, value):
        return value or None


def converter(field) -> Callable | None:
    """The fast function rendering ``field``'s values that are not None (None: as they are)."""
    if isinstance(field, serializers.ListSerializer):
        return _many(converter(field.child) or (lambda item: item))
    if isinstance(field, CompiledSerializer):
        return _plan(type(field)).render
    # the nearest class that names its converter, unless one below it renders its own way
    for cls in type(field).__mro__:
        factory = _CONVERTERS.get(cls)
        if factory is not None:
            found = factory(field)
            break
        if "to_representation" in vars(cls):
            found = _OWN
            break
    return field.to_representation if found is _OWN else found


def _many(render):
    def many(items):
        if isinstance(items, Manager):
            items = items.all()
        return [render(item) for item in items]

    return many


class Computed:
    """A field (mixin, before the field class) whose value follows a rule over several
    paths: ``reads`` (dotted paths from the rendered object, ``*`` for the object itself),
    of which ``columns`` are what a list reads with ``values()`` (the others are attached
    to its rows); ``compute(*values)`` is the value, rendered by the field class. A path
    that leads through a missing related object reads None."""

    reads: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None  # None: every path of ``reads``

    def __init__(self, *args, reads: tuple[str, ...] | None = None, **kwargs):
        if reads is not None:
            self.reads = reads
        if self.reads:  # else a plain field (e.g. a serializer's input use)
            kwargs.setdefault("source", "*")
        super().__init__(*args, **kwargs)

    def compute(self, *values):
        raise NotImplementedError

    def get_attribute(self, instance):  # DRF's path
        if not self.reads:
            return super().get_attribute(instance)
        return self.compute(*(_walk(instance, path) for path in self.reads))

    def row_columns(self) -> tuple[str, ...]:
        return self.reads if self.columns is None else self.columns


def _walk(obj, path: str):
    """``path`` read from ``obj`` (attributes, or keys of a dict), None past a missing part."""
    if path == "*":
        return obj
    for part in path.split("."):
        if obj is None:
            return None
        if obj.__class__ is dict or isinstance(obj, Mapping):
            obj = obj.get(part)
        else:
            try:
                obj = getattr(obj, part, None)
            except ObjectDoesNotExist:
                return None
    return obj


def _step(obj, name: str):
    """``obj.name``: None when ``obj`` is None or the related object is missing."""
    if obj is None:
        return None
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


class _Plan:
    def __init__(self, render: Callable, columns: tuple[str, ...], source: str):
        self.render = render
        self.columns = columns
        self.source = source  # the generated functions, to read when debugging


_PLANS: dict[type, _Plan] = {}
_LOCK = threading.RLock()  # a plan compiles the plans of its nested serializers


def _plan(serializer_class) -> _Plan:
    plan = _PLANS.get(serializer_class)
    if plan is None:
        with _LOCK:
            plan = _PLANS.get(serializer_class) or _compile(serializer_class)
            _PLANS[serializer_class] = plan
    return plan


def _compile(serializer_class) -> _Plan:
    serializer = serializer_class()
    names: dict[str, object] = {"_step": _step}
    row_items, instance_items, columns = [], [], []

    def bind(value) -> str:
        name = f"_n{len(names)}"
        names[name] = value
        return name

    related: dict[str, str] = {}  # a related object's path -> its local in render_instance
    prelude: list[str] = []

    def related_object(path: str) -> str:
        """The local holding the object at ``path`` (None past a missing one), read once."""
        if path not in related:
            parent, _, name = path.rpartition(".")
            holder = related_object(parent) if parent else "obj"
            related[path] = local = f"_r{len(related)}"
            prelude.append(f"{local} = _step({holder}, {name!r})")
        return related[path]

    def instance_read(path: str, *, optional: bool = False) -> str:
        if path == "*":
            return "obj"
        parent, _, name = path.rpartition(".")
        holder = related_object(parent) if parent else "obj"
        read = f"getattr({holder}, {name!r}, None)" if optional else f"{holder}.{name}"
        return f"(None if {holder} is None else {read})" if parent else read

    def row_read(path: str, *, optional: bool = False) -> str:
        if path == "*":
            return "obj"
        key = path.replace(".", "__")
        return f"obj.get({key!r})" if optional else f"obj[{key!r}]"

    for field in serializer._readable_fields:
        convert = converter(field)
        many = isinstance(field, serializers.ListSerializer)
        if many and isinstance(field.child, CompiledSerializer):
            conversion = f"[{bind(_plan(type(field.child)).render)}(i) for i in v]"
        elif convert is not None:
            conversion = _INLINE.get(convert) or f"{bind(convert)}(v)"
        if isinstance(field, Computed) and field.reads:
            compute = bind(field.compute)
            fetched = set(field.row_columns())
            row_args = [row_read(p, optional=p not in fetched) for p in field.reads]
            instance_args = [
                instance_read(p) if p in fetched else instance_read(p, optional=True)
                for p in field.reads
            ]
            row_value = f"{compute}({', '.join(row_args)})"
            instance_value = f"{compute}({', '.join(instance_args)})"
            columns.extend(p.replace(".", "__") for p in field.row_columns() if p != "*")
        else:
            path = ".".join(field.source_attrs) or "*"
            row_value, instance_value = row_read(path), instance_read(path)
            if isinstance(field, CompiledSerializer):
                prefix = "" if path == "*" else path.replace(".", "__") + "__"
                columns.extend(prefix + c for c in _plan(type(field)).columns)
            elif path != "*" and not many:
                columns.append(path.replace(".", "__"))
        for items, value in ((row_items, row_value), (instance_items, instance_value)):
            key = field.field_name
            if convert is None:
                items.append(f"{key!r}: {value}")
            elif convert is str:  # most values are str already: no call for them
                items.append(
                    f"{key!r}: v if (v := {value}).__class__ is str or v is None else str(v)"
                )
            else:
                items.append(f"{key!r}: None if (v := {value}) is None else {conversion}")

    source = (
        "def render_row(obj):\n    return {" + ", ".join(row_items) + "}\n"
        "def render_instance(obj):\n"
        + "".join(f"    {line}\n" for line in prelude)
        + "    return {"
        + ", ".join(instance_items)
        + "}\n"
        "def render(obj):\n"
        "    return render_row(obj) if obj.__class__ is dict else render_instance(obj)\n"
    )
    exec(compile(source, f"<compiled {serializer_class.__qualname__}>", "exec"), names)
    return _Plan(names["render"], tuple(dict.fromkeys(columns)), source)


class CompiledSerializer(serializers.Serializer):
    # An output serializer rendered by its compiled declaration (for input, declare a plain
    # serializer); it renders model instances and ``values()`` rows alike. No docstring: a
    # serializer's docstring is its schema component's description, and subclasses inherit it.

    def to_representation(self, instance):
        plan = _PLANS.get(self.__class__) or _plan(self.__class__)
        return plan.render(instance)


def row_columns(serializer_class, *, prefix: str = "", extra: tuple[str, ...] = ()) -> tuple:
    """The ``values()`` columns a row needs to render as ``serializer_class`` (a
    ``CompiledSerializer``), each after ``prefix``, then ``extra`` (e.g. a list's key)."""
    columns = (prefix + column for column in _plan(serializer_class).columns)
    return tuple(dict.fromkeys((*columns, *extra)))


def declared(serializer, instance) -> dict:
    """What DRF's own field machinery renders of ``instance`` for ``serializer``'s declared
    fields, nested compiled serializers included (what the compiled function must render; for
    tests). A ``values()`` row is read as DRF reads nested objects: its ``a__b`` keys become
    ``{"a": {"b": …}}``."""
    if isinstance(instance, dict):
        instance = nest(instance)
    shown = {}
    for field in serializer._readable_fields:  # as serializers.Serializer.to_representation
        value = field.get_attribute(instance)
        if value is None:
            shown[field.field_name] = None
        elif isinstance(field, CompiledSerializer):
            shown[field.field_name] = declared(field, value)
        elif isinstance(field, serializers.ListSerializer) and isinstance(
            field.child, CompiledSerializer
        ):
            shown[field.field_name] = [declared(field.child, item) for item in value]
        else:
            shown[field.field_name] = field.to_representation(value)
    return shown


def nest(row: dict) -> dict:
    """A ``values()`` row with its ``a__b`` keys as nested dicts (``{"a": {"b": …}}``)."""
    nested: dict = {}
    for key, value in row.items():
        *parents, last = key.split("__")
        at = nested
        for part in parents:
            at = at.setdefault(part, {})
        at[last] = value
    return nested
