"""The token-authenticated JSON API for banks' systems (RFC 9457 problem responses)."""
