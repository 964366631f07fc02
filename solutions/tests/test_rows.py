from solutions.common.rows import archived_row, content_hash, to_row

PROPERTIES = ("name", "domain", "hs_lastmodifieddate")


def company(**properties: str | None) -> dict:
    return {"id": "42", "properties": properties, "archived": False}


def test_row_has_every_synced_field():
    row = to_row(company(name="Acme", domain="acme.example.com"), PROPERTIES)
    assert row == {
        "id": "42",
        "name": "Acme",
        "domain": "acme.example.com",
        "hs_lastmodifieddate": None,
        "archived": "false",
    }


def test_row_leaves_out_properties_not_synced():
    row = to_row(company(name="Acme", city="Berlin"), PROPERTIES)
    assert "city" not in row


def test_row_id_is_a_string():
    row = to_row({"id": 7, "properties": {}}, PROPERTIES)
    assert row["id"] == "7"


def test_archived_row_has_only_id_and_archived_true():
    assert archived_row("42") == {"id": "42", "archived": "true"}


def test_hash_ignores_key_order():
    a = {"id": "1", "name": "Acme", "archived": "false"}
    b = {"archived": "false", "name": "Acme", "id": "1"}
    assert content_hash(a) == content_hash(b)


def test_hash_changes_with_a_value():
    a = {"id": "1", "name": "Acme"}
    b = {"id": "1", "name": "Acme Inc"}
    assert content_hash(a) != content_hash(b)


def test_hash_tells_none_from_empty_string():
    assert content_hash({"id": "1", "city": None}) != content_hash(
        {"id": "1", "city": ""}
    )


def test_hash_is_a_stable_sha1_hex_digest():
    # SHA-1 of the compact sorted JSON {"id":"1"}; a change of encoding would make
    # every snapshot look changed after an upgrade.
    assert content_hash({"id": "1"}) == "83c5c7d03ba6e4232c238ddac7ad49ddafd08394"
