"""One person's chat session, held in one `gr.State`: the open conversation, what each
answer bubble stands for, and the answer whose 👎 is being explained.

Gradio hands every event of a session the same object, so handlers change it in place,
each only its own part: an answer still streaming and a 👎 clicked meanwhile cannot undo
each other's change. Opening a conversation (or a new chat) counts a new `view`: an
answer that was streaming into the one shown before is saved there, and shown nowhere
else."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bubble:
    """One answer bubble: the standalone question it answered (None for a failure) and
    its saved turn (None when nothing was saved)."""

    standalone: str | None = None
    turn_id: int | None = None


@dataclass
class Session:
    conversation_id: str | None = None
    bubbles: list[Bubble] = field(default_factory=list)
    explaining: int | None = None  # the turn whose 👎 the feedback box is about
    view: int = 0  # counts the conversations opened in this session

    def earlier(self, keep: int) -> list[str]:
        """The conversation's last `keep` standalone questions, oldest first: what a follow-up is read against."""
        asked = [b.standalone for b in self.bubbles if b.standalone is not None]
        return asked[-keep:] if keep else []

    def answered(self, bubble: Bubble, conversation_id: str | None) -> None:
        self.conversation_id = conversation_id
        self.bubbles.append(bubble)

    def opened(self, conversation_id: str | None, bubbles: list[Bubble]) -> None:
        """A conversation opened (None and no bubbles: a new, empty chat)."""
        self.conversation_id, self.bubbles, self.explaining = conversation_id, bubbles, None
        self.view += 1

    def turn_at(self, history: list[dict], index: int) -> int | None:
        """The saved turn of the chat message at `index` (None for a question, a failure
        or an answer not saved)."""
        if not 0 <= index < len(history) or history[index].get("role") != "assistant":
            return None
        ordinal = sum(1 for m in history[:index] if m.get("role") == "assistant")
        return self.bubbles[ordinal].turn_id if ordinal < len(self.bubbles) else None
