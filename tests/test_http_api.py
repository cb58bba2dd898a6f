"""The HTTP API beside the chat, on a real server: REST endpoints with a real HTTP
client (httpx) and the OpenAI-compatible endpoint with the `openai` Python client."""

import json
import shutil
import time

import httpx
import pytest
from conftest import require
from servers import free_port

from assistant import Assistant

require("gradio")
from assistant.api import TokenThrottle  # noqa: E402
from assistant.server import serve  # noqa: E402
from assistant.ui.login import LoginThrottle  # noqa: E402
from assistant.users import Logins, parse_logins  # noqa: E402

COMMUNE = "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟"
TOKEN = "tool-token-123"


def _start(assistant, tmp_path_factory, tokens=None, **settings):
    index = tmp_path_factory.mktemp("api-index")
    shutil.copytree(assistant.settings.index_dir, index, dirs_exist_ok=True)
    port = free_port()
    served = Assistant(assistant.settings, index_dir=index, chat_port=port, **settings)
    login = None
    if served.settings.chat_auth:
        login = LoginThrottle(Logins(parse_logins(served.settings.chat_auth)), failure_pause=0)
    app = serve(served, block=False, login=login, tokens=tokens)
    return app, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def open_url(assistant, tmp_path_factory):
    app, url = _start(assistant, tmp_path_factory)
    yield url
    app.close()


@pytest.fixture(scope="module")
def guarded_url(assistant, tmp_path_factory):
    app, url = _start(assistant, tmp_path_factory, chat_auth="staff:right-horse", api_token=TOKEN)
    yield url
    app.close()


def test_rest_health_and_ask(open_url):
    with httpx.Client(base_url=open_url, timeout=60) as http:
        assert http.get("api/health").json() == {"status": "ok"}
        assert len(http.get("api/reports").json()["reports"]) == 5
        answer = http.post("api/ask", json={"question": COMMUNE}).json()
        assert answer["answer"] == "2،334" and answer["citations"][0]["doc_id"] == "000_63192892e5e1be8e.txt"
        previous = ["پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"]
        follow = http.post("api/ask", json={"question": "اور کمیون کی سطح پر کتنے؟", "previous_questions": previous})
        assert follow.json()["answer"] == "2،334" and "کیڈرز" in follow.json()["standalone_question"]
        emoji = http.post("api/ask", json={"question": "😀"})  # the right shape, but no question in it
        assert emoji.status_code == 400 and emoji.json()["error"] == "InvalidQuestionError", emoji.text
        for bad, field in (({"question": 5}, "body.question"), ({"question": COMMUNE, "previous_questions": [None]},
                           "body.previous_questions.0"), ([1], "body"), ({}, "body.question")):  # fmt: skip
            response = http.post("api/ask", json=bad)  # the wrong shape: 422, naming the field
            assert response.status_code == 422 and response.json()["error"] == "InvalidRequest", bad
            assert field in [f["field"] for f in response.json()["fields"]], response.text
        untyped = http.post("api/ask", content=b'{"question": "x"}')  # JSON, but not said to be (curl -d)
        assert untyped.status_code == 422 and "Content-Type: application/json" in untyped.json()["message"]
        refused = http.post("api/ingest", json={})
        assert refused.status_code == 503 and "api_token" in refused.json()["message"]


def test_openai_client_gets_answers_with_citations(open_url):
    from openai import OpenAI

    client = OpenAI(base_url=f"{open_url}v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["report-assistant"]
    reply = client.chat.completions.create(model="report-assistant", messages=[{"role": "user", "content": COMMUNE}])
    text = reply.choices[0].message.content
    assert text.startswith("2،334") and "حوالہ جات:" in text and "[1]" in text
    assert reply.model_extra["citations"][0]["doc_id"] == "000_63192892e5e1be8e.txt"
    stream = client.chat.completions.create(
        model="report-assistant", stream=True,
        messages=[{"role": "user", "content": "پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"},
                  {"role": "assistant", "content": "17,418"},
                  {"role": "user", "content": "اور کمیون کی سطح پر کتنے؟"}],
    )  # fmt: skip
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed.startswith("2،334") and len(chunks) > 2
    assert chunks[-1].model_extra["citations"] and chunks[-1].choices[0].finish_reason == "stop"


def test_login_rules_apply_to_the_api(guarded_url):
    with httpx.Client(base_url=guarded_url, timeout=60) as http:
        assert http.post("api/ask", json={"question": COMMUNE}).status_code == 401
        assert http.get("api/reports").status_code == 401
        assert http.get("api/health").json() == {"status": "ok"}  # a load balancer's probe has no login
        assert http.post("api/ask", json={"question": COMMUNE}, auth=("staff", "wrong")).status_code == 401
        assert (
            http.post("api/ask", json={"question": COMMUNE}, auth=("staff", "right-horse")).json()["answer"] == "2،334"
        )
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert http.post("api/ask", json={"question": COMMUNE}, headers=bearer).json()["answer"] == "2،334"
        assert http.post("api/ingest", json={}, auth=("staff", "right-horse")).status_code == 403  # admin: token only
        outside = http.post("api/ingest", json={"paths": ["../../etc"]}, headers=bearer)
        assert outside.status_code == 400 and "outside the corpus folder" in outside.json()["message"]
        for bad in ({"rebuild": "false"}, {"paths": "2025"}):
            assert http.post("api/ingest", json=bad, headers=bearer).status_code == 422, bad
        assert (
            http.post("api/ask", json={"question": COMMUNE}, headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        done = http.post("api/ingest", json={}, headers=bearer).json()
        assert done["unchanged"] == 5 and done["chunks"] > 100 and "5 unchanged" in done["summary"]


def test_ingest_paths_are_checked_and_errors_show_no_server_path(guarded_url, tmp_path_factory):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=guarded_url, timeout=60) as http:
        nul = http.post("api/ingest", json={"paths": ["2025\x00.txt"]}, headers=bearer)
        assert nul.status_code == 400 and "NUL character" in nul.json()["message"], nul.text
        missing = http.post("api/ingest", json={"paths": ["no-such-folder"]}, headers=bearer)
        message = missing.json()["message"]
        assert missing.status_code == 400 and "no-such-folder" in message, missing.text
        server_paths = {str(tmp_path_factory.getbasetemp()), "/tmp", "/home", "/work"}
        assert not any(p in message for p in server_paths) and not message.count("/"), message


def _raw_post(url: str, path: str, head: bytes, body: bytes = b"") -> bytes:
    """A POST written byte by byte on a socket: what arrives before the server answers."""
    import socket
    from urllib.parse import urlparse

    where = urlparse(url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(f"POST /{path} HTTP/1.1\r\nHost: {where.hostname}\r\n".encode() + head + b"\r\n" + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
            if b"\r\n\r\n" in reply and b"}" in reply:
                break
        return reply


def test_a_large_body_is_refused_before_it_is_read(open_url):
    """100 MB declared, 10 bytes sent: the 413 comes at once, so nothing was waiting for
    (or holding) the rest; a body without a declared length is read only up to the limit."""
    for path in ("api/ask", "v1/chat/completions"):
        started = time.perf_counter()
        reply = _raw_post(open_url, path, b"Content-Type: application/json\r\nContent-Length: 100000000\r\n",
                          b'{"question"')  # fmt: skip
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b"RequestTooLarge" in reply and b"api_max_body_bytes" in reply and b"Traceback" not in reply
        assert time.perf_counter() - started < 5
    with httpx.Client(base_url=open_url, timeout=60) as http:
        question = json.dumps({"question": COMMUNE, "padding": "x" * 1_100_000}).encode()
        chunked = http.post("api/ask", content=iter([question[i : i + 65536] for i in range(0, len(question), 65536)]))
        assert chunked.status_code == 413 and chunked.json()["error"] == "RequestTooLarge"
        assert http.post("api/ask", json={"question": COMMUNE, "padding": "x" * 900_000}).json()["answer"] == "2،334"


def test_questions_are_limited_and_checked_before_any_work(open_url):
    with httpx.Client(base_url=open_url, timeout=60) as http:

        def refused(path: str, payload: dict, says: str, status: int = 400) -> None:
            started = time.perf_counter()
            response = http.post(path, json=payload)
            assert response.status_code == status, (payload, response.text[:300])
            assert says in response.json()["message"] and "Traceback" not in response.text, response.text[:300]
            assert time.perf_counter() - started < 2, payload  # refused before any search or rewrite

        big = "how many " * 100_000  # 900,000 characters, under the body limit
        refused("api/ask", {"question": big}, "the limit is 2,000")
        refused("api/ask", {"question": COMMUNE, "previous_questions": [big]}, "previous question 1 is 900,000")
        refused("api/ask", {"question": COMMUNE, "previous_questions": ["کتنے؟"] * 21}, "holds 21 questions")
        refused("api/ask", {"question": "کتنے\x00 لوگ"}, "NUL character", 422)
        refused("api/ask", {"question": COMMUNE, "previous_questions": ["کیڈرز\x00"]}, "NUL character", 422)
        refused("v1/chat/completions", {"messages": [{"role": "user", "content": "کتنے\x00 لوگ"}]}, "NUL character",
                422)  # fmt: skip
        refused("v1/chat/completions", {"messages": [{"role": "user", "content": big}]}, "the limit is 2,000")
        json_type = {"Content-Type": "application/json"}
        deep = http.post("api/ask", content=b"[" * 100_000 + b"]" * 100_000, headers=json_type)
        assert deep.status_code == 400 and "nested too deeply" in deep.json()["message"], deep.text[:300]
        deep = http.post("v1/chat/completions", content=b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                         headers=json_type)  # fmt: skip
        assert deep.status_code == 400 and "nested too deeply" in deep.json()["message"], deep.text[:300]
        long_chat = [{"role": "user", "content": q} for q in [f"سوال {n}؟" for n in range(40)] + [COMMUNE]]
        reply = http.post("v1/chat/completions", json={"messages": long_chat})  # a front-end's whole history
        assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"].startswith("2،334")


@pytest.fixture(scope="module")
def throttled(assistant, tmp_path_factory):
    tokens = TokenThrottle(free_failures=3, lock_seconds=60, failures_per_second=0.05, burst=5, pause=0)
    app, url = _start(assistant, tmp_path_factory, tokens=tokens, chat_auth="staff:right-horse", api_token=TOKEN)
    yield url
    app.close()


def _from(address: str, url: str) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x.y.z reaches the loopback server)."""
    return httpx.Client(base_url=url, timeout=60, transport=httpx.HTTPTransport(local_address=address))


def test_wrong_tokens_lock_their_source_and_are_limited_server_wide(throttled, caplog):
    """Guessing from one address locks it out; guessing from many runs the server-wide
    budget dry; the right token from an address that has not failed keeps working."""
    import logging

    caplog.set_level(logging.WARNING, logger="assistant.api.access")

    def ask(client: httpx.Client, token: str) -> int:
        return client.get("api/reports", headers={"Authorization": f"Bearer {token}"}).status_code

    with _from("127.0.0.2", throttled) as a, _from("127.0.0.3", throttled) as b, _from("127.0.0.4", throttled) as c, \
            _from("127.0.0.1", throttled) as staff:  # fmt: skip
        assert ask(staff, TOKEN) == 200
        assert [ask(a, f"guess-{n}") for n in range(4)] == [401, 401, 401, 429]  # locked after 3
        locked = a.get("api/reports", headers={"Authorization": f"Bearer {TOKEN}"})
        assert locked.status_code == 429 and "this address" in locked.json()["message"]  # not even checked
        assert int(locked.headers["Retry-After"]) > 30
        assert ask(staff, TOKEN) == 200  # another address is not locked
        assert [ask(b, f"guess-b{n}") for n in range(3)] == [401, 401, 429]  # 5 failures server-wide: dry
        dry = b.get("api/reports", headers={"Authorization": f"Bearer {TOKEN}"})
        assert dry.status_code == 429 and "on this server" in dry.json()["message"]
        assert [ask(c, "guess-c"), ask(c, "guess-c2")] == [401, 429]  # a fresh address: one check, then none
        assert ask(staff, TOKEN) == 200  # an address that has not failed still gets in
        assert staff.get("api/reports", auth=("staff", "right-horse")).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.api.access"]
    assert sum("127.0.0.2 locked" in line for line in lines) == 1, lines
    assert sum("server-wide limit" in line for line in lines) == 1, lines
    assert not any("guess" in line or TOKEN in line for line in lines), lines


def test_the_openai_text_reply_names_the_page_or_paragraph_not_offsets():
    from assistant.answers import Answer, Citation
    from assistant.api import sources_text

    def cited(language: str, location: str | None) -> str:
        citation = Citation(number=1, doc_id="r.pdf", title="رپورٹ", file="r.pdf", source_url=None,
                            quote="17,418 کیڈرز", start=120, end=134, location=location)  # fmt: skip
        return sources_text(Answer(question="q", language=language, answer="17,418", citations=[citation]))

    assert "[1] رپورٹ — r.pdf, صفحہ 2" in cited("ur", "page 2") and "120" not in cited("ur", "page 2")
    assert "[1] رپورٹ — r.pdf, page 2" in cited("en", "page 2")
    assert "[1] رپورٹ — r.pdf\n" in cited("en", None)  # no location: the file alone
    assert "— r.pdf, اخراجات ¶ 2" in cited("ur", "اخراجات ¶ 2")


def test_the_api_is_documented_at_docs(open_url):
    """FastAPI publishes the routes and their pydantic models: a tool can be written from /docs alone."""
    with httpx.Client(base_url=open_url, timeout=60) as http:
        assert http.get("docs").status_code == 200 and "swagger" in http.get("docs").text.lower()
        spec = http.get("openapi.json").json()
    assert {"/api/ask", "/api/ingest", "/api/reports", "/api/reports/{doc_id}", "/v1/chat/completions"} <= set(
        spec["paths"]
    )
    ask = spec["paths"]["/api/ask"]["post"]
    assert ask["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskRequest")
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AskReply")
    assert "citations" in spec["components"]["schemas"]["AskReply"]["properties"]
    assert "422" in ask["responses"] and "401" in ask["responses"]


def test_unknown_routes_and_methods_answer_in_the_apis_shape(open_url):
    """The chat is mounted at /, yet a wrong path or method under /api and /v1 is the API's
    404 or 405, not the chat's page or Gradio's error."""
    with httpx.Client(base_url=open_url, timeout=60) as http:
        wrong_method = http.get("api/ask")
        assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
        assert wrong_method.json()["error"] == "MethodNotAllowed"
        unknown = http.post("v1/embeddings", json={})
        assert unknown.status_code == 404 and "/docs" in unknown.json()["message"]


def test_the_docs_page_needs_no_network_and_follows_the_login_rules(open_url, guarded_url):
    with httpx.Client(base_url=open_url, timeout=60) as http:
        page = http.get("docs").text
        assert "cdn." not in page and "googleapis" not in page and "/docs/assets/swagger-ui-bundle.js" in page
        assert http.get("docs/assets/swagger-ui-bundle.js").status_code == 200
    with httpx.Client(base_url=guarded_url, timeout=60) as http:
        assert http.get("docs").status_code == 401 and http.get("openapi.json").status_code == 401
        assert http.get("openapi.json", auth=("staff", "right-horse")).json()["info"]["title"] == "Report assistant"
