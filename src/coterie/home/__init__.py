"""The home page: a signed-in user's workspace (pipeline with partners, what waits for them,
recent activity, partner health), assembled from the domains below it, each read as the user."""
