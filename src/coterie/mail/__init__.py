"""Outgoing e-mail: composed in `messages`, sent after commit by `delivery`."""
