"""Security of the web layer: headers, login rate limit, CSRF on forms, session cookie flags."""

import re

from web import create_app


def test_security_headers_on_pages_and_api(client, users):
    for path in ("/login", "/api/v1/openapi.json"):
        answer = client.get(path)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]


def test_login_is_rate_limited_per_account(client, users):
    email = users["manager"].user.email
    for _ in range(5):
        assert client.post("/login", data={"email": email, "password": "wrong"}).status_code == 401
    blocked = client.post("/login", data={"email": email, "password": "correct horse"})
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.get_data(as_text=True)
    # Another account from another address is not blocked.
    other = users["analyst"].user.email
    answer = client.post(
        "/login", data={"email": other, "password": "correct horse"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert answer.status_code == 302


def test_forms_need_a_csrf_token_and_the_session_cookie_is_protected(database_url, clock, users):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "EMBEDDED_WORKER": False,
            "CLOCK": clock,
            "SECRET_KEY": "test",
            "SESSION_COOKIE_SECURE": True,
        }
    )
    client = app.test_client()
    email = users["manager"].user.email
    refused = client.post("/login", data={"email": email, "password": "correct horse"})
    assert refused.status_code == 400  # no CSRF token
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post("/login", data={"email": email, "password": "correct horse", "csrf_token": token})
    assert accepted.status_code == 302
    cookie = accepted.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    # The API with the session cookie is a form too: without the CSRF header it is refused.
    assert client.post("/api/v1/dossiers", json={"reference": "X"}).status_code == 400
    with app.app_context():
        from web.extensions import db

        db.engine.dispose()


def test_a_token_s_last_use_is_kept_and_reading_then_writes_nothing(app, client, users, session, clock):
    from sqlalchemy import event, select

    from kernel.accounts import ApiToken
    from web.extensions import db

    manager = users["manager"]
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql))
    assert client.get("/api/v1/dossiers", headers=manager.headers).status_code == 200
    session.remove()
    stored = session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == manager.user.id))
    assert stored == clock.now()  # kept, although the request wrote nothing else
    statements.clear()
    clock.advance(minutes=30)
    assert client.get("/api/v1/dossiers", headers=manager.headers).status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))], statements
    clock.advance(minutes=31)  # more than an hour after the last use kept: kept again
    assert client.get("/api/v1/dossiers", headers=manager.headers).status_code == 200
    session.remove()
    stored = session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == manager.user.id))
    assert stored == clock.now()
