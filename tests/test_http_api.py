"""The HTTP API beside the chat, on a real server: REST endpoints with a real HTTP
client (httpx) and the OpenAI-compatible endpoint with the `openai` Python client."""

import shutil

import httpx
import pytest
from conftest import require
from servers import free_port

from assistant import Assistant

require("gradio")
from assistant.ui.app import launch  # noqa: E402
from assistant.ui.login import LoginThrottle, parse_logins  # noqa: E402

COMMUNE = "کتنے لوگ کمیون کی سطح پر کام کرتے ہیں؟"
TOKEN = "tool-token-123"


def _start(assistant, tmp_path_factory, **settings):
    index = tmp_path_factory.mktemp("api-index")
    shutil.copytree(assistant.settings.index_dir, index, dirs_exist_ok=True)
    port = free_port()
    served = Assistant(assistant.settings, index_dir=index, chat_port=port, **settings)
    login = None
    if served.settings.chat_auth:
        login = LoginThrottle(parse_logins(served.settings.chat_auth), failure_pause=0)
    app = launch(served, block=False, login=login)
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
        health = http.get("api/health").json()
        assert health["status"] == "ok" and health["reports"] == 5 and health["chunks"] > 100
        answer = http.post("api/ask", json={"question": COMMUNE}).json()
        assert answer["answer"] == "2،334" and answer["citations"][0]["doc_id"] == "000_63192892e5e1be8e.txt"
        previous = ["پورے صوبے میں اس وقت کتنے کیڈرز، سرکاری ملازمین ہیں؟"]
        follow = http.post("api/ask", json={"question": "اور کمیون کی سطح پر کتنے؟", "previous_questions": previous})
        assert follow.json()["answer"] == "2،334" and "کیڈرز" in follow.json()["standalone_question"]
        for bad in ({"question": "😀"}, {"question": 5}, {"question": COMMUNE, "previous_questions": [None]}, [1]):
            response = http.post("api/ask", json=bad)
            assert response.status_code == 400 and response.json()["error"] == "InvalidQuestionError", bad
        assert http.post("api/ask", content=b"not json").status_code == 400
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
        assert http.get("api/health").status_code == 401
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
            assert http.post("api/ingest", json=bad, headers=bearer).status_code == 400, bad
        assert (
            http.post("api/ask", json={"question": COMMUNE}, headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        done = http.post("api/ingest", json={}, headers=bearer).json()
        assert done["unchanged"] == 5 and done["chunks"] > 100 and "5 unchanged" in done["summary"]
