"""The signed-in person's own pages: log in and out, sign up a company, reset a password, API
tokens and preferences. The use cases are `coterie.auth` (and `coterie.network.signup`); these
pages sit above them with the other domains' pages, on the web toolkit (`coterie.web`)."""
