"""Strand JAX runtime."""
