"""Campaigns and joint-solution links: leads and opportunities attributed to a campaign, records
linked to a solution (`links`), and what a campaign or solution influenced (`influence`), all
read through the gate on both ends of every link."""

from __future__ import annotations

from coterie.cosell.campaigns.influence import Influence, influence, solution_influence

__all__ = ["Influence", "influence", "solution_influence"]
