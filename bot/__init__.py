"""SpeakUp composition root and process runners: settings, CLI, bot, notifier, admin API."""
