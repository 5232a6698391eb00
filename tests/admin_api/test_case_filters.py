"""The case list's filters: a value the product does not know is 422 naming the filter, never
an empty list that reads as "no such cases"."""

from __future__ import annotations

from tests.admin_api.conftest import Api


async def test_unknown_filter_values_are_422_naming_the_field(api: Api) -> None:
    await api.site.file_report()
    triage = api.bearer(await api.token("triage1"))
    for field, value in (
        ("status", "bogus"),
        ("status", "in_progres"),  # a typo would otherwise hide every case
        ("severity", "critical"),
        ("queue", "hr"),
        ("category", "wage"),
    ):
        response = await api.client.get("/api/v1/cases", params={field: value}, headers=triage)
        assert response.status_code == 422, (field, value, response.text)
        assert response.json()["fields"] == [f"query.{field}"]
        assert value not in response.text  # errors name fields, never echo input


async def test_known_filter_values_still_list(api: Api) -> None:
    _, submitted = await api.site.file_report()
    triage = api.bearer(await api.token("triage1"))
    row = (await api.client.get("/api/v1/cases", headers=triage)).json()[0]
    severity, category = row["severity"], row["category"]
    for params in (
        {"status": "received"},
        {"queue": "triage"},
        {"severity": severity},
        {"category": category},
        {"status": "received", "queue": "triage", "severity": severity, "category": category},
    ):
        response = await api.client.get("/api/v1/cases", params=params, headers=triage)
        assert response.status_code == 200, (params, response.text)
        assert [c["reference"] for c in response.json()] == [submitted.reference], params
    other = await api.client.get("/api/v1/cases", params={"status": "closed"}, headers=triage)
    assert other.json() == []


async def test_the_filters_are_documented_as_choices(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/cases"]["get"]
    schemas = document["components"]["schemas"]

    def choices(name: str) -> list[str]:
        schema = next(p["schema"] for p in operation["parameters"] if p["name"] == name)
        for option in [schema, *schema.get("anyOf", [])]:
            if "$ref" in option:
                option = schemas[option["$ref"].rsplit("/", 1)[1]]
            if "enum" in option:
                return list(option["enum"])
        raise AssertionError(f"{name} lists no choices: {schema}")

    assert "wages" in choices("category")
    assert "in_progress" in choices("status")
    assert choices("queue") == ["triage", "union", "discipline"]
    assert choices("severity") == ["normal", "high", "urgent"]
