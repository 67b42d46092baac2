"""`caprural preview`: one email of every kind, readable before they go out."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import get_args

from services.notifications.emails.preview import main, write_previews
from shared.contract.notifications import EmailKind
from tests.notifications.wellformed import assert_well_formed


def test_the_preview_writes_every_kind_as_eml_html_and_text(tmp_path):
    paths = write_previews(tmp_path)
    kinds = get_args(EmailKind)
    names = {p.name for p in paths}
    for kind in kinds:
        assert {f"{kind}.eml", f"{kind}.html", f"{kind}.txt"} <= names
        message = message_from_bytes((tmp_path / f"{kind}.eml").read_bytes(), policy=policy.default)
        assert message["Subject"]
        assert_well_formed((tmp_path / f"{kind}.html").read_text(encoding="utf-8"))
    assert {p.name for p in paths if p.suffix == ".ics"} == {
        "session_invitation.ics",
        "session_update.ics",
        "session_cancellation.ics",
        "signup_confirmation.ics",
        "signup_promotion.ics",
        "expert_confirmation.ics",
    }


def test_the_preview_command_needs_a_folder(tmp_path, capsys):
    assert main([]) == 2
    assert main([str(tmp_path / "out")]) == 0
    kinds, invitations = len(get_args(EmailKind)), 6  # .eml .html .txt each; the .ics
    assert f"wrote {3 * kinds + invitations} files" in capsys.readouterr().out
