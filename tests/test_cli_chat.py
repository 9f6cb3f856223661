"""`tagih chat`: a person holds a conversation with the running bot from the terminal."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.mark.rasa
def test_chat_in_the_terminal_with_numbered_buttons(live_stack, sender, monkeypatch, capsys):
    typed = iter(["halo kak", "1", ""])  # greet, then press the first button ("Cek tagihan"), then stop
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    assert main(["chat", "--url", live_stack.app_url, "--sender", sender]) == 0
    out = capsys.readouterr().out
    assert "bot: Halo" in out and "[1] Cek tagihan" in out
    # the number sent the button's payload: the bot asks for the account number, as for the button
    assert "nomor kontrak" in out.split("[1] Cek tagihan", 1)[1]


def test_chat_says_when_the_bot_is_not_running(monkeypatch, capsys):
    typed = iter(["halo"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    assert main(["chat", "--url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach the bot" in capsys.readouterr().err
