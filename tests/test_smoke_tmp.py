from tests.fixtures.builders import make_company, make_partnership


def test_signup_and_partner(client, inbox):
    a = make_company(client, "Acme")
    b = make_company(client, "Globex")
    pid = make_partnership(client, a, b)
    r = client.get("/api/v1/partnerships", headers=b.headers)
    assert r.json()["items"][0]["id"] == pid
    assert client.get("/healthz").json()["status"] == "ok"
