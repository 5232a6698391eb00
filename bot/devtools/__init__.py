"""Developer tools: the fake Telegram Bot API used by e2e tests and the offline demo."""
