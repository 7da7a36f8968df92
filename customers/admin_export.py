"""The customer change list as a CSV download, as the user filtered and searched it.

The export reads the change list's own queryset (its tenant scoping, search, filters and
their permissions, exactly what the page lists, on every page of it) without the counts,
the page and the filters' lists of choices a change list otherwise runs, and streams it in keyset batches
(customers/csv_io.py): the first bytes leave at once, and memory stays flat whatever the
number of customers.
"""

from __future__ import annotations

from django.contrib.admin import RelatedFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.http import StreamingHttpResponse
from django.utils import timezone

from customers import csv_io


class _WithoutChoices:
    """A related-object filter that filters without listing its choices: the sidebar's
    choices ("every tag or store used by these customers") are a scan of the customers,
    which an export does not show."""

    def field_choices(self, field, request, model_admin):
        return []

    def has_output(self):
        return True  # a filter without output is not applied


def _filtering_only(model, list_filter) -> list:
    out = []
    for item in list_filter:
        path, cls = item if isinstance(item, tuple) else (item, None)
        if isinstance(path, str):
            field = get_fields_from_path(model, path)[-1]
            if cls is None and field.is_relation:
                cls = RelatedFieldListFilter
            if cls is not None and issubclass(cls, RelatedFieldListFilter):
                item = (path, type(cls.__name__, (_WithoutChoices, cls), {}))
        out.append(item)
    return out


def changelist_queryset(model_admin, request):
    """``model_admin``'s change-list queryset for ``request``'s search and filters.

    Raises ``IncorrectLookupParameters`` for filters the change list would refuse."""
    base = model_admin.get_changelist(request)

    class Filtered(base):
        def get_results(self, request):
            pass  # no counts, no page: the export reads every row of ``self.queryset``

    list_display = model_admin.get_list_display(request)
    changelist = Filtered(
        request,
        model_admin.model,
        list_display,
        model_admin.get_list_display_links(request, list_display),
        _filtering_only(model_admin.model, model_admin.get_list_filter(request)),
        model_admin.date_hierarchy,
        model_admin.get_search_fields(request),
        model_admin.get_list_select_related(request),
        model_admin.list_per_page,
        model_admin.list_max_show_all,
        model_admin.list_editable,
        model_admin,
        model_admin.get_sortable_by(request),
        model_admin.search_help_text,
    )
    return changelist.queryset


def csv_download(queryset, *, name: str = "customers") -> StreamingHttpResponse:
    """``queryset``'s customers as a streamed CSV attachment."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in csv_io.export_chunks(queryset)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass the rows on as they come
    return response
