"""Test setup: eight XLA CPU devices (set before jax is first imported), shared paths and fixtures."""

import os

os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=8".strip()
os.environ["JAX_PLATFORMS"] = "cpu"
# The oracles come from transformers; nothing may reach for the Hugging Face hub.
os.environ["HF_HUB_OFFLINE"] = "1"
