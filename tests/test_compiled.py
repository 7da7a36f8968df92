"""tenants.api.compiled: a serializer's declared fields, rendered by a generated function,
render exactly what DRF renders of them, for model-like instances and ``values()`` rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from tenants.api import compiled
from tenants.api.compiled import (
    BlankAsNullCharField,
    CompiledSerializer,
    Computed,
    converter,
    declared,
    nest,
    renders,
    row_columns,
)
from tenants.api.dialect import iso_timestamp

WHEN = datetime(2025, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


@renders(lambda value: value.upper())
class ShoutField(serializers.CharField):
    def to_representation(self, value):
        return value.upper()


class OwnField(serializers.CharField):  # no fast equivalent: its own to_representation
    def to_representation(self, value):
        return f"<{value}>"


class FullNameField(Computed, serializers.CharField):
    def __init__(self, path="", **kwargs):
        prefix = f"{path}." if path else ""
        super().__init__(reads=(f"{prefix}first", f"{prefix}last"), **kwargs)

    def compute(self, first, last):
        return " ".join(p for p in (first, last) if p) or None


class CountField(Computed, serializers.IntegerField):
    reads = ("tags", "extra")
    columns = ()  # attached to rows, not read by values()

    def compute(self, tags, extra):
        return len(tags or ()) + (extra or 0)


class TagSerializer(CompiledSerializer):
    name = serializers.CharField()
    loud = ShoutField(source="name")


class PersonSerializer(CompiledSerializer):
    id = serializers.UUIDField(source="uuid")
    name = FullNameField()
    nick = BlankAsNullCharField(allow_null=True)
    city = serializers.CharField(source="home.city", allow_null=True)
    own = OwnField(source="home.city", allow_null=True)
    manager = FullNameField("manager")
    active = serializers.BooleanField(source="is_active")
    score = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["a", "b"])
    born = serializers.DateTimeField(allow_null=True)
    labels = serializers.ListField(child=serializers.CharField())
    tags = TagSerializer(many=True)
    count = CountField()


def person(**overrides) -> SimpleNamespace:
    values = {
        "uuid": uuid.uuid4(),
        "first": "Ada",
        "last": "Lovelace",
        "nick": "",
        "home": SimpleNamespace(city="London"),
        "manager": SimpleNamespace(first="Charles", last=""),
        "is_active": True,
        "score": 7,
        "kind": "a",
        "born": WHEN,
        "labels": ["x", 1],
        "tags": [SimpleNamespace(name="vip"), SimpleNamespace(name="donor")],
        "extra": 2,
    }
    return SimpleNamespace(**{**values, **overrides})


def row_of(p: SimpleNamespace) -> dict:
    """The ``values()`` row of ``p`` (its columns), with its tags and extra attached."""
    row = {}
    for column in row_columns(PersonSerializer):
        obj = p
        for part in column.split("__"):
            obj = None if obj is None else getattr(obj, part)
        row[column] = obj
    row["tags"] = [{"name": t.name} for t in p.tags]
    row["extra"] = p.extra
    return row


SHAPES = [
    {},
    {"nick": "Countess", "born": None, "kind": "b", "labels": []},
    {"home": None, "manager": None, "first": "", "last": "", "tags": [], "extra": None},
    {"home": SimpleNamespace(city=None), "is_active": False, "score": 0},
]


@pytest.mark.parametrize("overrides", SHAPES)
def test_an_instance_renders_as_drf_renders_the_declaration(overrides):
    p = person(**overrides)
    if p.home is None:  # DRF reads a missing related object as None, not None's attribute
        p.home = SimpleNamespace(city=None)
    serializer = PersonSerializer(p)
    expected = serializers.Serializer.to_representation(serializer, p)
    assert serializer.data == expected
    assert list(serializer.data) == list(expected)


@pytest.mark.parametrize("overrides", SHAPES)
def test_a_row_renders_as_drf_renders_the_declaration(overrides):
    p = person(**overrides)
    row = row_of(p)
    serializer = PersonSerializer()
    shown = serializer.to_representation(row)
    assert shown == declared(serializer, row)
    assert list(shown) == list(declared(serializer, row))
    if p.home is not None:
        assert shown == PersonSerializer(p).data  # a row and its instance alike


def test_a_missing_related_object_reads_as_none():
    class Homeless(SimpleNamespace):
        @property
        def home(self):  # as a reverse one-to-one without its row
            raise ObjectDoesNotExist

    p = person()
    homeless = Homeless(**{k: v for k, v in vars(p).items() if k != "home"})
    shown = PersonSerializer().to_representation(homeless)
    assert shown == {**PersonSerializer(p).data, "city": None, "own": None}
    assert shown == serializers.Serializer.to_representation(PersonSerializer(), homeless)


def test_the_columns_come_from_the_declaration():
    assert row_columns(PersonSerializer) == (
        "uuid",
        "first",
        "last",
        "nick",
        "home__city",
        "manager__first",
        "manager__last",
        "is_active",
        "score",
        "kind",
        "born",
        "labels",
    )
    assert row_columns(TagSerializer, prefix="t__", extra=("t__id",)) == ("t__name", "t__id")


def test_each_field_class_has_its_converter():
    assert converter(serializers.CharField()) is str
    assert converter(serializers.EmailField()) is str  # inherits CharField's
    assert converter(serializers.BooleanField()) is None
    assert converter(serializers.IntegerField()) is None
    assert converter(serializers.UUIDField()) is str
    assert converter(serializers.UUIDField(format="hex"))(uuid.UUID(int=1)) == "0" * 31 + "1"
    assert converter(serializers.DateTimeField()) is iso_timestamp
    assert converter(serializers.DateTimeField(format="%Y"))(WHEN) == "2025"
    assert converter(ShoutField())("a") == "A"
    assert converter(OwnField())("a") == "<a>"
    assert converter(BlankAsNullCharField())("") is None
    assert converter(serializers.ListField(child=serializers.IntegerField())) is list
    assert converter(TagSerializer())({"name": "x"}) == {"name": "x", "loud": "X"}


def test_nest_makes_a_row_what_drf_reads():
    assert nest({"a": 1, "b__c": 2, "b__d__e": 3}) == {"a": 1, "b": {"c": 2, "d": {"e": 3}}}


def test_a_plan_is_compiled_once_per_class():
    PersonSerializer().to_representation(person())
    plan = compiled._PLANS[PersonSerializer]
    PersonSerializer().to_representation(person())
    assert compiled._PLANS[PersonSerializer] is plan
