"""LLM backends as LangChain chat models, chosen by settings: any OpenAI-compatible
endpoint (vLLM, llama.cpp's server, LM Studio, hosted APIs) through `langchain-openai`,
or Ollama through `langchain-ollama`. API keys come only from the environment
(ASSISTANT_LLM_API_KEY, else OPENAI_API_KEY) and are never logged or stored."""

import os

import httpx
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from ..errors import BackendUnavailableError
from ..settings import Settings

INSTALL_HINT = "pip install -e '.[llm]'"


def _api_key() -> str:
    return os.environ.get("ASSISTANT_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY") or "not-needed"


def _unconfigured() -> BackendUnavailableError:
    return BackendUnavailableError("the LLM answerer needs llm_base_url and llm_model (ASSISTANT_LLM_BASE_URL, …)")


def make_chat_model(settings: Settings) -> BaseChatModel:
    if not settings.llm_base_url or not settings.llm_model:
        raise _unconfigured()
    if settings.llm_backend == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise BackendUnavailableError(f"the Ollama backend needs `{INSTALL_HINT}`") from exc
        return ChatOllama(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            temperature=0,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": settings.llm_timeout},
        )
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise BackendUnavailableError(f"the OpenAI-compatible backend needs `{INSTALL_HINT}`") from exc
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=SecretStr(_api_key()),
        temperature=0,
        # the classic `max_tokens`, which vLLM, llama.cpp and LM Studio honour (langchain-openai would
        # send only `max_completion_tokens`, which some OpenAI-compatible servers ignore)
        extra_body={"max_tokens": settings.llm_max_tokens, **settings.llm_extra_body},
        timeout=settings.llm_timeout,
        max_retries=0,  # one attempt per question: no retry storms against a struggling server
    )


def check_server(settings: Settings) -> None:
    """Fail fast with a clear message when the server is down or lacks the model."""
    if not settings.llm_base_url:
        raise _unconfigured()
    base = settings.llm_base_url.rstrip("/")
    ollama = settings.llm_backend == "ollama"
    url = f"{base}/api/tags" if ollama else f"{base}/models"
    headers = {} if ollama else {"Authorization": f"Bearer {_api_key()}"}
    try:
        response = httpx.get(url, headers=headers, timeout=min(10.0, settings.llm_timeout))
    except httpx.HTTPError as exc:
        raise BackendUnavailableError(
            f"cannot reach the LLM server at {settings.llm_base_url} ({type(exc).__name__}); is it running?"
        ) from None
    if response.status_code in (401, 403):
        raise BackendUnavailableError(f"the LLM server at {settings.llm_base_url} refused the API key")
    if response.status_code != 200:
        return  # listing models is optional for OpenAI-compatible servers; the first request will tell
    body = response.json()
    if ollama:
        names = {m.get("name", "") for m in body.get("models", [])}
        names |= {n.removesuffix(":latest") for n in names}
    else:
        names = {m.get("id", "") for m in body.get("data", [])}
    if names and settings.llm_model not in names:
        raise BackendUnavailableError(
            f"the LLM server at {settings.llm_base_url} has no model {settings.llm_model!r}; "
            f"it serves: {', '.join(sorted(names))}"
        )


def backend_error(exc: Exception, settings: Settings) -> BackendUnavailableError:
    """Map a client library's error to one short message."""
    name = type(exc).__name__
    if "Timeout" in name:
        return BackendUnavailableError(
            f"the LLM server at {settings.llm_base_url} timed out after {settings.llm_timeout} s"
        )
    if "NotFound" in name:
        return BackendUnavailableError(f"the LLM server at {settings.llm_base_url} has no model {settings.llm_model!r}")
    if "Connect" in name:
        return BackendUnavailableError(f"cannot reach the LLM server at {settings.llm_base_url}; is it running?")
    return BackendUnavailableError(f"the LLM server at {settings.llm_base_url} failed: {name}")
