"""The deliveries settings tab: an admin sees what could not be delivered and sends it again."""

from __future__ import annotations

import socket

from coterie.config import Settings
from tests.fixtures.smtp import Inbox
from tests.web.conftest import Browser
from tests.web.html import parse


def test_an_admin_sends_a_dead_invitation_again_from_the_settings_page(
    browser: Browser, inbox: Inbox, settings: Settings
) -> None:
    browser.signup("Tab Co")
    assert (
        "Every e-mail to your company's people was delivered."
        in browser.page("/settings/deliveries").text
    )
    smtp_port = settings.smtp_port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.smtp_port = probe.getsockname()[1]
    settings.outbox_max_attempts = 1
    invited = browser.submit(
        "/settings/users", "/settings/invitations", {"email": "bounced@tab.example"}
    )
    assert invited.status_code == 200

    page = browser.page("/settings/deliveries")
    text = page.text
    assert "Invitation to join the company" in text
    assert "bounced@tab.example" in text
    assert "Gave up" in text
    assert "Join Tab Co" not in text  # the message itself is never shown

    settings.smtp_port = smtp_port
    (retry,) = [form.action for form in page.forms() if form.action.endswith("/retry")]
    sent = browser.submit("/settings/deliveries", retry)

    assert "Sent again" in parse(sent.text).text
    assert "Join Tab Co" in str(inbox.wait_for("bounced@tab.example")["Subject"])
    assert "Every e-mail" in browser.page("/settings/deliveries").text
