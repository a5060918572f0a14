"""`/metrics` of a real app: latency and counts by route template, bounded series whatever clients
send, the connection pool, the process, the job queue and who may scrape."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from coterie.config import Settings
from coterie.worker.queue import Jobs
from tests.fixtures.builders import make_company
from tests.kit.assertions import assert_problem
from tests.observability.conftest import label_values, queue_jobs, scrape, scrape_text, value

COMPANY_ROUTE = "/api/v1/companies/{company_id}"
DURATION_COUNT = "coterie_http_request_duration_seconds_count"
REQUESTS = "coterie_http_requests_total"


def test_latency_is_recorded_by_route_template_never_by_raw_path(
    client: TestClient, scraper: TestClient
) -> None:
    member = make_company(client)
    before = scrape(scraper)
    for _ in range(3):
        response = client.get(f"/api/v1/companies/{member.company_id}", headers=member.headers)
        assert response.status_code == 200
    after = scrape(scraper)

    counted = value(after, DURATION_COUNT, method="GET", route=COMPANY_ROUTE)
    assert counted - value(before, DURATION_COUNT, method="GET", route=COMPANY_ROUTE) == 3
    assert (
        value(after, REQUESTS, method="GET", route=COMPANY_ROUTE, status="200")
        - value(before, REQUESTS, method="GET", route=COMPANY_ROUTE, status="200")
        == 3
    )
    bucket = value(
        after,
        "coterie_http_request_duration_seconds_bucket",
        method="GET",
        route=COMPANY_ROUTE,
        le="+Inf",
    )
    assert bucket == counted
    assert (
        value(after, "coterie_http_request_duration_seconds_sum", method="GET", route=COMPANY_ROUTE)
        > 0
    )
    routes = label_values(after, DURATION_COUNT, "route")
    assert not any(member.company_id in route for route in routes), routes


def test_unknown_paths_and_odd_methods_add_no_series(
    app: FastAPI, client: TestClient, scraper: TestClient
) -> None:
    client.get("/api/v1/no-such-thing")
    client.request("BREW", "/api/v1/no-such-thing")  # the series those answers need, once
    scrape(scraper)  # and the scrape's own series (GET /metrics 200), which a first scrape adds
    before = scrape(scraper)
    for n in range(100):
        assert client.get(f"/api/v1/no-such-thing-{n}").status_code == 404
        assert client.get(f"/nowhere/{n}/x?q={n}").status_code == 404
    for n in range(20):
        assert client.request(f"BREW{n}", "/api/v1/no-such-thing").status_code in {404, 405}
    after = scrape(scraper)

    series = {key for key in after if key[0] == REQUESTS}
    assert series == {key for key in before if key[0] == REQUESTS}
    templates = {context.path_format for context in iter_route_contexts(app.routes)}
    assert label_values(after, REQUESTS, "route") <= templates | {"unmatched"}
    assert label_values(after, REQUESTS, "method") <= {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "other",
    }
    unmatched = value(after, REQUESTS, method="GET", route="unmatched", status="404")
    assert unmatched - value(before, REQUESTS, method="GET", route="unmatched", status="404") == 200
    assert (
        value(after, REQUESTS, method="other", route="unmatched", status="404")
        - value(before, REQUESTS, method="other", route="unmatched", status="404")
        == 20
    )


def test_a_failing_request_is_counted_with_its_status(
    client: TestClient, scraper: TestClient
) -> None:
    before = scrape(scraper)
    assert_problem(client.get("/api/v1/me"), 401, "unauthenticated")
    after = scrape(scraper)

    labels = {"method": "GET", "route": "/api/v1/me", "status": "401"}
    assert value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels) == 1


def test_the_connection_pool_shows_what_is_checked_out(app: FastAPI, scraper: TestClient) -> None:
    pool = app.state.engine.pool
    idle = scrape(scraper)
    with app.state.engine.connect(), app.state.engine.connect():
        busy = scrape(scraper)

    assert value(busy, "coterie_db_pool_size") == pool.size()
    assert (
        value(busy, "coterie_db_pool_checked_out") == value(idle, "coterie_db_pool_checked_out") + 2
    )
    assert value(busy, "coterie_db_pool_overflow") >= 0


def test_process_metrics_are_exported(scraper: TestClient) -> None:
    samples = scrape(scraper)

    assert value(samples, "process_resident_memory_bytes") > 10_000_000
    assert value(samples, "process_open_fds") > 0
    assert "python_info" in {name for name, _ in samples}


def test_requests_in_flight_counts_the_scrape_itself(scraper: TestClient) -> None:
    assert value(scrape(scraper), "coterie_http_requests_in_flight") == 1


def test_the_job_queue_depth_is_what_waits_for_a_worker(
    scraper: TestClient, sqlite_queue: Jobs
) -> None:
    empty = scrape(scraper)
    queue_jobs(sqlite_queue, 7)
    waiting = scrape(scraper)

    assert value(empty, "coterie_job_queue_depth") == 0
    assert value(waiting, "coterie_job_queue_depth") == 7
    assert value(waiting, "coterie_dependency_up", dependency="job_queue") == 1


def test_a_queue_that_does_not_answer_is_reported_and_the_scrape_still_answers(
    scraper: TestClient, unreachable_queue: Jobs
) -> None:
    samples = scrape(scraper)

    assert ("coterie_job_queue_depth", frozenset()) not in samples
    assert value(samples, "coterie_dependency_up", dependency="job_queue") == 0
    assert value(samples, "coterie_dependency_up", dependency="database") == 1


def test_without_a_token_only_direct_loopback_requests_may_scrape(
    client: TestClient, scraper: TestClient
) -> None:
    remote = client.get("/metrics")  # the test client's address is not a loopback one
    proxied = scraper.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    forwarded = scraper.get("/metrics", headers={"Forwarded": "for=203.0.113.9"})

    for refused in (remote, proxied, forwarded):
        body = assert_problem(refused, 403, "forbidden")
        assert "COTERIE_METRICS_TOKEN" in body["detail"]
    assert "coterie_http_requests_total" in scrape_text(scraper)


def test_with_a_token_every_scrape_must_bring_it(
    client: TestClient, scraper: TestClient, settings: Settings
) -> None:
    settings.metrics_token = Settings(metrics_token="scrape-me-0123456789").metrics_token

    missing = scraper.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-012345678"})
    basic = client.get("/metrics", headers={"Authorization": "Basic scrape-me-0123456789"})
    remote = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"})

    for refused in (missing, wrong, basic):
        assert_problem(refused, 401, "unauthenticated")
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert remote.status_code == 200
    assert "coterie_http_request_duration_seconds_bucket" in remote.text


def test_metrics_are_not_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert "/metrics" not in paths
    assert {"/readyz", "/livez", "/healthz"} <= set(paths)


def test_openmetrics_is_served_when_asked_for(scraper: TestClient) -> None:
    response = scraper.get("/metrics", headers={"Accept": "application/openmetrics-text"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
