"""The hub dialect's duplicate routes (issue 20): a customer's candidates, the review queue
and its dismissal (customers/duplicates.py, docs/duplicates.md)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from customers.duplicates import (
    REASON_CODES,
    Reason,
    duplicate_candidates,
    duplicate_pair_dismiss,
    duplicate_pair_get,
    duplicate_pairs_for_tenant,
)
from customers.models import DuplicatePair, DuplicateStatus
from customers.selectors import customer_get
from tenants.api.dialect import iso_timestamp
from tenants.api.hub import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    TENANT_HEADER,
    CursorQuerySerializer,
    HubView,
    cursor_list_envelope,
    cursor_meta,
    data_envelope,
    decode_cursor,
    encode_cursor,
    error_ref,
    invalid_cursor,
)
from tenants.ids import parse_uuid

TAGS = ["hub: duplicates"]
CUSTOMER_ID = OpenApiParameter(
    "customer_id", str, OpenApiParameter.PATH, description="The customer's id (a UUID)."
)
PAIR_ID = OpenApiParameter(
    "pair_id", str, OpenApiParameter.PATH, description="The pair's id (a UUID)."
)
REASONS_HELP = (
    "Why, strongest first: `code` is one of "
    + ", ".join(f"`{r}`" for r in Reason)
    + "; `detail` is the shared value as a person reads it."
)


# --- shapes -----------------------------------------------------------------------------------


class HubDuplicateReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=REASON_CODES)
    detail = serializers.CharField()


class HubDuplicateCandidateSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The candidate customer's id.")
    display_name = serializers.CharField(help_text="The candidate's name as people read it.")
    score = serializers.IntegerField(
        min_value=0, max_value=100, help_text="How likely the two are one person, 0..100."
    )
    reasons = HubDuplicateReasonSerializer(many=True, help_text=REASONS_HELP)


class HubDuplicatePairCustomerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


class HubDuplicatePairSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customers = HubDuplicatePairCustomerSerializer(
        many=True, help_text="The two customers, the older record first."
    )
    score = serializers.IntegerField(min_value=0, max_value=100)
    reasons = HubDuplicateReasonSerializer(many=True, help_text=REASONS_HELP)
    status = serializers.ChoiceField(choices=DuplicateStatus.values)
    found_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was dismissed or merged; null while open."
    )


CandidatesEnvelope = data_envelope(
    "HubDuplicateCandidatesEnvelope", HubDuplicateCandidateSerializer(many=True)
)
PairEnvelope = data_envelope("HubDuplicatePairEnvelope", HubDuplicatePairSerializer())
PairListEnvelope = cursor_list_envelope(
    "HubDuplicatePairListEnvelope", HubDuplicatePairSerializer(many=True)
)


class CandidatesQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"The most candidates, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    )


class QueueQuerySerializer(CursorQuerySerializer):
    status = serializers.ChoiceField(
        choices=DuplicateStatus.values,
        required=False,
        default=DuplicateStatus.OPEN,
        help_text="The pairs of this status (default `open`).",
    )


def candidate_output(candidate) -> dict:
    return {
        "id": str(candidate.uuid),
        "display_name": candidate.display_name,
        "score": candidate.score,
        "reasons": [{"code": str(r["code"]), "detail": r["detail"]} for r in candidate.reasons],
    }


def pair_output(pair: DuplicatePair) -> dict:
    return {
        "id": str(pair.pk),
        "customers": [
            {"id": str(c.uuid), "display_name": c.display_name}
            for c in (pair.customer_a, pair.customer_b)
        ],
        "score": pair.score,
        "reasons": pair.reasons,
        "status": pair.status,
        "found_at": iso_timestamp(pair.found_at),
        "decided_at": iso_timestamp(pair.decided_at),
    }


def queue_page(queryset, query: dict):
    """A page of the queue, best first: keyset on (score descending, id), the cursor holding
    the last pair's score and id; anything else is the hub's 400 ``invalid_cursor``."""
    if query.get("cursor") is not None:
        values = decode_cursor(query["cursor"])
        if len(values) != 2 or type(values[0]) is not int or type(values[1]) is not str:
            raise invalid_cursor()
        score, pair_id = values[0], parse_uuid(values[1])
        if pair_id is None or not 0 <= score <= 100:
            raise invalid_cursor()
        queryset = queryset.filter(score__lte=score).exclude(score=score, pk__lte=pair_id)
    limit = query["limit"]
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.score, str(last.pk)])
    return rows[:limit], next_cursor


# --- views --------------------------------------------------------------------------------------


class CustomerDuplicatesView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_customer_duplicates",
        summary="A customer's possible duplicates",
        description=(
            "The tenant's live customers that may be the same person as this one, best first "
            "(then the older record): each with a score (0..100) and the reasons for it — the "
            "same email, phone or external id (through the customers' columns and their "
            "identifiers), the same Discord user name, the same name (and postcode), a similar "
            "name (trigram similarity). Pairs dismissed or merged in the review queue are left "
            "out. Viewers may read it. Another tenant's customer is a 404."
        ),
        parameters=[CUSTOMER_ID, TENANT_HEADER, CandidatesQuerySerializer],
        responses={200: CandidatesEnvelope},
    )
    def get(self, request, customer_id):
        access = self.access(request)
        query = self.query(CandidatesQuerySerializer)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        candidates = duplicate_candidates(customer=customer, limit=query["limit"])
        return Response({"data": [candidate_output(c) for c in candidates]})


class DuplicatePairListView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_duplicates_list",
        summary="The review queue of possible duplicates",
        description=(
            "The pairs `manage.py find_duplicates` found, best first (then by id), of one "
            "status (`open` by default). An open pair is listed while both its customers are "
            "live (neither merged away nor erased). Viewers may read it."
        ),
        parameters=[TENANT_HEADER, QueueQuerySerializer],
        responses={200: PairListEnvelope},
    )
    def get(self, request):
        access = self.access(request)
        query = self.query(QueueQuerySerializer)
        rows, next_cursor = queue_page(
            duplicate_pairs_for_tenant(tenant=access.tenant, status=query["status"]), query
        )
        return Response(
            {
                "data": [pair_output(pair) for pair in rows],
                "meta": cursor_meta(limit=query["limit"], next_cursor=next_cursor),
            }
        )


class DuplicatePairDismissView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_duplicates_dismiss",
        summary="Dismiss a pair: not the same person",
        description=(
            "The two customers are different people: the pair leaves the queue and is never "
            "found again (neither by `find_duplicates` nor among the customers' candidates). "
            "Dismissing a dismissed pair changes nothing. Agents and admins; a viewer gets a "
            "403. Another tenant's pair is a 404."
        ),
        parameters=[PAIR_ID, TENANT_HEADER],
        request=None,
        responses={
            200: PairEnvelope,
            409: error_ref("The pair has been merged (`duplicate_pair_merged`)."),
        },
    )
    def post(self, request, pair_id):
        access = self.access(request)
        pair = duplicate_pair_get(tenant=access.tenant, pair_id=pair_id)
        pair = duplicate_pair_dismiss(pair=pair, by=access.user)
        return Response({"data": pair_output(pair)})
