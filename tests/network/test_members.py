"""Users and invitations: inviting colleagues by e-mail, roles, deactivation, the last admin."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine, update

from coterie.config import Settings
from coterie.db import utcnow
from coterie.models import Invitation
from tests.fixtures.builders import PASSWORD, Member, make_colleague, make_company
from tests.fixtures.smtp import Inbox, link_in, text_of, token_in
from tests.kit.assertions import assert_invalid, assert_problem, bearer, row_counts
from tests.kit.signing import backdated

ACCEPT_PATH = "/invitations/accept"


def invite(client: TestClient, by: Member, email: str, role: str = "member") -> Any:
    return client.post(
        "/api/v1/invitations", json={"email": email, "role": role}, headers=by.headers
    )


def accept(client: TestClient, token: str, name: str = "New Colleague") -> Any:
    return client.post(
        "/api/v1/invitations/accept", json={"token": token, "name": name, "password": PASSWORD}
    )


def invitation_token(
    client: TestClient, by: Member, inbox: Inbox, email: str, role: str = "member"
) -> str:
    response = invite(client, by, email, role)
    assert response.status_code == 201, response.text
    return token_in(inbox.wait_for(email), ACCEPT_PATH)


def test_an_invitation_arrives_by_email_and_makes_a_colleague(
    client: TestClient, inbox: Inbox
) -> None:
    admin = make_company(client, "Acme")

    response = invite(client, admin, "Grace@Colleagues.example", "manager")

    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation["email"] == "grace@colleagues.example"
    assert invitation["role"] == "manager"
    assert invitation["status"] == "pending"
    mail = inbox.wait_for("grace@colleagues.example")
    assert "Acme" in str(mail["Subject"])
    assert link_in(mail, ACCEPT_PATH).startswith("http://testserver/invitations/accept?token=")
    token = token_in(mail, ACCEPT_PATH)

    preview = client.get("/api/v1/invitations/preview", params={"token": token})
    assert preview.status_code == 200, preview.text
    assert preview.json()["company_name"] == "Acme"
    assert preview.json()["email"] == "grace@colleagues.example"
    assert preview.json()["role"] == "manager"

    accepted = accept(client, token, "Grace Hopper")
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["company_id"] == admin.company_id
    me = client.get("/api/v1/me", headers=bearer(body["token"])).json()["user"]
    assert (me["id"], me["email"], me["name"], me["role"]) == (
        body["user_id"],
        "grace@colleagues.example",
        "Grace Hopper",
        "manager",
    )
    login = client.post(
        "/api/v1/auth/token", json={"email": "grace@colleagues.example", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    listed = client.get("/api/v1/invitations", headers=admin.headers).json()["items"]
    assert [(i["id"], i["status"]) for i in listed] == [(invitation["id"], "accepted")]


def test_an_invitation_link_works_once(client: TestClient, inbox: Inbox, engine: Engine) -> None:
    admin = make_company(client)
    token = invitation_token(client, admin, inbox, "once@colleagues.example")
    assert accept(client, token).status_code == 201
    before = row_counts(engine)

    again = accept(client, token, "Someone Else")

    assert_problem(again, 400, "token-used")
    assert_problem(
        client.get("/api/v1/invitations/preview", params={"token": token}), 400, "token-used"
    )
    assert row_counts(engine) == before


def test_a_revoked_invitation_cannot_be_used(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    created = invite(client, admin, "revoked@colleagues.example").json()
    token = token_in(inbox.wait_for("revoked@colleagues.example"), ACCEPT_PATH)

    revoked = client.delete(f"/api/v1/invitations/{created['id']}", headers=admin.headers)

    assert revoked.status_code == 204, revoked.text
    before = row_counts(engine)
    assert_problem(accept(client, token), 400, "invitation-revoked")
    assert row_counts(engine) == before
    listed = client.get("/api/v1/invitations", headers=admin.headers).json()["items"]
    assert [i["status"] for i in listed] == ["revoked"]


def test_an_accepted_invitation_cannot_be_revoked(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    created = invite(client, admin, "done@colleagues.example").json()
    accept(client, token_in(inbox.wait_for("done@colleagues.example"), ACCEPT_PATH))

    response = client.delete(f"/api/v1/invitations/{created['id']}", headers=admin.headers)

    assert_problem(response, 409, "invitation-used")


def test_an_expired_invitation_cannot_be_used(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    created = invite(client, admin, "late@colleagues.example").json()
    token = token_in(inbox.wait_for("late@colleagues.example"), ACCEPT_PATH)
    with engine.begin() as conn:
        conn.execute(
            update(Invitation)
            .where(Invitation.id == uuid.UUID(created["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )

    assert_problem(accept(client, token), 400, "token-expired")
    assert_problem(
        client.get("/api/v1/invitations/preview", params={"token": token}), 400, "token-expired"
    )
    listed = client.get("/api/v1/invitations", headers=admin.headers).json()["items"]
    assert [i["status"] for i in listed] == ["expired"]


def test_an_invitation_link_older_than_its_lifetime_is_expired(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)
    token = invitation_token(client, admin, inbox, "old@colleagues.example")
    old = backdated(
        token,
        settings.secret(),
        "invitation",
        timedelta(hours=settings.invitation_ttl_hours, seconds=5),
    )

    assert_problem(accept(client, old), 400, "token-expired")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t + "x",
        lambda t: "garbage",
        lambda t: t.split(".", 1)[1],
    ],
)
def test_a_tampered_invitation_link_is_invalid(
    client: TestClient, inbox: Inbox, engine: Engine, tamper: Any
) -> None:
    admin = make_company(client)
    token = invitation_token(client, admin, inbox, "tamper@colleagues.example")
    before = row_counts(engine)

    assert_problem(accept(client, tamper(token)), 400, "token-invalid")
    assert_problem(
        client.get("/api/v1/invitations/preview", params={"token": tamper(token)}),
        400,
        "token-invalid",
    )
    assert row_counts(engine) == before


def test_a_token_signed_for_another_purpose_is_invalid(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)
    created = invite(client, admin, "forged@colleagues.example").json()
    # a genuine signature with the password-reset salt must not open an invitation
    forged = URLSafeTimedSerializer(settings.secret(), salt="coterie.password-reset").dumps(
        {"i": uuid.UUID(created["id"]).hex, "n": "guess"}
    )

    assert_problem(accept(client, forged), 400, "token-invalid")


def test_a_link_with_the_right_id_but_the_wrong_nonce_is_invalid(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client)
    created = invite(client, admin, "nonce@colleagues.example").json()
    forged = URLSafeTimedSerializer(settings.secret(), salt="coterie.invitation").dumps(
        {"i": uuid.UUID(created["id"]).hex, "n": "not-the-nonce"}
    )

    assert_problem(accept(client, forged), 400, "token-invalid")


def test_a_new_invitation_supersedes_the_old_link(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    first = invitation_token(client, admin, inbox, "twice@colleagues.example", "admin")
    inbox.clear()
    second = invitation_token(client, admin, inbox, "twice@colleagues.example", "member")

    assert_problem(accept(client, first), 400, "invitation-revoked")
    accepted = accept(client, second)
    assert accepted.status_code == 201, accepted.text
    me = client.get("/api/v1/me", headers=bearer(accepted.json()["token"])).json()
    assert me["user"]["role"] == "member"


def test_a_weak_password_keeps_the_invitation_usable(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    token = invitation_token(client, admin, inbox, "weak@colleagues.example")
    before = row_counts(engine)

    weak = client.post(
        "/api/v1/invitations/accept",
        json={"token": token, "name": "Weak", "password": "password1"},
    )

    assert_invalid(weak, "body.password", slug="weak-password")
    assert row_counts(engine) == before
    assert accept(client, token).status_code == 201


@pytest.mark.parametrize("name", ["", "Eve\nBcc: victim@example.com", "Eve\x00"])
def test_an_invalid_name_keeps_the_invitation_usable(
    client: TestClient, inbox: Inbox, engine: Engine, name: str
) -> None:
    admin = make_company(client)
    token = invitation_token(client, admin, inbox, "named@colleagues.example")
    before = row_counts(engine)

    assert_invalid(accept(client, token, name), "body.name")
    assert row_counts(engine) == before
    assert accept(client, token).status_code == 201


def test_an_email_that_already_has_an_account_cannot_be_invited(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    other = make_company(client)
    before = row_counts(engine)
    inbox.clear()

    response = invite(client, admin, other.email.upper())

    assert_problem(response, 409, "email-taken")
    assert row_counts(engine) == before
    assert inbox.messages == []


def test_an_invitation_cannot_be_accepted_once_the_email_has_an_account(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    token = invitation_token(client, admin, inbox, "raced@colleagues.example")
    make_company(client, email="raced@colleagues.example")
    before = row_counts(engine)

    assert_problem(accept(client, token), 409, "email-taken")
    assert row_counts(engine) == before


def test_a_manager_invites_members_and_managers_but_not_admins(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    admin = make_company(client)
    manager = make_colleague(client, admin, "manager", inbox=inbox)

    assert invite(client, manager, "m1@colleagues.example", "member").status_code == 201
    assert invite(client, manager, "m2@colleagues.example", "manager").status_code == 201
    before = row_counts(engine)
    assert_problem(invite(client, manager, "boss@colleagues.example", "admin"), 403, "forbidden")
    assert row_counts(engine) == before


def test_a_member_cannot_invite_or_revoke(client: TestClient, inbox: Inbox, engine: Engine) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, "member", inbox=inbox)
    pending = invite(client, admin, "pending@colleagues.example").json()
    before = row_counts(engine)

    assert_problem(invite(client, member, "friend@colleagues.example"), 403, "forbidden")
    assert_problem(
        client.delete(f"/api/v1/invitations/{pending['id']}", headers=member.headers),
        403,
        "forbidden",
    )
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"email": "not-an-email"}, "body.email"),
        ({"email": "a@b.example", "role": "owner"}, "body.role"),
        (
            {"email": "a@b.example", "company_id": "0190d3b8-0000-7000-8000-000000000000"},
            "body.company_id",
        ),
    ],
)
def test_invalid_invitations_are_refused(
    client: TestClient, engine: Engine, body: dict[str, str], path: str
) -> None:
    admin = make_company(client)
    before = row_counts(engine)

    response = client.post("/api/v1/invitations", json=body, headers=admin.headers)

    assert_invalid(response, path)
    assert row_counts(engine) == before


def test_the_invitation_preview_and_accept_need_no_login_but_a_token(
    client: TestClient,
) -> None:
    assert_invalid(client.get("/api/v1/invitations/preview"), "query.token")
    assert_invalid(
        client.post("/api/v1/invitations/accept", json={"name": "x", "password": PASSWORD}),
        "body.token",
    )


def test_the_users_list_shows_only_my_company(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    colleague = make_colleague(client, admin, "manager", inbox=inbox)
    other = make_company(client)
    make_colleague(client, other, inbox=inbox)

    response = client.get("/api/v1/users", headers=colleague.headers)

    assert response.status_code == 200, response.text
    listed = {u["id"]: u["role"] for u in response.json()["items"]}
    assert listed == {admin.user_id: "admin", colleague.user_id: "manager"}


def test_the_users_list_pages(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    colleagues = [make_colleague(client, admin, inbox=inbox) for _ in range(4)]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/users", params=params, headers=admin.headers).json()
        seen += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == sorted([admin.email, *(c.email for c in colleagues)])


def test_an_admin_changes_a_role(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, "member", inbox=inbox)

    response = client.patch(
        f"/api/v1/users/{member.user_id}", json={"role": "manager"}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "manager"
    assert client.get("/api/v1/me", headers=member.headers).json()["user"]["role"] == "manager"
    # the new role takes effect at once: a manager may invite
    assert invite(client, member, "promoted@colleagues.example").status_code == 201


@pytest.mark.parametrize("role", ["member", "manager"])
def test_only_an_admin_changes_roles(
    client: TestClient, inbox: Inbox, engine: Engine, role: str
) -> None:
    admin = make_company(client)
    colleague = make_colleague(client, admin, role, inbox=inbox)
    before = row_counts(engine)

    promote_self = client.patch(
        f"/api/v1/users/{colleague.user_id}", json={"role": "admin"}, headers=colleague.headers
    )
    demote_admin = client.patch(
        f"/api/v1/users/{admin.user_id}", json={"is_active": False}, headers=colleague.headers
    )

    assert_problem(promote_self, 403, "forbidden")
    assert_problem(demote_admin, 403, "forbidden")
    assert row_counts(engine) == before


@pytest.mark.parametrize("change", [{"role": "manager"}, {"is_active": False}])
def test_the_last_admin_cannot_demote_or_deactivate_themself(
    client: TestClient, engine: Engine, change: dict[str, Any]
) -> None:
    admin = make_company(client)
    before = row_counts(engine)

    response = client.patch(f"/api/v1/users/{admin.user_id}", json=change, headers=admin.headers)

    assert_problem(response, 409, "last-admin")
    assert row_counts(engine) == before
    assert client.get("/api/v1/me", headers=admin.headers).json()["user"]["role"] == "admin"


def test_with_a_second_admin_the_first_may_step_down(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    second = make_colleague(client, admin, "admin", inbox=inbox)

    response = client.patch(
        f"/api/v1/users/{admin.user_id}", json={"role": "member"}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "member"
    # and now the second admin is the last one
    assert_problem(
        client.patch(
            f"/api/v1/users/{second.user_id}", json={"role": "member"}, headers=second.headers
        ),
        409,
        "last-admin",
    )


def test_deactivation_ends_every_token_and_login(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, inbox=inbox)
    personal = client.post("/api/v1/tokens", json={"name": "ci"}, headers=member.headers).json()

    response = client.patch(
        f"/api/v1/users/{member.user_id}", json={"is_active": False}, headers=admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_problem(client.get("/api/v1/me", headers=member.headers), 401, "unauthenticated")
    assert_problem(
        client.get("/api/v1/me", headers=bearer(personal["token"])), 401, "unauthenticated"
    )
    login = client.post("/api/v1/auth/token", json={"email": member.email, "password": PASSWORD})
    assert_problem(login, 401, "invalid-credentials")
    # reactivated, they sign in again; the old tokens stay dead
    client.patch(f"/api/v1/users/{member.user_id}", json={"is_active": True}, headers=admin.headers)
    login = client.post("/api/v1/auth/token", json={"email": member.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    assert_problem(client.get("/api/v1/me", headers=member.headers), 401, "unauthenticated")


def test_another_companys_users_and_invitations_are_404(
    client: TestClient, inbox: Inbox, engine: Engine
) -> None:
    a = make_company(client)
    b = make_company(client)
    b_member = make_colleague(client, b, inbox=inbox)
    b_invitation = invite(client, b, "pending@b-colleagues.example").json()
    before = row_counts(engine)

    assert_problem(
        client.get(f"/api/v1/users/{b_member.user_id}", headers=a.headers), 404, "not-found"
    )
    assert_problem(
        client.patch(
            f"/api/v1/users/{b_member.user_id}", json={"is_active": False}, headers=a.headers
        ),
        404,
        "not-found",
    )
    assert_problem(
        client.delete(f"/api/v1/invitations/{b_invitation['id']}", headers=a.headers),
        404,
        "not-found",
    )
    assert client.get("/api/v1/invitations", headers=a.headers).json()["items"] == []
    assert row_counts(engine) == before
    assert client.get("/api/v1/me", headers=b_member.headers).status_code == 200


def test_a_user_by_id(client: TestClient, inbox: Inbox) -> None:
    admin = make_company(client)
    member = make_colleague(client, admin, inbox=inbox)

    response = client.get(f"/api/v1/users/{member.user_id}", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert (response.json()["email"], response.json()["role"]) == (member.email, "member")
    assert_problem(
        client.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin.headers), 404, "not-found"
    )
    assert_invalid(client.get("/api/v1/users/me", headers=admin.headers), "path.user_id")


def test_the_invitation_email_names_the_inviter_and_the_deadline(
    client: TestClient, inbox: Inbox, settings: Settings
) -> None:
    admin = make_company(client, "Acme")
    client.patch("/api/v1/me", json={"name": "Ada Lovelace"}, headers=admin.headers)

    invite(client, admin, "deadline@colleagues.example")

    text = text_of(inbox.wait_for("deadline@colleagues.example"))
    assert "Ada Lovelace invited you to join Acme" in text
    assert f"{settings.invitation_ttl_hours} hours" in text
