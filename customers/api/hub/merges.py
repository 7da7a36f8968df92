"""The hub dialect's merges (issue 20; docs/merge.md): preview, merge, read, list, undo.

Thin views: parse, resolve access, call one service or selector of customers/merging.py,
render. Agents and admins merge and undo; viewers read.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from customers.merging import (
    MERGE_FIELDS,
    customer_merge,
    merge_get,
    merge_preview,
    merge_undo,
    merges_for_tenant,
)
from customers.selectors import customer_get_for_merge
from tenants.api.dialect import iso_timestamp
from tenants.api.hub import (
    TENANT_HEADER,
    CursorQuerySerializer,
    HubView,
    cursor_list_envelope,
    cursor_meta,
    data_envelope,
    error_ref,
    page_by_id,
    uuid_key,
)

TAGS = ["hub: merges"]
MERGE_ID = OpenApiParameter("merge_id", str, OpenApiParameter.PATH, description="The merge's id.")
SIDES = ["survivor", "merged"]
WRITERS = " Agents and admins only (a viewer gets a 403)."


# --- input ----------------------------------------------------------------------------------------


class HubMergeInputSerializer(serializers.Serializer):
    survivor_id = serializers.UUIDField(help_text="The customer that is kept.")
    merged_id = serializers.UUIDField(
        help_text="The customer merged into it: it becomes a tombstone whose id answers as "
        "the survivor in every dialect."
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: answer the preview (200) and change nothing.",
    )
    fields = serializers.DictField(
        child=serializers.ChoiceField(choices=SIDES),
        required=False,
        default=dict,
        help_text="Per field, whose value survives. Fields: " + ", ".join(MERGE_FIELDS) + ". "
        "Without a choice: the survivor's, or the merged record's when the survivor's is empty. "
        "The notes are both kept, the credit summed.",
    )


# --- output ---------------------------------------------------------------------------------------


class HubMergeActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "api_key", "system"])
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    origin = serializers.CharField()


class HubMergeFieldSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(MERGE_FIELDS))
    survivor = serializers.JSONField(help_text="The survivor's value.")
    merged = serializers.JSONField(help_text="The merged record's value.")
    value = serializers.JSONField(help_text="The value that survives.")
    # "from" is a Python keyword: declared through the serializer's fields
    reason = serializers.CharField(help_text="Why this value survives.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.ChoiceField(choices=SIDES, help_text="Whose value survives.")
        return fields


class HubMergePreviewSerializer(serializers.Serializer):
    survivor_id = serializers.UUIDField()
    merged_id = serializers.UUIDField()
    fields = HubMergeFieldSerializer(many=True)
    moves = serializers.DictField(
        help_text="What moves to the survivor: identifiers (a count), addresses (with their "
        "new address_id where the survivor already has that one), tags_added, notes (as they "
        "will read), credit (both and the total), store_links and b2b (counts)."
    )
    blockers = serializers.ListField(
        child=serializers.CharField(), help_text="Why the merge would be refused (409)."
    )
    can_merge = serializers.BooleanField()


class HubMergeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    survivor_id = serializers.UUIDField()
    merged_id = serializers.UUIDField()
    merged_at = serializers.DateTimeField()
    merged_by = HubMergeActorSerializer()
    fields = serializers.DictField(child=serializers.ChoiceField(choices=SIDES))
    record = serializers.DictField(
        help_text="Everything the merge moved and every value it overwrote (what an undo "
        "puts back)."
    )
    undone_at = serializers.DateTimeField(allow_null=True)
    undone_by = HubMergeActorSerializer(allow_null=True)
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the undo could not restore cleanly; empty otherwise.",
    )


def merge_output(merge) -> dict:
    return {
        "id": str(merge.id),
        "survivor_id": str(merge.survivor.uuid),
        "merged_id": str(merge.merged.uuid),
        "merged_at": iso_timestamp(merge.merged_at),
        "merged_by": merge.actor,
        "fields": merge.fields,
        "record": merge.record,
        "undone_at": iso_timestamp(merge.undone_at),
        "undone_by": merge.undone_by,
        "problems": merge.problems,
    }


PreviewEnvelope = data_envelope("HubMergePreviewEnvelope", HubMergePreviewSerializer())
MergeEnvelope = data_envelope("HubMergeEnvelope", HubMergeSerializer())
MergeListEnvelope = cursor_list_envelope("HubMergeListEnvelope", HubMergeSerializer(many=True))


# --- views ----------------------------------------------------------------------------------------


class MergeListView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_merges_list",
        summary="List the merges",
        description="The tenant's merges, newest first (undone ones too). Viewers may read.",
        parameters=[TENANT_HEADER, CursorQuerySerializer],
        responses={200: MergeListEnvelope},
    )
    def get(self, request):
        access = self.access(request)
        query = self.query(CursorQuerySerializer)
        rows, next_cursor = page_by_id(
            merges_for_tenant(tenant=access.tenant), query, descending=True, as_key=uuid_key
        )
        return Response(
            {
                "data": [merge_output(merge) for merge in rows],
                "meta": cursor_meta(limit=query["limit"], next_cursor=next_cursor),
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="hub_merges_create",
        summary="Merge two customers (or preview it)",
        description=(
            "Merges `merged_id` into `survivor_id` in one transaction: identifiers, addresses "
            "(an `address_id` the survivor already has is renamed, the mapping recorded), tags "
            "(union), notes (both kept), credit (summed), store links (one per store, the "
            "survivor's price list kept), the B2B account, contacts, orders and credit checks "
            "move to the survivor; the merged customer becomes a tombstone whose id answers "
            "as the survivor in every dialect. `dry_run: true` answers the preview (200) and "
            "changes nothing. Errors: 400 for a customer merged with itself or an unknown field "
            "choice; 404 for a missing or another tenant's customer; 409 `customer_merged` for a "
            "customer already merged away (or being merged by another request), 409 "
            "`merge_blocked` with the preview's blockers (e.g. two B2B accounts in different "
            "currencies)." + WRITERS
        ),
        parameters=[TENANT_HEADER],
        request=HubMergeInputSerializer,
        responses={
            200: PreviewEnvelope,
            201: MergeEnvelope,
            404: error_ref("A customer is missing, or another tenant's."),
        },
    )
    def post(self, request):
        access = self.access(request)
        access.require_write()
        serializer = HubMergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        survivor = customer_get_for_merge(tenant=access.tenant, customer_id=data["survivor_id"])
        merged = customer_get_for_merge(tenant=access.tenant, customer_id=data["merged_id"])
        if data["dry_run"]:
            preview = merge_preview(survivor=survivor, merged=merged, fields=data["fields"])
            return Response({"data": preview})
        merge = customer_merge(survivor=survivor, merged=merged, fields=data["fields"])
        return Response({"data": merge_output(merge)}, status=201)


class MergeDetailView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_merges_retrieve",
        summary="A merge",
        description="Who merged what, when, with what choices, what it moved and, once undone, "
        "by whom and what could not be restored. Viewers may read.",
        parameters=[MERGE_ID, TENANT_HEADER],
        responses={200: MergeEnvelope},
    )
    def get(self, request, merge_id):
        access = self.access(request)
        return Response({"data": merge_output(merge_get(tenant=access.tenant, merge_id=merge_id))})


class MergeUndoView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_merges_undo",
        summary="Undo a merge",
        description=(
            "Restores both customers as they were, keeping on the survivor what was created or "
            "changed there since the merge; what cannot be restored cleanly (e.g. the merged "
            "customer's former email, taken since by another customer) is listed in `problems`, "
            "never dropped silently. A second undo is a 409 `merge_already_undone`; the undo of a "
            "merge whose survivor was merged away since is a 409 `merge_undo_blocked` (undo that "
            "merge first)." + WRITERS
        ),
        parameters=[MERGE_ID, TENANT_HEADER],
        request=None,
        responses={200: MergeEnvelope},
    )
    def post(self, request, merge_id):
        access = self.access(request)
        access.require_write()
        merge = merge_undo(merge=merge_get(tenant=access.tenant, merge_id=merge_id))
        return Response({"data": merge_output(merge)})
