"""Work the server does between requests: finishing jobs, delivering webhooks."""
