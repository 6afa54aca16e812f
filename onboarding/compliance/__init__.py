"""Compliance review workspace for banks: queues, case decisions under four-eyes,
screening, policies with backtests, reports, and the safeguarding channel."""
