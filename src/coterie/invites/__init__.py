"""Inviting anyone by e-mail: someone not yet on the network is invited onto a partnership or a
shared record, receives a signed, expiring, single-use link, signs up their company and lands on
the invitation (the network's growth loop)."""
