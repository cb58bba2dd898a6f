"""A stand-in for an LLM server, named as such: a real HTTP server speaking the
OpenAI chat-completions protocol (models list, plain and streamed completions) that
replies with whatever text the test chose. It lets the tests drive the LLM answerer's
grounding paths (a grounded answer, an invented figure, a marker pointing nowhere, an
answer that obeys a planted instruction) through the real `langchain-openai` client,
which the small real model cannot be made to produce on demand."""

import http.server
import json
import threading

MODEL = "scripted-stand-in"


class ScriptedLLM:
    def __init__(self) -> None:
        self.reply = ""
        self.requests: list[dict] = []
        server = self
        handler = type("Handler", (_Handler,), {"scripted": server})
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def prompt(self) -> str:
        """Everything the last request showed the model."""
        return "\n".join(m["content"] for m in self.requests[-1]["messages"])

    def close(self) -> None:
        self._httpd.shutdown()


class _Handler(http.server.BaseHTTPRequestHandler):
    scripted: ScriptedLLM

    def do_GET(self):  # noqa: N802 - http.server's name
        self._json({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.scripted.requests.append(body)
        text = self.scripted.reply
        base = {"id": "chatcmpl-1", "created": 0, "model": MODEL}
        if not body.get("stream"):
            self._json({**base, "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})  # fmt: skip
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
        for piece in pieces:
            chunk = {**base, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}  # fmt: skip
            self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
        done = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

    def _json(self, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
