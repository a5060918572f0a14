"""The network: companies and their profiles, the directory, partnerships, members, invitations."""
