"""The e-mails Coterie sends, as plain text with a simple HTML alternative."""

from __future__ import annotations

from html import escape

from coterie.kit.words import possessive
from coterie.mail.delivery import OutgoingMail


def _html(paragraphs: list[str], link: str, label: str, footer: str = "") -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    small = f'<p style="color:#666;font-size:small">{escape(footer)}</p>' if footer else ""
    return (
        f'<html><body style="font-family:sans-serif">{body}'
        f'<p><a href="{escape(link)}">{escape(label)}</a></p>{small}</body></html>'
    )


def invitation(
    to: str, company_name: str, inviter_name: str, link: str, ttl_hours: int
) -> OutgoingMail:
    lines = [
        f"{inviter_name} invited you to join {company_name} on Coterie.",
        f"Accept the invitation within {ttl_hours} hours by opening this link:",
    ]
    text = "\n\n".join([*lines, link, "If you did not expect this, ignore this message."])
    return OutgoingMail(
        to=to,
        subject=f"Join {company_name} on Coterie",
        text=text,
        html=_html(lines, link, "Accept the invitation"),
    )


def password_reset(to: str, name: str, link: str, ttl_minutes: int) -> OutgoingMail:
    lines = [
        f"Hello {name},",
        f"someone asked to reset your Coterie password. The link works once, for {ttl_minutes} "
        "minutes:",
    ]
    text = "\n\n".join([*lines, link, "If it was not you, ignore this message: nothing changes."])
    return OutgoingMail(
        to=to,
        subject="Reset your Coterie password",
        text=text,
        html=_html(lines, link, "Choose a new password"),
    )


def company_export_ready(
    to: str, name: str, company_name: str, link: str, expires: str, size: str
) -> OutgoingMail:
    lines = [
        f"Hello {name},",
        f"the export of {possessive(company_name)} data you asked for is ready ({size}, a zip of "
        "JSON and CSV files).",
        f"Download it by {expires} (UTC), signed in as a {company_name} admin; the link stops "
        "working then and the file is deleted:",
    ]
    text = "\n\n".join([*lines, link])
    return OutgoingMail(
        to=to,
        subject=f"Your {company_name} data export is ready",
        text=text,
        html=_html(lines, link, "Download the export"),
    )


def network_invite(
    to: str,
    name: str,
    inviter_name: str,
    inviter_company: str,
    what: str,
    message: str,
    link: str,
    expires: str,
) -> OutgoingMail:
    """Someone not yet on the network is invited to `what` ("partner with Acme", "join the
    opportunity “Data platform” with Acme"): they sign up their company from the link."""
    lines = [
        f"Hello {name},",
        f"{inviter_name} of {inviter_company} invited you to {what} on Coterie, where partner "
        "companies co-sell on shared records and each company keeps its own data private.",
    ]
    if message:
        lines.append(f"{inviter_name}'s message: {message}")
    lines.append(
        f"Put your company on Coterie from this link (it works once, until {expires}); you can "
        "accept or decline afterwards:"
    )
    footer = "If you did not expect this, ignore this message: nothing happens."
    text = "\n\n".join([*lines, link, footer])
    return OutgoingMail(
        to=to,
        subject=f"{inviter_name} ({inviter_company}) invited you to {what} on Coterie",
        text=text,
        html=_html(lines, link, "Join Coterie and see the invitation", footer),
    )
