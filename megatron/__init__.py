"""Megatron: analytics warehouse for Solana memecoin trading."""

__version__ = "0.1.0"
