"""Authentication: passwords, bearer tokens, web sessions, CSRF, throttling, password reset."""
