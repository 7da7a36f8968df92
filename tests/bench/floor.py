"""The floor: each benchmarked read fetched the cheapest way the same server can.

Behind the same authentication (DRF with the project's authentication classes) and the same
tenant/store resolution (tenants/access.py) as the endpoint it is the floor of, one raw SQL
query fetches the same rows (nested parts as JSON built by PostgreSQL) and orjson encodes
them. No serializer, no ORM, no dialect envelope logic: what is left is the price of HTTP,
authentication, access resolution, one round trip and encoding. An endpoint's throughput
divided by its floor's shows what the ORM, the serializers and the dialect cost.

PostgreSQL only (the benchmark's database).
"""

from __future__ import annotations

import orjson
from django.db import connection
from django.http import HttpResponse
from rest_framework.views import APIView

from b2b.models import COUNTED, NOT_COUNTED
from stores.access import store_from_header
from tenants.access import (
    tenant_from_header,
    tenant_from_header_or_credential,
    tenant_from_path,
)

#: the order statuses that count (b2b.models), as SQL lists
COUNTED_SQL = ", ".join(f"'{status}'" for status in COUNTED)
NOT_COUNTED_SQL = ", ".join(f"'{status}'" for status in NOT_COUNTED)
CUSTOMER_COLUMNS = (
    "c.id, c.uuid, c.name, c.local_name, c.first_name, c.last_name, c.email, c.phone,"
    " c.discord_id, c.discord_username, c.discord_display_name, c.source, c.user_id,"
    " c.notes, c.external_id, c.credit::text AS credit, c.is_active, c.default_address_id,"
    " c.created_at, c.updated_at"
)
ADDRESSES = (
    "(SELECT COALESCE(json_agg(a ORDER BY a.created_at, a.id), '[]') FROM customers_address a"
    " WHERE a.customer_id = c.id) AS addresses"
)
TAGS = (
    "(SELECT COALESCE(json_agg(t.name ORDER BY t.name), '[]') FROM customers_customer_tags ct"
    " JOIN customers_clienttype t ON t.id = ct.clienttype_id WHERE ct.customer_id = c.id) AS tags"
)
B2B_FIGURES = (
    "(SELECT COALESCE(SUM(o.total_amount), 0)::text FROM b2b_salesorder o WHERE o.customer_id"
    f" = c.id AND o.status NOT IN ({NOT_COUNTED_SQL}) AND o.paid_at IS NULL) AS balance,"
    " (SELECT COALESCE(SUM(o.total_amount), 0)::text FROM b2b_salesorder o WHERE"
    f" o.customer_id = c.id AND o.status NOT IN ({NOT_COUNTED_SQL})) AS lifetime_value,"
    " (SELECT COUNT(*) FROM b2b_salesorder o WHERE o.customer_id = c.id AND o.status NOT IN"
    f" ({NOT_COUNTED_SQL})) AS total_orders"
)
B2B_JOINS = (
    " LEFT JOIN b2b_account acc ON acc.customer_id = c.id"
    " LEFT JOIN customers_address ba ON ba.id = acc.billing_address_id"
    " LEFT JOIN customers_address sa ON sa.id = acc.shipping_address_id"
)
B2B_COLUMNS = (
    f"{CUSTOMER_COLUMNS}, acc.website, acc.tax_id, acc.payment_terms, acc.currency,"
    " acc.credit_limit::text AS credit_limit, acc.discount_rate::text AS discount_rate,"
    " acc.customer_since, row_to_json(ba) AS billing_address,"
    f" row_to_json(sa) AS shipping_address, {B2B_FIGURES}"
)


KEPT_TOTAL = (
    "(SELECT COALESCE(SUM(delta), 0) FROM tenants_rowcount WHERE scope = %s AND owner = %s)"
)


def _rows(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _json(payload, status: int = 200) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(payload, option=orjson.OPT_PASSTHROUGH_SUBCLASS, default=str),
        status=status,
        content_type="application/json",
    )


def _int(request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        value = default
    return min(max(value, low), high)


def store_list(request, arg):
    store = store_from_header(request).store
    limit = _int(request, "limit", 10, 1, 100)
    page = _int(request, "page", 1, 1, 10**9)
    search = request.query_params.get("search")
    # The page's customers are found in the (store, customer_created_at, customer) index
    # first and only they are joined (a deferred join); a search's matches are found once
    # (materialized) among the store's links (their copies of the names, with trigram
    # indexes), then counted and sorted.
    if search:
        like = f"%{search}%"
        matches = (
            "SELECT cs.customer_id, cs.customer_created_at FROM stores_customerstore cs"
            " WHERE cs.store_id = %s AND (UPPER(cs.customer_name) LIKE UPPER(%s)"
            " OR UPPER(cs.customer_local_name) LIKE UPPER(%s))"
        )
        sql = (
            f"WITH m AS MATERIALIZED ({matches}), p AS (SELECT customer_id FROM m"
            " ORDER BY customer_created_at DESC, customer_id DESC LIMIT %s OFFSET %s)"
        )
        params = [store.pk, like, like, limit, (page - 1) * limit]
        total = "(SELECT COUNT(*) FROM m)"
    else:
        sql = (
            "WITH p AS (SELECT customer_id FROM stores_customerstore WHERE store_id = %s"
            " ORDER BY customer_created_at DESC, customer_id DESC LIMIT %s OFFSET %s)"
        )
        params = [store.pk, limit, (page - 1) * limit]
        total = KEPT_TOTAL  # the count kept by the database (tenants/counts.py)
        params += ["store.links", store.pk]
    rows = _rows(
        f"{sql} SELECT {total} AS total, c.uuid, c.name, c.local_name, cs.price_list_id,"
        " c.user_id, c.is_active, c.created_at, c.updated_at FROM p"
        " JOIN stores_customerstore cs ON cs.customer_id = p.customer_id AND cs.store_id = %s"
        " JOIN customers_customer c ON c.id = cs.customer_id"
        " ORDER BY cs.customer_created_at DESC, cs.customer_id DESC",
        [*params, store.pk],
    )
    total = rows[0].pop("total") if rows else 0
    for row in rows[1:]:
        row.pop("total")
    return _json({"data": rows, "pagination": {"page": page, "limit": limit, "total": total}})


def data_get(request, arg):
    tenant = tenant_from_header(request).tenant
    rows = _rows(
        f"SELECT {CUSTOMER_COLUMNS}, {ADDRESSES} FROM customers_customer c"
        " WHERE c.tenant_id = %s AND c.uuid = %s",
        [tenant.pk, arg],
    )
    return _json(rows[0]) if rows else _json({"message": "Customer not found."}, 404)


def data_find(request, arg):
    tenant = tenant_from_header(request).tenant
    body = orjson.loads(request.body or b"{}")
    discord_id = str(body.get("discordId", ""))[:64]
    rows = _rows(
        # the live customer's Discord id (the partial unique index of live rows: issue 20)
        f"SELECT {CUSTOMER_COLUMNS}, {ADDRESSES} FROM customers_customer c"
        " WHERE c.tenant_id = %s AND c.discord_id = %s AND c.discord_id <> ''"
        " AND c.merged_into_id IS NULL AND c.erased_at IS NULL",
        [tenant.pk, discord_id],
    )
    if rows:
        return _json(rows[0])
    from tenants.ids import uuid7

    rows = _rows(
        # the new customer and its Discord identifier (customers.Identifier), as the
        # endpoint writes them
        "WITH c AS (INSERT INTO customers_customer (uuid, tenant_id, name, local_name,"
        " first_name, last_name, salutation, preposition, email, phone, discord_id,"
        " discord_username, discord_display_name, source, notes, external_id, credit,"
        " is_active, created_at, updated_at) VALUES (%s, %s, %s, '', '', '', '', '', '', '',"
        " %s, %s, %s, 'DISCORD', '', '', 0, true, now(), now()) ON CONFLICT DO NOTHING"
        " RETURNING id, uuid, name, discord_id, created_at, tenant_id),"
        " i AS (INSERT INTO customers_identifier (created_at, updated_at, kind, value,"
        " customer_id, tenant_id) SELECT now(), now(), 'discord', discord_id, id, tenant_id"
        " FROM c ON CONFLICT DO NOTHING)"
        " SELECT id, uuid, name, discord_id, created_at FROM c",
        [
            uuid7(),
            tenant.pk,
            str(body.get("discordDisplayName", ""))[:255],
            discord_id,
            str(body.get("discordUsername", ""))[:100],
            str(body.get("discordDisplayName", ""))[:100],
        ],
    )
    return _json(rows[0] if rows else {}, 201)


def data_list(request, arg):
    tenant = tenant_from_header(request).tenant
    limit = _int(request, "limit", 100, 1, 1000)
    rows = _rows(
        f"SELECT {CUSTOMER_COLUMNS}, {ADDRESSES} FROM customers_customer c"
        " WHERE c.tenant_id = %s AND c.id > 0 ORDER BY c.id LIMIT %s",
        [tenant.pk, limit],
    )
    return _json(rows)


def peppered_find(request, arg):
    tenant = tenant_from_path(request, arg).tenant
    body = orjson.loads(request.body or b"{}")
    rows = _rows(
        f"SELECT {CUSTOMER_COLUMNS}, row_to_json(da) AS default_address, {TAGS}"
        " FROM customers_customer c LEFT JOIN customers_address da ON da.id ="
        " c.default_address_id WHERE UPPER(c.email) = UPPER(%s) AND c.tenant_id = %s"
        " ORDER BY c.created_at DESC, c.id DESC LIMIT 1",
        [str(body.get("email", "")), tenant.pk],
    )
    return _json(rows[0]) if rows else _json({"message": "Not found."}, 404)


def b2b_search(request, arg):
    tenant = tenant_from_header_or_credential(request).tenant
    limit = _int(request, "limit", 20, 1, 100)
    page = _int(request, "page", 1, 1, 10**9)
    search = request.query_params.get("search", "")
    like = f"%{search}%"
    # The matches are found once (materialized), counted and sorted; only the page's
    # customers are read with their account, addresses and figures.
    rows = _rows(
        "WITH m AS MATERIALIZED (SELECT id, created_at FROM customers_customer WHERE"
        " tenant_id = %s AND (UPPER(name) LIKE UPPER(%s) OR UPPER(email) LIKE UPPER(%s))),"
        " p AS (SELECT id FROM m ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s)"
        f" SELECT {B2B_COLUMNS}, (SELECT COUNT(*) FROM m) AS total FROM p"
        f" JOIN customers_customer c ON c.id = p.id {B2B_JOINS}"
        " ORDER BY c.created_at DESC, c.id DESC",
        [tenant.pk, like, like, limit, (page - 1) * limit],
    )
    total = rows[0]["total"] if rows else 0
    return _json({"data": rows, "meta": {"total": total, "page": page, "limit": limit}})


def b2b_list(request, arg):
    tenant = tenant_from_header_or_credential(request).tenant
    limit = _int(request, "limit", 20, 1, 100)
    page = _int(request, "page", 1, 1, 10**9)
    # the page's customers from the (tenant, created_at, id) index first, then their
    # account, addresses and figures; the total is the count kept by the database
    rows = _rows(
        "WITH p AS (SELECT id FROM customers_customer WHERE tenant_id = %s"
        " ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s)"
        f" SELECT {B2B_COLUMNS}, {KEPT_TOTAL} AS total FROM p"
        f" JOIN customers_customer c ON c.id = p.id {B2B_JOINS}"
        " ORDER BY c.created_at DESC, c.id DESC",
        [tenant.pk, limit, (page - 1) * limit, "customers", tenant.pk],
    )
    total = rows[0]["total"] if rows else 0
    return _json({"data": rows, "meta": {"total": total, "page": page, "limit": limit}})


def b2b_detail(request, arg):
    tenant = tenant_from_header_or_credential(request).tenant
    rows = _rows(
        f"SELECT {B2B_COLUMNS}, (SELECT COALESCE(json_agg(k ORDER BY k.is_primary DESC,"
        " k.created_at), '[]') FROM b2b_contact k WHERE k.customer_id = c.id) AS contacts"
        f" FROM customers_customer c {B2B_JOINS} WHERE c.tenant_id = %s AND c.uuid = %s",
        [tenant.pk, arg],
    )
    return _json({"data": rows[0]}) if rows else _json({"error": "not found"}, 404)


def analytics(request, arg):
    """Every figure the endpoint computes (period ``all``), in one statement: the lifetime
    and payment figures (balance, overdue orders and the oldest overdue due date, payment
    punctuality and lateness), the monthly history and the top 5 products (from the lines'
    copies of their order's customer and status, as the endpoint); the customer's account
    terms decide the due date of orders imported without one."""
    tenant = tenant_from_header_or_credential(request).tenant
    rows = _rows(
        "WITH c AS (SELECT c.id, c.uuid, c.name, c.created_at, acc.credit_limit,"
        " acc.customer_since, acc.payment_terms, COALESCE(NULLIF(regexp_replace("
        "acc.payment_terms, '[^0-9]', '', 'g'), ''), '0')::int AS term_days"
        " FROM customers_customer c LEFT JOIN b2b_account acc ON acc.customer_id = c.id"
        " WHERE c.tenant_id = %s AND c.uuid = %s),"
        " o AS (SELECT o.id, o.order_date, o.paid_at, o.total_amount,"
        " COALESCE(o.due_date, o.order_date + make_interval(days => c.term_days)) AS due"
        " FROM b2b_salesorder o JOIN c ON o.customer_id = c.id"
        f" WHERE o.status NOT IN ({NOT_COUNTED_SQL}))"
        " SELECT (SELECT row_to_json(c) FROM c) AS customer,"
        " (SELECT json_build_object('lifetime_value', COALESCE(SUM(total_amount), 0),"
        " 'total_orders', COUNT(*), 'last_order_date', MAX(order_date),"
        " 'current_balance', COALESCE(SUM(total_amount) FILTER (WHERE paid_at IS NULL), 0),"
        " 'overdue_amount', COALESCE(SUM(total_amount) FILTER (WHERE paid_at IS NULL"
        " AND due < now()), 0), 'overdue_orders', COUNT(*) FILTER (WHERE paid_at IS NULL"
        " AND due < now()), 'oldest_overdue_due', MIN(due) FILTER (WHERE paid_at IS NULL"
        " AND due < now()), 'paid_orders', COUNT(*) FILTER (WHERE paid_at IS NOT NULL),"
        " 'paid_on_time', COUNT(*) FILTER (WHERE paid_at <= due),"
        " 'avg_days_late', EXTRACT(EPOCH FROM AVG(GREATEST(paid_at - due, interval '0'))"
        " FILTER (WHERE paid_at IS NOT NULL)) / 86400,"
        " 'avg_payment_days', EXTRACT(EPOCH FROM AVG(paid_at - order_date)) / 86400,"
        " 'orders_last_year', COUNT(*) FILTER (WHERE order_date >= now() - interval '365"
        " days'), 'revenue_last_year', COALESCE(SUM(total_amount) FILTER (WHERE order_date"
        " >= now() - interval '365 days'), 0)) FROM o) AS figures,"
        " (SELECT COALESCE(json_agg(m ORDER BY m.month DESC), '[]') FROM (SELECT"
        " to_char(order_date AT TIME ZONE 'UTC', 'YYYY-MM') AS month, COUNT(*) AS orders,"
        " SUM(total_amount) AS revenue FROM o GROUP BY 1) m) AS order_history,"
        " (SELECT COALESCE(json_agg(p), '[]') FROM (SELECT l.product_id, pr.name,"
        " SUM(l.quantity) AS quantity, SUM(l.line_total) AS revenue FROM b2b_orderline l"
        " JOIN pricelists_product pr ON pr.id = l.product_id"
        " WHERE l.order_customer_id = (SELECT id FROM c)"
        f" AND l.order_status IN ({COUNTED_SQL})"
        " GROUP BY l.product_id, pr.name ORDER BY 4 DESC, 2, 1 LIMIT 5) p) AS top_products",
        [tenant.pk, arg],
    )
    return _json({"data": rows[0]})


def bulk_remove(request, arg):
    store = store_from_header(request).store
    body = orjson.loads(request.body or b"{}")
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM stores_customerstore WHERE store_id = %s AND customer_id IN"
            " (SELECT id FROM customers_customer WHERE uuid = ANY(%s::uuid[]))",
            [store.pk, [str(i) for i in body.get("ids", [])]],
        )
        count = cursor.rowcount
    return _json({"message": "Customers removed from store", "deletedCount": count})


FLOORS = {
    "store_list": store_list,
    "data_get": data_get,
    "data_find": data_find,
    "data_list": data_list,
    "peppered_find": peppered_find,
    "b2b_list": b2b_list,
    "b2b_search": b2b_search,
    "b2b_detail": b2b_detail,
    "analytics": analytics,
    "bulk_remove": bulk_remove,
}


class FloorView(APIView):
    """``/bench/floor/<name>[/<arg>]``: the project's authentication, then ``FLOORS[name]``."""

    def _floor(self, request, name, arg=None):
        handler = FLOORS.get(name)
        if handler is None:
            return _json({"message": "unknown floor"}, 404)
        return handler(request, arg)

    get = post = delete = _floor
