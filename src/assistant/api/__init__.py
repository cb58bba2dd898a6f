"""The HTTP API: REST routes and OpenAI-compatible routes on FastAPI (`routes.py`),
pydantic models for every request and reply (`models.py`), access as dependencies
(`access.py`), one handler per kind of failure (`errors.py`). `server.py` builds the
application that serves it beside the chat."""

from .access import Access, TokenThrottle
from .routes import MODEL, sources_text

__all__ = ["MODEL", "Access", "TokenThrottle", "sources_text"]
