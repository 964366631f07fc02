"""The official hubspot-api-client, used unmodified, against the mock HubSpot."""

from __future__ import annotations

from hubspot_threaded import threaded_mock


def test_official_client_get_all() -> None:
    with threaded_mock(250) as served:
        companies = served.client.crm.companies.get_all(properties=["name", "city"])
        assert [company.id for company in companies] == [str(i) for i in range(1, 251)]
        city = served.store.companies[1].properties["city"]
        assert companies[0].properties["city"] == city
        one = served.client.crm.companies.basic_api.get_by_id("7")
        assert one.id == "7"
