"""Users and roles: every key speaks for a named user with a role; writes need `editor`, user
management `admin`; every audit entry names the user; publish targets are the tenant's own."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ME, USERS, TARGETS, AUDIT = (
    "/api/v1/me",
    "/api/v1/users",
    "/api/v1/publish-targets",
    "/api/v1/audit-log",
)
SETS = "/api/v1/campaign-sets"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def add_user(api: httpx.AsyncClient, admin: dict[str, str], role: str) -> dict[str, str]:
    created = await api.post(
        USERS, json={"name": f"{role}-{uuid.uuid4().hex[:6]}", "role": role}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == role and body["apiKey"]["apiKey"].startswith("fd_")
    return bearer(body["apiKey"]["apiKey"])


async def test_me_names_the_tenant_user_and_role(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    me = await api.get(ME, headers=headers)
    assert me.status_code == 200
    assert (me.json()["userName"], me.json()["role"]) == ("admin", "admin")


async def test_a_viewer_reads_but_cannot_write(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    viewer = await add_user(api, headers, "viewer")
    assert (await api.get(SETS, headers=viewer)).status_code == 200
    refused = await api.post(SETS, json={"name": "s"}, headers=viewer)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert "editor" in refused.json()["detail"]
    assert (await api.get(SETS, headers=headers)).json()["items"] == [], "nothing was stored"
    editor = await add_user(api, headers, "editor")
    assert (await api.post(SETS, json={"name": "s"}, headers=editor)).status_code == 201


async def test_only_admins_manage_users_and_targets(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    editor = await add_user(api, headers, "editor")
    approver = await add_user(api, headers, "approver")
    for caller in (editor, approver):
        assert (await api.get(USERS, headers=caller)).status_code == 403
        assert (
            await api.post(USERS, json={"name": "x", "role": "viewer"}, headers=caller)
        ).status_code == 403
        target = {"kind": "strategis_organization", "value": "Acme"}
        assert (await api.post(TARGETS, json=target, headers=caller)).status_code == 403
    names = [u["name"] for u in (await api.get(USERS, headers=headers)).json()["items"]]
    assert names[0] == "admin" and len(names) == 3


async def test_roles_change_disabling_stops_keys_and_the_last_admin_stays(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    me = (await api.get(ME, headers=headers)).json()
    demote = await api.patch(f"{USERS}/{me['userId']}", json={"role": "editor"}, headers=headers)
    assert demote.status_code == 409, "the last admin cannot demote itself"
    created = await api.post(USERS, json={"name": "carol", "role": "viewer"}, headers=headers)
    carol, carol_key = created.json(), bearer(created.json()["apiKey"]["apiKey"])
    promoted = await api.patch(f"{USERS}/{carol['id']}", json={"role": "editor"}, headers=headers)
    assert promoted.status_code == 200 and promoted.json()["role"] == "editor"
    assert (await api.post(SETS, json={"name": "c"}, headers=carol_key)).status_code == 201
    await api.patch(f"{USERS}/{carol['id']}", json={"disabled": True}, headers=headers)
    assert (await api.get(ME, headers=carol_key)).status_code == 401
    duplicate = await api.post(USERS, json={"name": "carol", "role": "viewer"}, headers=headers)
    assert duplicate.status_code == 409
    bad = await api.post(USERS, json={"name": "carol", "role": "owner"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "role"


async def test_keys_are_issued_and_revoked(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    editor = await add_user(api, headers, "editor")
    me = (await api.get(ME, headers=editor)).json()
    second = await api.post(f"{USERS}/{me['userId']}/api-keys", headers=headers)
    assert second.status_code == 201
    second_key = bearer(second.json()["apiKey"])
    assert (await api.get(ME, headers=second_key)).json()["userId"] == me["userId"]
    admin_me = (await api.get(ME, headers=headers)).json()
    admin_keys_user = await api.post(f"{USERS}/{admin_me['userId']}/api-keys", headers=headers)
    # An editor may revoke its own key, not the admin's.
    assert (
        await api.delete(f"/api/v1/api-keys/{admin_keys_user.json()['id']}", headers=editor)
    ).status_code == 403
    assert (
        await api.delete(f"/api/v1/api-keys/{second.json()['id']}", headers=editor)
    ).status_code == 204
    assert (await api.get(ME, headers=second_key)).status_code == 401
    assert (await api.get(ME, headers=editor)).status_code == 200


async def test_every_audit_entry_names_the_user(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    editor = await add_user(api, headers, "editor")
    me = (await api.get(ME, headers=editor)).json()
    created = await api.post(SETS, json={"name": "audited"}, headers=editor)
    entries = (
        await api.get(AUDIT, params={"entity": created.json()["id"]}, headers=headers)
    ).json()["items"]
    assert entries and all(e["userId"] == me["userId"] for e in entries)
    assert entries[0]["actor"] == f"user:{me['userName']}"


async def test_publish_targets_are_the_tenants_own(
    api: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    added = await api.post(
        TARGETS, json={"kind": "facebook_ad_account", "value": "act_42"}, headers=headers
    )
    assert added.status_code == 201
    again = await api.post(
        TARGETS, json={"kind": "facebook_ad_account", "value": "act_42"}, headers=headers
    )
    assert again.json()["id"] == added.json()["id"]
    bad = await api.post(
        TARGETS, json={"kind": "facebook_ad_account", "value": "42"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "value"
    assert (await api.get(TARGETS, headers=other_headers)).json()["items"] == []
    assert (
        await api.delete(f"{TARGETS}/{added.json()['id']}", headers=other_headers)
    ).status_code == 404
    assert (await api.delete(f"{TARGETS}/{added.json()['id']}", headers=headers)).status_code == 204
    assert (await api.get(TARGETS, headers=headers)).json()["items"] == []


async def test_users_are_invisible_to_other_tenants(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    other_headers: dict[str, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    me = (await api.get(ME, headers=headers)).json()
    assert (
        await api.patch(f"{USERS}/{me['userId']}", json={"role": "viewer"}, headers=other_headers)
    ).status_code == 404
    assert (
        await api.post(f"{USERS}/{me['userId']}/api-keys", headers=other_headers)
    ).status_code == 404
