"""Duplicates in the back office (issue 20 item 6): "Possible duplicates" on the customer 360
page, and the review queue with its Dismiss action (customers/admin_duplicates.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.duplicates import FoundPair, duplicate_pairs_record
from customers.models import DuplicatePair, DuplicateStatus
from tests.admin_support import admin_client, changelist_pks
from tests.test_duplicates import person

pytestmark = pytest.mark.django_db


def page_360(customer) -> str:
    return reverse("admin:customers_customer_360", args=[customer.pk])


QUEUE = "/admin/customers/duplicatepair/"


def test_the_360_page_shows_the_candidates_with_score_reasons_and_compare_link(world):
    ada = person(world.tenant, "Ada Lovelace", phone="+31611110000")
    twin = person(world.tenant, "Augusta King", phone="+31611110000")
    person(world.tenant, "Grace Hopper")

    def section_for(user) -> str:
        response = admin_client(user).get(page_360(ada))
        assert response.status_code == 200
        page = response.content.decode()
        section = page[page.index('id="c360-duplicates"') :]
        return section[: section.index("</table>")]

    section = section_for(world.viewer)
    assert "Augusta King" in section and "Grace Hopper" not in section
    assert "Same phone: +31611110000" in section and 'data-code="same_phone"' in section
    assert '<td class="c360-duplicate-score">85</td>' in section
    assert reverse("admin:customers_customer_360", args=[twin.pk]) in section
    assert "Compare / merge" not in section  # a viewer may not merge
    # an agent's link opens the merge screen with the two side by side
    section = section_for(world.agent)
    merge_screen = f"{reverse('admin:customers_merge_start', args=[ada.pk])}?other={twin.pk}"
    assert f'href="{merge_screen}">Compare / merge' in section
    response = admin_client(world.agent).get(merge_screen)
    assert response.status_code == 200
    assert "Augusta King" in response.content.decode()


def test_the_360_page_says_when_there_is_none(world):
    ada = person(world.tenant, "Ada Lovelace")
    page = admin_client(world.agent).get(page_360(ada)).content.decode()
    assert "No possible duplicate." in page


def pairs(world, other):
    ada, twin = person(world.tenant, "Ada Lovelace"), person(world.tenant, "Ada Lovelace")
    mine = FoundPair(ada.pk, twin.pk, 40, ({"code": "same_name", "detail": "ada lovelace"},))
    duplicate_pairs_record(tenant=world.tenant, pairs=[mine])
    a, b = person(other.tenant, "Ada Lovelace"), person(other.tenant, "Ada Lovelace")
    duplicate_pairs_record(tenant=other.tenant, pairs=[FoundPair(a.pk, b.pk, 40, ())])
    return DuplicatePair.objects.get(tenant=world.tenant), DuplicatePair.objects.get(
        tenant=other.tenant
    )


def test_the_queue_shows_the_tenants_pairs_and_agents_dismiss(world, other):
    mine, theirs = pairs(world, other)
    client = admin_client(world.agent)
    response = client.get(QUEUE)
    assert changelist_pks(response) == {mine.pk}
    page = response.content.decode()
    assert "Same name: ada lovelace" in page and "Compare / merge" in page and "dismiss" in page
    response = client.post(QUEUE, {"action": "dismiss", "_selected_action": [mine.pk]})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == DuplicateStatus.DISMISSED and mine.decided_by == world.agent
    assert changelist_pks(client.get(QUEUE, {"status__exact": "open"})) == set()
    assert changelist_pks(client.get(QUEUE, {"status__exact": "dismissed"})) == {mine.pk}
    # another tenant's pair cannot be dismissed from here
    client.post(QUEUE, {"action": "dismiss", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.status == DuplicateStatus.OPEN


def test_viewers_read_the_queue_only(world, other):
    mine, _ = pairs(world, other)
    client = admin_client(world.viewer)
    response = client.get(QUEUE)
    assert changelist_pks(response) == {mine.pk}
    assert 'value="dismiss"' not in response.content.decode()
    client.post(QUEUE, {"action": "dismiss", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == DuplicateStatus.OPEN
    # the pair's page is read-only, and there is no delete
    change = reverse("admin:customers_duplicatepair_change", args=[mine.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {}).status_code == 403
    delete = reverse("admin:customers_duplicatepair_delete", args=[mine.pk])
    assert admin_client(world.admin).get(delete).status_code == 403
