"""Channels as data: the admin API, secrets shown once, the Twilio settings as a channel."""

from __future__ import annotations

import logging

import httpx
import pytest

CHANNELS = "/api/v1/channels"


async def test_the_twilio_settings_are_a_channel_at_start(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    [twilio] = (await client.get(CHANNELS, headers=admin_headers)).json()
    assert (twilio["name"], twilio["kind"], twilio["inbound_path"]) == (
        "twilio",
        "twilio",
        "/webhooks/twilio/sms",
    )


async def test_secrets_are_shown_once_and_never_listed_or_logged(
    client: httpx.AsyncClient, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # (database drivers echo SQL parameters at DEBUG)
    created = await client.post(
        CHANNELS,
        headers=admin_headers,
        json={
            "kind": "smsgate",
            "name": "beni-a",
            "numbers": ["0970000001"],
            "options": {
                "api_url": "http://10.0.0.5:8080",
                "username": "sms",
                "password": "pw-Secret-1",
                "sim": 2,
            },
            "zones": ["Beni"],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["inbound_path"] == "/webhooks/smsgate/beni-a"
    assert body["numbers"] == ["+243970000001"]
    assert body["secrets"]["password"] == "pw-Secret-1"
    signing_key = body["secrets"]["signing_key"]  # none given: one is made for the app
    assert len(signing_key) >= 24
    assert "password" not in body["options"]
    assert body["rate_per_second"] < 1  # a handset SIM is slower than Twilio

    listed = await client.get(CHANNELS, headers=admin_headers)
    one = await client.get(f"{CHANNELS}/{body['id']}", headers=admin_headers)
    patched = await client.patch(
        f"{CHANNELS}/{body['id']}",
        headers=admin_headers,
        json={"options": {"password": "pw-Secret-2", "sim": None}},
    )
    for response in (listed, one, patched):
        assert response.status_code == 200, response.text
        assert "pw-Secret" not in response.text and signing_key not in response.text
    assert patched.json()["secret_options"] == ["password", "signing_key"]
    assert "sim" not in patched.json()["options"]
    assert "pw-Secret" not in caplog.text and signing_key not in caplog.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "pigeon", "name": "x"}, "kind"),
        ({"kind": "smsgate", "name": "Beni A"}, "name"),
        ({"kind": "smsgate", "name": "a", "options": {"signing_kye": "k"}}, "options"),
        ({"kind": "smsgate", "name": "a", "options": {"sim": 4}}, "options"),
        ({"kind": "smsgate", "name": "a", "numbers": ["12"]}, "numbers"),
    ],
)
async def test_a_bad_channel_is_refused_naming_the_field(
    client: httpx.AsyncClient, admin_headers: dict[str, str], payload: dict[str, object], field: str
) -> None:
    response = await client.post(CHANNELS, headers=admin_headers, json=payload)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert len((await client.get(CHANNELS, headers=admin_headers)).json()) == 1


@pytest.mark.parametrize("field", ["zones", "numbers", "priority", "burst", "active"])
async def test_a_change_to_null_is_refused_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], field: str
) -> None:
    [twilio] = (await client.get(CHANNELS, headers=admin_headers)).json()
    response = await client.patch(
        f"{CHANNELS}/{twilio['id']}",
        headers=admin_headers,
        json={"heartbeat_seconds": 60, field: None},
    )
    assert response.status_code == 422, response.text
    assert field in response.text and "leave the field out" in response.text
    assert (await client.get(CHANNELS, headers=admin_headers)).json() == [twilio]


async def test_names_are_unique_and_a_channel_can_be_removed(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    first = await client.post(
        CHANNELS, headers=admin_headers, json={"kind": "console", "name": "demo"}
    )
    again = await client.post(
        CHANNELS, headers=admin_headers, json={"kind": "smsgate", "name": "demo"}
    )
    assert (first.status_code, again.status_code) == (201, 409)
    assert again.json()["error"] == "Conflict"
    deleted = await client.delete(f"{CHANNELS}/{first.json()['id']}", headers=admin_headers)
    assert deleted.status_code == 204
    names = [c["name"] for c in (await client.get(CHANNELS, headers=admin_headers)).json()]
    assert names == ["twilio"]


@pytest.mark.parametrize(
    ("kind", "options", "option"),
    [
        ("smsgate", {"signing_key": ""}, "signing_key"),
        ("console", {"signing_key": "  "}, "signing_key"),
        ("httpsms", {"signing_key": "", "api_key": "k"}, "signing_key"),
        ("http", {"secret": ""}, "secret"),
        ("africastalking", {"username": "u", "api_key": ""}, "api_key"),
    ],
)
async def test_an_empty_secret_is_refused_naming_it_and_nothing_is_added(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    kind: str,
    options: dict[str, str],
    option: str,
) -> None:
    # A key of "" is one anybody holds: an HMAC keyed with it is forged by anyone.
    response = await client.post(
        CHANNELS, headers=admin_headers, json={"kind": kind, "name": "beni-b", "options": options}
    )
    assert response.status_code == 422, response.text
    assert f"{option} must not be empty" in response.json()["detail"]
    names = [c["name"] for c in (await client.get(CHANNELS, headers=admin_headers)).json()]
    assert names == ["twilio"]


@pytest.mark.parametrize(
    ("kind", "options", "hint"),
    [
        ("smsgate", {"api_url": "https://kengele:pw-4Tq@10.0.0.7:8080/3rdparty/v1"}, "password"),
        ("http", {"out_url": "https://kengele:pw-4Tq@sms.example.org/send"}, "{token}"),
    ],
)
async def test_a_password_in_a_channel_s_url_is_refused_and_never_shown(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    kind: str,
    options: dict[str, str],
    hint: str,
) -> None:
    """Options are shown to admins as they are (secrets apart): a password written into a
    URL would be shown with them. It is refused, saying where credentials go."""
    response = await client.post(
        CHANNELS, headers=admin_headers, json={"kind": kind, "name": "beni-b", "options": options}
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "must carry no user:password" in detail and hint in detail
    assert "pw-4Tq" not in response.text
    names = [c["name"] for c in (await client.get(CHANNELS, headers=admin_headers)).json()]
    assert names == ["twilio"]


@pytest.mark.parametrize(
    ("options", "where"),
    [
        (
            {"out_headers": "Authorization=Bearer pw-4Tq", "out_fields": "to={to},text={text}"},
            "out_headers: Authorization",
        ),
        ({"out_fields": "to={to},text={text},api_key=pw-4Tq"}, "out_fields: api_key"),
        ({"out_url": "https://sms.example.org/send?apikey=pw-4Tq&to={to}"}, "out_url: apikey"),
    ],
)
async def test_a_credential_written_into_an_http_channel_s_request_is_refused_and_never_shown(
    client: httpx.AsyncClient, admin_headers: dict[str, str], options: dict[str, str], where: str
) -> None:
    """An aggregator's API key written into a header, a field or the URL as it is would be
    shown to admins with the options, and in `kengele channel list`. It is refused, naming
    where, and saying to give it as the token option (then written {token} there)."""
    body = {
        "out_url": "https://sms.example.org/send?keyword=KENGELE",  # not a credential
        "out_fields": "to={to},text={text}",
    }
    response = await client.post(
        CHANNELS,
        headers=admin_headers,
        json={"kind": "http", "name": "beni-agg", "options": {**body, **options}},
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert where in detail and "{token}" in detail
    assert "pw-4Tq" not in response.text
    names = [c["name"] for c in (await client.get(CHANNELS, headers=admin_headers)).json()]
    assert names == ["twilio"]

    good = {**body, **options, "token": "pw-4Tq"}
    good = {k: v.replace("pw-4Tq", "{token}") if k != "token" else v for k, v in good.items()}
    created = await client.post(
        CHANNELS, headers=admin_headers, json={"kind": "http", "name": "beni-agg", "options": good}
    )
    assert created.status_code == 201, created.text
    assert "pw-4Tq" not in (await client.get(CHANNELS, headers=admin_headers)).text


@pytest.mark.parametrize(
    ("kind", "option", "value"),
    [
        ("smsgate", "signing_key", ""),
        ("smsgate", "signing_key", None),
        ("httpsms", "signing_key", None),
        ("http", "secret", ""),
        ("africastalking", "secret", None),
    ],
)
async def test_the_key_a_channel_checks_its_posts_with_cannot_be_emptied_or_removed(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    kind: str,
    option: str,
    value: str | None,
) -> None:
    created = await client.post(
        CHANNELS, headers=admin_headers, json={"kind": kind, "name": "beni-b"}
    )
    assert created.status_code == 201, created.text
    url = f"{CHANNELS}/{created.json()['id']}"
    patched = await client.patch(url, headers=admin_headers, json={"options": {option: value}})
    assert patched.status_code == 422, patched.text
    assert option in patched.json()["detail"]
    assert option in (await client.get(url, headers=admin_headers)).json()["secret_options"]
    # A new value replaces it.
    replaced = await client.patch(
        url, headers=admin_headers, json={"options": {option: "a-new-key-0123456789"}}
    )
    assert replaced.status_code == 200, replaced.text
