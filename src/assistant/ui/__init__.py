"""The Gradio chat (optional extra: pip install -e '.[chat]')."""
