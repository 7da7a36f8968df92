"""The hub dialect's privacy routes (customers/privacy.py, docs/privacy.md): a customer's
export bundle (at once, or as a job to poll), and its erasure."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from customers import privacy
from customers.api.hub.views import CUSTOMER_ID, TAGS
from customers.error_codes import CustomerErrorCode
from customers.models import CustomerExport, ErasureReceipt
from customers.selectors import customer_get
from tenants import errors
from tenants.api.dialect import iso_timestamp
from tenants.api.hub import TENANT_HEADER, HubView, data_envelope, error_ref
from tenants.models import Role

EXPORT_ID = OpenApiParameter(
    "export_id", str, OpenApiParameter.PATH, description="The export's id (a UUID)."
)
ZIP = "application/zip"


class HubExportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField(source="customer_uuid")
    status = serializers.CharField(
        help_text="queued (the worker builds it), ready (download it once), delivered, "
        "failed (the customer was erased meanwhile), expired (not downloaded in time).",
    )
    rows = serializers.IntegerField(help_text="Rows the bundle describes.")
    size = serializers.IntegerField(help_text="Bytes of the zip (0 until built).")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.CharField(
        allow_null=True, help_text="Where to download it, while it is ready."
    )


def export_output(export: CustomerExport) -> dict:
    ready = export.status == CustomerExport.Status.READY
    return {
        "id": str(export.pk),
        "customer_id": str(export.customer_uuid),
        "status": export.status,
        "rows": export.rows,
        "size": export.size,
        "created_at": iso_timestamp(export.created_at),
        "finished_at": iso_timestamp(export.finished_at),
        "expires_at": iso_timestamp(export.expires_at),
        "download_url": f"/api/hub/exports/{export.pk}/download" if ready else None,
    }


class HubReceiptSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField(source="customer_uuid")
    customer_number = serializers.IntegerField(
        source="customer_pk", help_text="The customer's integer id (peppered customerId)."
    )
    erased_at = serializers.DateTimeField()
    erased_by = serializers.DictField(help_text="Who erased it: {type, id, name, origin}.")
    include_user = serializers.BooleanField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows erased, per kind."
    )


def receipt_output(receipt: ErasureReceipt) -> dict:
    return {
        "id": str(receipt.pk),
        "customer_id": str(receipt.customer_uuid),
        "customer_number": receipt.customer_pk,
        "erased_at": iso_timestamp(receipt.erased_at),
        "erased_by": receipt.actor,
        "include_user": receipt.include_user,
        "counts": receipt.counts,
    }


class HubEraseInputSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        required=False, default=False, help_text="Must be true: the erasure is irreversible."
    )
    include_user = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also log the linked user out everywhere (sessions, tokens) and anonymise "
        "and deactivate that account (refused when it belongs to another tenant).",
    )


ExportEnvelope = data_envelope("HubCustomerExportEnvelope", HubExportSerializer())
ReceiptEnvelope = data_envelope("HubErasureReceiptEnvelope", HubReceiptSerializer())

EXPORTERS = frozenset({Role.ADMIN.value, Role.AGENT.value})  # plain values: an enum hashes by name


def zip_response(bundle: bytes, name: str) -> FileResponse:
    # Streamed: the Idempotency-Key layer never stores a streamed body, so no copy of the
    # person's data stays behind in an idempotency record (tenants/idempotency.py).
    import io

    return FileResponse(io.BytesIO(bundle), as_attachment=True, filename=name, content_type=ZIP)


class PrivacyView(HubView):
    def exporter_access(self, request):
        access = self.access(request)
        if access.role not in EXPORTERS:
            raise errors.PermissionDenied("Only the tenant's admins and agents export.")
        return access

    def admin_access(self, request):
        access = self.access(request)
        if access.role != Role.ADMIN or access.api_key is not None:
            raise errors.PermissionDenied("Only the tenant's admins erase customers.")
        return access


class CustomerExportView(PrivacyView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_customer_export",
        summary="Export everything about a customer",
        description=(
            "One zip: `customer.json` (the record as every dialect shows it, identifiers, "
            "addresses, tags, store links, B2B account, contacts, orders with lines, credit "
            "checks, the change history, the events and webhook deliveries about it) and a "
            "`README.txt`. A customer of at most `HUB_EXPORT_INLINE_MAX` rows is answered at "
            "once (200, `application/zip`); a larger one is a job (202) that the worker "
            "builds: poll `GET /api/hub/exports/{export_id}`, then download it once. Every "
            "export is recorded (who, when), never its data. Admins and agents."
        ),
        parameters=[CUSTOMER_ID, TENANT_HEADER],
        request=None,
        responses={
            (200, ZIP): OpenApiResponse(OpenApiTypes.BINARY, description="The bundle."),
            202: ExportEnvelope,
            403: error_ref("A viewer."),
            404: error_ref("No such customer in this tenant (or erased)."),
        },
    )
    def post(self, request, customer_id):
        access = self.exporter_access(request)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        export, bundle = privacy.customer_export(customer=customer, via="api")
        if bundle is None:
            return Response({"data": export_output(export)}, status=202)
        return zip_response(bundle, f"customer-{customer.uuid}.zip")


class ExportDetailView(PrivacyView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_export_retrieve",
        summary="An export job",
        description="Its status; `download_url` while it is ready. Admins and agents.",
        parameters=[EXPORT_ID, TENANT_HEADER],
        responses={200: ExportEnvelope, 404: error_ref("No such export in this tenant.")},
    )
    def get(self, request, export_id):
        access = self.exporter_access(request)
        export = privacy.export_get(tenant=access.tenant, export_id=export_id)
        return Response({"data": export_output(export)})


class ExportDownloadView(PrivacyView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_export_download",
        summary="Download an export",
        description=(
            "The bundle of a ready export, once: it is deleted as it is handed out. Not "
            "ready, already downloaded or expired: 409 `export_not_ready`. Admins and agents."
        ),
        parameters=[EXPORT_ID, TENANT_HEADER],
        responses={
            (200, ZIP): OpenApiResponse(OpenApiTypes.BINARY, description="The bundle."),
            404: error_ref("No such export in this tenant."),
            409: error_ref("Not ready, already downloaded, or expired."),
        },
    )
    def get(self, request, export_id):
        access = self.exporter_access(request)
        export = privacy.export_get(tenant=access.tenant, export_id=export_id)
        bundle = privacy.export_download(export=export)
        return zip_response(bundle, f"customer-{export.customer_uuid}.zip")


class CustomerEraseView(PrivacyView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_customer_erase",
        summary="Erase a customer (irreversible)",
        description=(
            "Erasure by anonymisation (GDPR article 17): every personal value of the "
            "customer is removed or overwritten everywhere (its record, addresses, "
            "identifiers, store links, B2B account and contacts, orders' addresses, credit "
            "checks, history, events and webhook logs, stored idempotent answers); orders keep "
            "their amounts, dates, products and status. The customer stays as a tombstone "
            "that every dialect answers as missing. Emits `customer.redacted`. Answers the "
            'receipt. Without `{"confirm": true}`: a 400 `confirmation_required` that '
            "changes nothing. An erased customer is a 404 like any missing one; a store's own "
            "record, or a linked user of another tenant too (`include_user`): 409. Admins "
            "only (not API keys)."
        ),
        parameters=[CUSTOMER_ID, TENANT_HEADER],
        request=HubEraseInputSerializer,
        responses={
            200: ReceiptEnvelope,
            400: error_ref("Not confirmed, or invalid input."),
            403: error_ref("Not an admin of the tenant."),
            404: error_ref("No such customer in this tenant (or already erased)."),
            409: error_ref("A store's own record, or a linked user of another tenant too."),
        },
    )
    def post(self, request, customer_id):
        access = self.admin_access(request)
        serializer = HubEraseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        if not serializer.validated_data["confirm"]:
            raise errors.ValidationError(
                'confirm: Send {"confirm": true}: the erasure is irreversible.',
                fields={"confirm": ["Must be true: the erasure is irreversible."]},
                code=CustomerErrorCode.CONFIRMATION_REQUIRED,
            )
        receipt = privacy.customer_erase(
            customer=customer, include_user=serializer.validated_data["include_user"]
        )
        return Response({"data": receipt_output(receipt)})
