"""The "Nominate a solution" step of the home page's Get Started panel: shown when the user's
company takes part in a program the user sees, done when the user may see an idea their company
proposed. It links to the "Propose an idea" dialog of that program's page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from coterie.auth.principal import Actor
from coterie.cosell.ideas import visibility
from coterie.models.ideas import Idea
from coterie.network.get_started import Step


def nominate_step(session: Session, actor: Actor) -> Step | None:
    principal = actor.principal
    program_id = session.scalar(visibility.programs_i_am_in(principal).limit(1))
    if program_id is None:
        return None
    proposed = session.scalar(
        visibility.visible_ideas(principal)
        .with_only_columns(Idea.id)
        .where(Idea.proposer_company_id == principal.company_id)
        .limit(1)
    )
    return Step(
        "nominate",
        "Nominate a solution",
        "Propose a joint solution or a campaign to a program you take part in.",
        f"/programs/{program_id}#propose-idea",
        "Propose an idea",
        proposed is not None,
    )
