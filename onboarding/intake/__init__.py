"""Intake and attestation issuance for NGO caseworkers."""
