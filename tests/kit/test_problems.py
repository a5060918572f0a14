"""RFC 9457 problem documents: the one error shape of the API."""

from __future__ import annotations

from coterie.kit.problems import Problem, conflict, forbidden, invalid, not_found


def test_a_problem_document_has_the_rfc_9457_members() -> None:
    problem = Problem(409, "email-taken", "Conflict", "ada@acme.example already has an account.")

    assert problem.body(instance="/api/v1/signup") == {
        "type": "/problems/email-taken",
        "title": "Conflict",
        "status": 409,
        "detail": "ada@acme.example already has an account.",
        "instance": "/api/v1/signup",
    }


def test_the_detail_defaults_to_the_title_and_instance_is_optional() -> None:
    body = Problem(404, "not-found", "Not found").body()

    assert body == {
        "type": "/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Not found",
    }


def test_errors_headers_and_extension_members() -> None:
    problem = Problem(
        429,
        "too-many-login-attempts",
        "Too many login attempts",
        "Try later.",
        headers={"Retry-After": "900"},
        retry_after_seconds=900,
    )

    assert problem.headers == {"Retry-After": "900"}
    assert problem.body()["retry_after_seconds"] == 900
    assert "errors" not in problem.body()
    assert str(problem) == "Try later."


def test_invalid_names_the_field_path_like_the_framework_does() -> None:
    problem = invalid("body.user.password", "must be at least 10 characters", "weak-password")

    assert problem.status == 422
    assert problem.body() == {
        "type": "/problems/weak-password",
        "title": "Invalid request",
        "status": 422,
        "detail": "body.user.password: must be at least 10 characters",
        "errors": [
            {
                "path": "body.user.password",
                "message": "must be at least 10 characters",
                "type": "weak-password",
            }
        ],
    }


def test_the_shortcuts_carry_their_status_and_type() -> None:
    assert (not_found("company").status, not_found("company").slug) == (404, "not-found")
    assert "company" in not_found("company").detail
    assert (forbidden("no").status, forbidden("no").slug) == (403, "forbidden")
    assert (conflict("x-taken", "taken").status, conflict("x-taken", "taken").slug) == (
        409,
        "x-taken",
    )
