"""The bank side: teller verification page, account cases, API keys and the JSON API."""
